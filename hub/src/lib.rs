//! `hark hub`: an event hub on the organiser's laptop or tablet. Phones on
//! the hall's hotspot join with a per-event code (shown beside a QR code of
//! the hub's address), answer the area's forms in hark's own web form, and
//! each submission becomes a kiosk response document in the hub's encrypted
//! device store, durable before the phone is thanked. The hub syncs with
//! the server exactly as any enrolled device does.
//!
//! `event.rs` the hub's state (store, event, code, joining); `submit.rs` a
//! phone's submission checked by the core and stored as one document
//! (`submission.rs`, shared with the server's survey links); `pages.rs`
//! the join and organiser pages; `http.rs` the handlers and the one
//! mapping of [`HubError`] to HTTP; `assets.rs` the web form's files. The
//! route tables, and serving them, are `serve.rs`; `start.rs` opens a hub
//! (code, listener, address) for `hark hub` and the mobile bindings alike.
//!
//! A crate of its own (hark-core, axum and tokio; no server storage) so
//! that `hark hub` and an Android or iOS app (through hark-ffi) start the
//! same hub over the same store.
//!
//! Practitioner mode (`hark hub --practitioner`) is the same hub on the
//! practitioner's own machine, answering only that machine:
//! `practitioner.rs` its state and its calls into the core store,
//! `context.rs` the context checked against the area's lists (pure),
//! `practitioner_pages.rs` its pages, `practitioner_http.rs` its handlers
//! and the this-machine guard. Its route table is `serve::practitioner_router`.

pub mod assets;
mod context;
mod event;
mod http;
mod pages;
mod practitioner;
mod practitioner_http;
mod practitioner_pages;
pub mod serve;
mod start;
pub mod submission;
mod submit;

pub use context::{CheckedContext, ContextChoice, ContextError};
pub use event::{EVENT_COOKIE, Event, Hub, HubError};
pub use practitioner::Desk;
pub use submit::{Stored, Submission, store_submission};

pub use pages::{form_shell_at, when};
pub use serve::{hub_router, practitioner_router, serve_hub, serve_practitioner};
pub use start::{HubOptions, MIN_CODE, Opened, open_hub};

/// `N` bytes from the operating system's random source (event codes,
/// cookie secrets).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source failing is not recoverable.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut b).expect("the operating system's random source is unavailable");
    b
}
