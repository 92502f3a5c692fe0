//! `hark hub`: an event hub on the organiser's laptop or tablet. Phones on
//! the hall's hotspot join with a per-event code (shown beside a QR code of
//! the hub's address), answer the area's forms in hark's own web form, and
//! each submission becomes a kiosk response document in the hub's encrypted
//! device store, durable before the phone is thanked. The hub syncs with
//! the server exactly as any enrolled device does.
//!
//! `event.rs` the hub's state (store, event, code, joining); `submit.rs` a
//! phone's submission checked by the core and stored as one document;
//! `pages.rs` the join and organiser pages; `http.rs` the handlers and the
//! one mapping of [`HubError`] to HTTP. The route table is `app::hub_router`.
//!
//! Practitioner mode (`hark hub --practitioner`) is the same hub on the
//! practitioner's own machine, answering only that machine:
//! `practitioner.rs` its state and its calls into the core store,
//! `context.rs` the context checked against the area's lists (pure),
//! `practitioner_pages.rs` its pages, `practitioner_http.rs` its handlers
//! and the this-machine guard. Its route table is `app::practitioner_router`.

mod context;
mod event;
mod http;
pub(crate) mod pages;
mod practitioner;
pub mod practitioner_http;
mod practitioner_pages;
mod submit;

pub use context::{CheckedContext, ContextChoice, ContextError};
pub use event::{EVENT_COOKIE, Event, Hub, HubError};
pub use http::{
    form_css, form_js, form_json, form_page, forms_page, join, join_page, organiser_js,
    organiser_page, organiser_status, organiser_sync, submit, sync,
};
pub use practitioner::Desk;
pub use submit::{Stored, Submission, store_submission};
