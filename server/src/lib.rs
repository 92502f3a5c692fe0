//! hark-server: the axum server, its storage, and the `hark` command line.
//!
//! Domain (pure, no I/O): [`model`] (records), [`publication`] (when
//! figures are published), [`projection`] (a
//! response's rows), [`export`] (packed answers and export records), [`tally`] (the counts reports read), [`ingest`]
//! (merging an upload), [`validate`] (checking a merged response against
//! its form), [`report`] (reports and small-number suppression).
//!
//! I/O: [`storage`] (capability traits, SQLite and PostgreSQL), [`sync`]
//! (one exchange), [`admin`] and [`users`] (operations over storage),
//! [`config`] (opening storage from a URL), [`throttle`] (when failed
//! sign-ins lock a name or an address out; pure).
//!
//! HTTP: [`app`] (the route table, `router(state)`, `serve(..)`),
//! [`state`], [`metrics`] (Prometheus, on a listener of its own), [`auth`] (device tokens and session cookies), [`devices`]
//! (the device routes), [`web`] (the leaders' routes and dashboard),
//! [`error`] (the one mapping from internal to public errors).
//!
//! The event hub and practitioner mode (`hark hub`) are the `hark-hub`
//! crate; [`survey`] serves its web form for survey links.
//!
//! [`cli`]: the `hark` commands.

pub mod admin;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod devices;
pub mod error;
pub mod export;
pub mod ingest;
pub mod links;
pub mod metrics;
pub mod model;
pub mod projection;
pub mod publication;
pub mod report;
pub mod simulate;
pub mod state;
pub mod storage;
pub mod survey;
pub mod sync;
pub mod tally;
pub mod throttle;
pub mod users;
pub mod validate;
pub mod web;
pub mod writer;

pub use app::{router, serve};
pub use error::{Error, Result};
pub use state::AppState;
