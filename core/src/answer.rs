//! Answers as data: the values a respondent can give, the errors an answer
//! can be refused with, and read access for conditions. Knows nothing of
//! forms: the rule that checks an answer against its question is
//! [`crate::form::Question::check`], beside the form's own validation.

use std::collections::BTreeMap;

pub use rust_decimal::Decimal;
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
    /// A decimal number, exactly as written in canonical form (`-2.5`,
    /// `12`, `0.75`: no exponent, no trailing zeros after the point); see
    /// [`parse_decimal`]. Kept as text so that it is never rounded.
    Decimal(String),
    /// A date, `YYYY-MM-DD`.
    Date(String),
    /// "I don't know".
    DontKnow,
    /// "I don't want to say".
    PreferNotToSay,
}

impl Answer {
    /// The numeric value of a scale, number or decimal answer, exactly.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Self::Scale(n) => Some(Decimal::from(*n)),
            Self::Number(n) => Some(Decimal::from(*n)),
            Self::Decimal(d) => parse_decimal(d),
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
            Self::Decimal(_) => "decimal",
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
    /// Not a decimal number (`12`, `-2.5`), or outside the bounds.
    #[error("answer to '{question}' must be a number such as 2.5{bounds}")]
    BadDecimal {
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
            | Self::BadDecimal { question, .. }
            | Self::SpecialNotOffered { question, .. }
            | Self::Unreadable { question }
            | Self::Note { question }
            | Self::NotRelevant { question } => question,
            Self::Constraint { .. } => "",
        }
    }
}

/// The most digits a decimal answer or bound may have, before and after
/// the point together.
pub const MAX_DECIMAL_DIGITS: usize = 28;

/// Parses a decimal number written plainly: an optional `-`, digits, and
/// optionally a point followed by digits (`12`, `-2.5`, `0.75`). Nothing
/// else is a number here: no `+`, exponent, spaces, thousands separators
/// or comma for the point, so that every device and the server read the
/// same text as the same number. At most [`MAX_DECIMAL_DIGITS`] digits.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let point = whole.len() < digits.len();
    // 28 digits always fit, so the text is never rounded on parsing.
    if !plain(whole) || (point && !plain(frac)) || whole.len() + frac.len() > MAX_DECIMAL_DIGITS {
        return None;
    }
    s.parse::<Decimal>().ok()
}

/// The canonical text of a decimal number: no trailing zeros after the
/// point, no point for a whole number, and `0` rather than `-0`; the form
/// [`Answer::Decimal`] holds, so that equal numbers are equal answers.
pub fn canonical_decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Parses a `YYYY-MM-DD` calendar date.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_only_when_written_plainly() {
        for (text, canonical) in [
            ("12", "12"),
            ("-2.5", "-2.5"),
            ("0.750", "0.75"),
            ("-0", "0"),
            ("0012.0", "12"),
            (
                "9999999999999999999999999999",
                "9999999999999999999999999999",
            ),
            (
                "0.000000000000000000000000001",
                "0.000000000000000000000000001",
            ),
        ] {
            let d = parse_decimal(text).unwrap_or_else(|| panic!("{text} reads"));
            assert_eq!(canonical_decimal(d), canonical, "{text}");
        }
        for text in [
            "",
            "-",
            ".",
            "1.",
            ".5",
            "+1",
            "1e3",
            "1E3",
            "1,5",
            " 1",
            "1 ",
            "1_000",
            "0x10",
            "NaN",
            "inf",
            "--1",
            "1.2.3",
            "١٢",
            // 29 digits would be rounded: refused instead.
            "99999999999999999999999999999",
            "0.0000000000000000000000000001",
        ] {
            assert_eq!(parse_decimal(text), None, "{text:?} is not a plain decimal");
        }
    }
}
