//! hark-server: the axum server, its storage, and the `hark` command line.
//!
//! - [`app`]: routes, authentication, `router(state)` and `serve(..)`;
//! - [`sync`]: one sync exchange on the server side;
//! - [`ingest`]: merging uploads and projecting responses (pure);
//! - [`storage`]: the storage trait, SQLite and PostgreSQL;
//! - [`admin`]: areas, enrolment codes, counts, rebuilds;
//! - [`config`]: opening storage from a `--db` URL;
//! - [`report`]: leaders' reports and small-number suppression (pure);
//! - [`users`]: dashboard users, passwords, sign-in;
//! - [`web`]: the dashboard and the leaders' API;
//! - [`cli`]: the `hark` commands.

pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod ingest;
pub mod report;
pub mod storage;
pub mod sync;
pub mod users;
pub mod web;

pub use app::{AppState, router, serve};
pub use error::{Error, Result};
