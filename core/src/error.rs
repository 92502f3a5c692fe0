//! The core's error type: one rich enum for the whole crate. The FFI and
//! HTTP layers map it to their own small public errors in one place each.

use crate::answer::AnswerError;
use crate::form::{FormError, FormRef};

/// Anything that can go wrong in hark-core. Messages never contain answers
/// or names: only ids, question ids and kinds of problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A form failed validation.
    #[error(transparent)]
    Form(#[from] FormError),
    /// An answer was refused; nothing changed.
    #[error(transparent)]
    Answer(#[from] AnswerError),
    /// A submit was refused; nothing changed.
    #[error("the response cannot be submitted yet: {}", describe(.0))]
    Incomplete(Vec<SubmitProblem>),
    /// The response is submitted: reopen it before editing.
    #[error("the response is submitted; reopen it before changing it")]
    AlreadySubmitted,
    /// Reopen of a response that is not submitted.
    #[error("the response is not submitted, so it cannot be reopened")]
    NotSubmitted,
    /// No such response (or it was erased).
    #[error("no response with id {0}")]
    NotFound(String),
    /// The response's form version is not installed on this device.
    #[error("form {0} is not installed on this device")]
    FormNotInstalled(FormRef),
    /// The form's newest version is retired: no new responses to it.
    #[error("form '{0}' is retired: it is no longer offered for new responses")]
    FormRetired(String),
    /// A form version with other content under the same id and version.
    #[error("form {0} is already installed with different content; give the new one a new version")]
    FormVersionClash(FormRef),
    /// Two documents that are not copies of the same response.
    #[error("these are not copies of the same response")]
    NotSameResponse,
    /// The key supplied does not open this store. Nothing was changed.
    #[error("the key does not open this store")]
    WrongKey,
    /// Stored bytes failed authentication: the file was altered or damaged.
    #[error("stored data failed its integrity check (the file was altered or damaged)")]
    Tampered,
    /// A document that is not a well-formed hark document.
    #[error("malformed document: {0}")]
    Malformed(String),
    /// The store was written by a newer version of hark.
    #[error("this store was written by a newer version of hark (schema {0})")]
    NewerSchema(i64),
    /// Automerge refused bytes or an operation.
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// The database failed.
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The kiosk has no respondent in progress, or a form not offered.
    #[error("kiosk: {0}")]
    Kiosk(&'static str),
}

/// Why a submit was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitProblem {
    /// A required, relevant question has no answer.
    MissingRequired(String),
    /// Consent (or the child's assent) is not recorded as given.
    NoConsent,
}

fn describe(problems: &[SubmitProblem]) -> String {
    problems
        .iter()
        .map(|p| match p {
            SubmitProblem::MissingRequired(q) => format!("question '{q}' is required"),
            SubmitProblem::NoConsent => "consent or assent is not recorded as given".to_owned(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
