//! The one public error of the bindings, and the one place core errors are
//! mapped to it.
//!
//! Every variant carries `detail`, the sentence an app can show or log; the
//! other fields are for code (which question, which answers are missing).
//! Nothing here ever holds an answer, a name or a key: core errors name ids
//! and kinds of problem only, and that is all that is passed on. (No field is
//! called `message`: that would clash with Kotlin's `Throwable.message`.)

use hark_core::AnswerError;
use hark_core::error::SubmitProblem;
use hark_core::sync::SyncError;

/// What went wrong. Kotlin: `HarkException`; Swift: `HarkError`; Python:
/// `HarkError`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HarkError {
    /// The key does not open this store. Nothing was changed.
    #[error("{detail}")]
    WrongKey {
        /// What to show.
        detail: String,
    },
    /// The platform keystore failed, or gave a key that is not 32 bytes.
    #[error("{detail}")]
    Keystore {
        /// What to show.
        detail: String,
    },
    /// The store is damaged or altered, was written by a newer hark, or the
    /// database failed.
    #[error("{detail}")]
    Storage {
        /// What to show.
        detail: String,
    },
    /// A form that is not installed on this device (or not offered at this
    /// kiosk).
    #[error("{detail}")]
    UnknownForm {
        /// The form id asked for.
        form: String,
        /// What to show.
        detail: String,
    },
    /// No response with this id (or it was erased).
    #[error("{detail}")]
    UnknownResponse {
        /// The response id asked for.
        response: String,
        /// What to show.
        detail: String,
    },
    /// An answer was refused; nothing changed.
    #[error("{detail}")]
    InvalidAnswer {
        /// The question.
        question: String,
        /// What kind of problem.
        problem: AnswerProblem,
        /// The form author's words for it (a bound refused), by language:
        /// show these rather than `detail` where there are any.
        author_message: Option<std::collections::HashMap<String, String>>,
        /// What to show.
        detail: String,
    },
    /// A submit was refused; nothing changed.
    #[error("{detail}")]
    CannotSubmit {
        /// Required questions (asked given the answers) still unanswered.
        missing: Vec<String>,
        /// Consent or the child's assent is not recorded as given.
        consent_missing: bool,
        /// What to show.
        detail: String,
    },
    /// The response is submitted: reopen it first. Or: a reopen of a
    /// response that is not submitted.
    #[error("{detail}")]
    WrongStatus {
        /// What to show.
        detail: String,
    },
    /// A form (JSON) that does not validate, or clashes with an installed one.
    #[error("{detail}")]
    InvalidForm {
        /// What to show.
        detail: String,
    },
    /// A kiosk call out of turn.
    #[error("{detail}")]
    Kiosk {
        /// What to show.
        detail: String,
    },
    /// Bytes that are not a hark bundle, sync message or document (corrupt,
    /// truncated, or something else).
    #[error("{detail}")]
    Corrupt {
        /// What to show.
        detail: String,
    },
    /// The server refused this device's credentials (revoked or unknown).
    #[error("{detail}")]
    Unauthorized {
        /// What to show.
        detail: String,
    },
    /// The server refused the request (an unknown or used enrolment code,
    /// a device that is not enrolled, a newer protocol...).
    #[error("{detail}")]
    Refused {
        /// What to show.
        detail: String,
    },
    /// The server could not be reached; try again later, nothing is lost.
    #[error("{detail}")]
    Network {
        /// What to show.
        detail: String,
    },
    /// The event hub cannot start as asked (no forms yet, a short event
    /// code, the port taken).
    #[error("{detail}")]
    Hub {
        /// What to show.
        detail: String,
    },
    /// A callback into the app failed unexpectedly, or a bug.
    #[error("{detail}")]
    Internal {
        /// What to show.
        detail: String,
    },
}

/// The kind of problem with a refused answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerProblem {
    /// The form has no such question.
    UnknownQuestion,
    /// An answer of another kind than the question (a number for a face scale).
    WrongKind,
    /// A number or face-scale point outside the question's bounds.
    OutOfRange,
    /// An option id the question does not offer.
    UnknownOption,
    /// Too few or too many options picked.
    SelectionCount,
    /// Free text longer than allowed.
    TooLong,
    /// Free text that is empty or only spaces (clear the answer instead).
    Empty,
    /// Not a `YYYY-MM-DD` date, or outside the bounds.
    BadDate,
    /// Not a decimal number (`2.5`), or outside the bounds.
    BadDecimal,
    /// "Don't know" / "don't want to say" where the question does not offer it.
    NotOffered,
    /// Skip logic says the question is not asked given the earlier answers.
    NotAsked,
    /// The question is a note, which takes no answer.
    Note,
}

