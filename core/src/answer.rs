//! Answers as data: the values a respondent can give, the errors an answer
//! can be refused with, and read access for conditions. Knows nothing of
//! forms: the rule that checks an answer against its question is
//! [`crate::form::Question::check`], beside the form's own validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Option id reserved for "I don't know", which any closed question may
/// offer; also the answer's kind name.
pub const DONT_KNOW: &str = "dont_know";
/// Option id reserved for "I don't want to say"; see [`DONT_KNOW`].
pub const PREFER_NOT_TO_SAY: &str = "prefer_not_to_say";

/// An answer to one question.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// A face-scale point, 1 (saddest) to the scale's number of points.
    Scale(u8),
    /// One option id (single choice, yes/no/not sure).
    Choice(String),
    /// Option ids picked (multiple choice), in the form's order.
    Choices(Vec<String>),
    /// Free text, exactly as given.
    Text(String),
    /// A whole number.
    Number(i64),
    /// A date, `YYYY-MM-DD`.
    Date(String),
    /// "I don't know".
    DontKnow,
    /// "I don't want to say".
    PreferNotToSay,
}

impl Answer {
    /// The numeric value of a scale or number answer.
    pub fn as_number(&self) -> Option<i64> {
        match self {
            Self::Scale(n) => Some(i64::from(*n)),
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The kind name used in documents (`scale`, `choice`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Scale(_) => "scale",
            Self::Choice(_) => "choice",
            Self::Choices(_) => "choices",
            Self::Text(_) => "text",
            Self::Number(_) => "number",
            Self::Date(_) => "date",
            Self::DontKnow => DONT_KNOW,
            Self::PreferNotToSay => PREFER_NOT_TO_SAY,
        }
    }
}

/// Read access to the answers of a response, for conditions.
pub trait AnswerLookup {
    /// The current answer to `question`, if any.
    fn answer(&self, question: &str) -> Option<&Answer>;
}

impl AnswerLookup for BTreeMap<String, Answer> {
    fn answer(&self, question: &str) -> Option<&Answer> {
        self.get(question)
    }
}

/// Why an answer was refused. Messages name the question, never the answer
/// (which may be personal).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The form has no such question.
    #[error("question '{question}' is not in this form")]
    UnknownQuestion {
        /// Question id.
        question: String,
    },
    /// The answer is of another kind than the question.
    #[error("question '{question}' expects a {expected} answer, not {got}")]
    WrongKind {
        /// Question id.
        question: String,
        /// The question's kind.
        expected: &'static str,
        /// The answer's kind.
        got: &'static str,
    },
    /// A number or scale point outside the question's bounds.
    #[error("answer to '{question}' must be between {min} and {max}")]
    OutOfRange {
        /// Question id.
        question: String,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// An option id the question does not offer.
    #[error("question '{question}' has no option '{option}'")]
    UnknownOption {
        /// Question id.
        question: String,
        /// The option id given.
        option: String,
    },
    /// Too few or too many options picked.
    #[error("question '{question}' needs between {min} and {max} options picked")]
    SelectionCount {
        /// Question id.
        question: String,
        /// Fewest allowed.
        min: u32,
        /// Most allowed.
        max: u32,
    },
    /// Free text longer than allowed.
    #[error("answer to '{question}' is longer than {max} characters")]
    TooLong {
        /// Question id.
        question: String,
        /// Limit.
        max: u32,
    },
    /// Free text that is empty or only spaces.
    #[error("answer to '{question}' is empty; clear the answer instead")]
    Empty {
        /// Question id.
        question: String,
    },
    /// Not a `YYYY-MM-DD` date, or outside the bounds.
    #[error("answer to '{question}' must be a date (YYYY-MM-DD){bounds}")]
    BadDate {
        /// Question id.
        question: String,
        /// Description of the bounds, if any.
        bounds: String,
    },
    /// "Don't know" / "don't want to say" where the question does not offer it.
    #[error("question '{question}' does not offer '{option}'")]
    SpecialNotOffered {
        /// Question id.
        question: String,
        /// `dont_know` or `prefer_not_to_say`.
        option: &'static str,
    },
    /// A value (e.g. in JSON) that has no reading as an answer to the
    /// question.
    #[error("answer to '{question}' is not a valid value")]
    Unreadable {
        /// Question id.
        question: String,
    },
    /// The question is a note: it is shown, never answered.
    #[error("question '{question}' is a note: it takes no answer")]
    Note {
        /// Question id.
        question: String,
    },
    /// A bound refused (`refused`) on a question whose author wrote what
    /// to say then (`constraint_message`, in every language of the form).
    #[error("{refused}")]
    Constraint {
        /// The author's message, by language tag (the form's `Text`).
        message: BTreeMap<String, String>,
        /// The refusal itself.
        refused: Box<AnswerError>,
    },
    /// Skip logic says the question is not asked given the earlier answers.
    #[error("question '{question}' is not asked given the earlier answers")]
    NotRelevant {
        /// Question id.
        question: String,
    },
}

impl AnswerError {
    /// The author's message for this refusal, if the question has one.
    pub fn message(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Self::Constraint { message, .. } => Some(message),
            _ => None,
        }
    }

    /// What to show the respondent: the author's message in `lang` (else
    /// in `fallback`, else any), or the sentence when there is none.
    pub fn explain(&self, lang: &str, fallback: &str) -> String {
        self.message()
            .and_then(|m| {
                m.get(lang)
                    .or_else(|| m.get(fallback))
                    .or_else(|| m.values().next())
            })
            .map_or_else(|| self.to_string(), Clone::clone)
    }

    /// The refusal under the author's message (the error itself when there
    /// is none).
    pub fn refused(&self) -> &AnswerError {
        match self {
            Self::Constraint { refused, .. } => refused.refused(),
            other => other,
        }
    }

    /// The question refused.
    pub fn question(&self) -> &str {
        match self.refused() {
            Self::UnknownQuestion { question }
            | Self::WrongKind { question, .. }
            | Self::OutOfRange { question, .. }
            | Self::UnknownOption { question, .. }
            | Self::SelectionCount { question, .. }
            | Self::TooLong { question, .. }
            | Self::Empty { question }
            | Self::BadDate { question, .. }
            | Self::SpecialNotOffered { question, .. }
            | Self::Unreadable { question }
            | Self::Note { question }
            | Self::NotRelevant { question } => question,
            Self::Constraint { .. } => "",
        }
    }
}

/// Parses a `YYYY-MM-DD` calendar date.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}
