//! hark-core: the shared core that runs on every tablet and phone.
//!
//! - [`doc`]: the document format every replica shares (form documents,
//!   heads at rest, document kinds, the clock);
//! - [`form`]: survey definitions, their validation, skip logic, the rule
//!   that checks an answer, and the built-in forms;
//! - [`answer`]: answers as data (pure);
//! - [`response`]: a response as one Automerge document (pure domain logic);
//! - [`store`]: the encrypted, durable local store (SQLite) and, in
//!   [`store::replica`], what replication needs from it in its own terms;
//! - [`sync`]: the protocol: wire types, codec, the pure plan, the device
//!   session, the hub side, HTTP and bundles;
//! - [`kiosk`]: anonymous capture at events;
//! - [`lists`]: an area's settings, age phases, needs and pathways.
//!
//! Domain logic ([`form`], [`answer`], [`response`]) does no I/O and reads no
//! clock: the store supplies time and persistence.

pub mod answer;
pub mod doc;
pub mod error;
pub mod form;
pub mod kiosk;
pub mod lists;
pub mod response;
pub mod store;
pub mod sync;

#[cfg(test)]
pub(crate) mod test_support;

pub use answer::{Answer, AnswerError};
pub use error::{Error, Result, SubmitProblem};
pub use form::{Audience, Form, FormError, FormProblem, FormRef, Question, QuestionKind, Theme};
pub use kiosk::{Kiosk, KioskReset};
pub use response::{
    Conflict, Consent, Outcome, Permission, RaisedFlag, ResponseContext, ResponseDoc,
    ResponseHeader, Status,
};
pub use store::{DocChange, ResponseFilter, ResponseView, Store, StoreKey};
