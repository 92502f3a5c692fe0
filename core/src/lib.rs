//! hark-core: the shared core that runs on every tablet and phone.
//!
//! - [`form`]: survey definitions, their validation and the built-in forms;
//! - [`answer`]: answers and the rules that check them (pure);
//! - [`response`]: a response as one Automerge document (pure domain logic);
//! - [`store`]: the encrypted, durable local store (SQLite) and the change
//!   cursor sync reads;
//! - [`kiosk`]: anonymous capture at events.
//!
//! Domain logic ([`form`], [`answer`], [`response`]) does no I/O and reads no
//! clock: the store supplies time and persistence.

pub mod answer;
pub mod error;
pub mod form;
pub mod kiosk;
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