fn detail(e: &impl std::fmt::Display) -> String {
    e.to_string()
}

impl From<hark_core::Error> for HarkError {
    fn from(e: hark_core::Error) -> Self {
        use hark_core::Error as E;
        let detail = detail(&e);
        match e {
            E::WrongKey => Self::WrongKey { detail },
            E::Tampered | E::NewerSchema(_) | E::Storage(_) => Self::Storage { detail },
            E::Form(_) | E::FormVersionClash(_) => Self::InvalidForm { detail },
            E::FormNotInstalled(form) => Self::UnknownForm {
                form: form.id,
                detail,
            },
            // The detail says it is retired; for an app, as for a form it
            // does not have, there is nothing to start.
            E::FormRetired(form) => Self::UnknownForm { form, detail },
            E::NotFound(response) => Self::UnknownResponse { response, detail },
            E::Answer(a) => {
                let author_message = a
                    .message()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                let (question, problem) = answer_problem(a.refused().clone());
                Self::InvalidAnswer {
                    question,
                    problem,
                    author_message,
                    detail,
                }
            }
            E::Incomplete(problems) => Self::CannotSubmit {
                missing: problems
                    .iter()
                    .filter_map(|p| match p {
                        SubmitProblem::MissingRequired(q) => Some(q.clone()),
                        SubmitProblem::NoConsent => None,
                    })
                    .collect(),
                consent_missing: problems.contains(&SubmitProblem::NoConsent),
                detail,
            },
            E::AlreadySubmitted | E::NotSubmitted => Self::WrongStatus { detail },
            E::NotSameResponse | E::Malformed(_) | E::Automerge(_) => Self::Corrupt { detail },
            E::Kiosk(_) => Self::Kiosk { detail },
        }
    }
}

fn answer_problem(e: AnswerError) -> (String, AnswerProblem) {
    use AnswerError as A;
    use AnswerProblem as P;
    match e {
        A::UnknownQuestion { question } => (question, P::UnknownQuestion),
        A::WrongKind { question, .. } | A::Unreadable { question } => (question, P::WrongKind),
        A::OutOfRange { question, .. } => (question, P::OutOfRange),
        A::UnknownOption { question, .. } => (question, P::UnknownOption),
        A::SelectionCount { question, .. } => (question, P::SelectionCount),
        A::TooLong { question, .. } => (question, P::TooLong),
        A::Empty { question } => (question, P::Empty),
        A::BadDate { question, .. } => (question, P::BadDate),
        A::BadDecimal { question, .. } => (question, P::BadDecimal),
        A::SpecialNotOffered { question, .. } => (question, P::NotOffered),
        A::NotRelevant { question } => (question, P::NotAsked),
        A::Note { question } => (question, P::Note),
        // `refused()` is never a constraint; kept total for the compiler.
        A::Constraint { refused, .. } => answer_problem(*refused),
    }
}

impl From<SyncError> for HarkError {
    fn from(e: SyncError) -> Self {
        let detail = detail(&e);
        match e {
            SyncError::Store(e) => e.into(),
            SyncError::Corrupt(_) => Self::Corrupt { detail },
            SyncError::Unauthorized => Self::Unauthorized { detail },
            SyncError::Version(_) | SyncError::Refused(_) => Self::Refused { detail },
            SyncError::Network(_) => Self::Network { detail },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HarkError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Internal {
            detail: format!("a callback into the app failed: {}", e.reason),
        }
    }
}

impl From<hark_hub::HubError> for HarkError {
    fn from(e: hark_hub::HubError) -> Self {
        match e {
            hark_hub::HubError::Store(e) => e.into(),
            other => Self::Hub {
                detail: other.to_string(),
            },
        }
    }
}

impl From<tokio::task::JoinError> for HarkError {
    fn from(_: tokio::task::JoinError) -> Self {
        Self::Internal {
            detail: "the background task stopped unexpectedly".to_owned(),
        }
    }
}

/// Result alias.
pub type Result<T, E = HarkError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_their_variants_with_the_core_message() {
        let e: HarkError = hark_core::Error::Incomplete(vec![
            SubmitProblem::MissingRequired("safe_home".into()),
            SubmitProblem::NoConsent,
        ])
        .into();
        match e {
            HarkError::CannotSubmit {
                missing,
                consent_missing,
                detail,
            } => {
                assert_eq!(missing, vec!["safe_home".to_owned()]);
                assert!(consent_missing);
                assert!(detail.contains("'safe_home' is required"), "{detail}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let e: HarkError = SyncError::Store(hark_core::Error::WrongKey).into();
        assert!(matches!(e, HarkError::WrongKey { .. }));
        assert_eq!(e.to_string(), "the key does not open this store");
    }
}
