//! Answers and the rules that check one against its question.
//!
//! Pure functions: [`check_answer`] takes a question and a proposed answer and
//! returns the answer in canonical form or an [`AnswerError`] saying what is
//! wrong. Nothing here touches a document or a store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::form::{Question, QuestionKind};

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
            Self::DontKnow => "dont_know",
            Self::PreferNotToSay => "prefer_not_to_say",
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
    /// Skip logic says the question is not asked given the earlier answers.
    #[error("question '{question}' is not asked given the earlier answers")]
    NotRelevant {
        /// Question id.
        question: String,
    },
}

const DEFAULT_MAX_TEXT: u32 = 4000;

/// Checks `answer` against `question` and returns it in canonical form
/// (multiple-choice picks deduplicated, in the form's order).
pub fn check_answer(question: &Question, answer: Answer) -> Result<Answer, AnswerError> {
    let q = || question.id.clone();
    let wrong = |answer: &Answer| AnswerError::WrongKind {
        question: q(),
        expected: question.kind.name(),
        got: answer.kind(),
    };
    match (&question.kind, answer) {
        (_, Answer::DontKnow) => {
            if question.allow_dont_know && question.kind.is_closed() {
                Ok(Answer::DontKnow)
            } else {
                Err(AnswerError::SpecialNotOffered {
                    question: q(),
                    option: crate::form::DONT_KNOW,
                })
            }
        }
        (_, Answer::PreferNotToSay) => {
            if question.allow_prefer_not_to_say && question.kind.is_closed() {
                Ok(Answer::PreferNotToSay)
            } else {
                Err(AnswerError::SpecialNotOffered {
                    question: q(),
                    option: crate::form::PREFER_NOT_TO_SAY,
                })
            }
        }
        (QuestionKind::FaceScale { points, .. }, Answer::Scale(n)) => {
            if (1..=*points).contains(&n) {
                Ok(Answer::Scale(n))
            } else {
                Err(AnswerError::OutOfRange {
                    question: q(),
                    min: 1,
                    max: i64::from(*points),
                })
            }
        }
        (QuestionKind::SingleChoice { .. } | QuestionKind::YesNo, Answer::Choice(id)) => {
            if question.kind.option_ids().contains(&id.as_str()) {
                Ok(Answer::Choice(id))
            } else {
                Err(AnswerError::UnknownOption {
                    question: q(),
                    option: id,
                })
            }
        }
        (
            QuestionKind::MultipleChoice {
                options,
                min_selected,
                max_selected,
            },
            Answer::Choices(picked),
        ) => {
            if let Some(bad) = picked.iter().find(|p| !options.iter().any(|o| &o.id == *p)) {
                return Err(AnswerError::UnknownOption {
                    question: q(),
                    option: bad.clone(),
                });
            }
            let canonical: Vec<String> = options
                .iter()
                .filter(|o| picked.contains(&o.id))
                .map(|o| o.id.clone())
                .collect();
            let min = min_selected.unwrap_or(1);
            let max = max_selected.unwrap_or(u32::try_from(options.len()).unwrap_or(u32::MAX));
            let n = u32::try_from(canonical.len()).unwrap_or(u32::MAX);
            if n < min || n > max {
                return Err(AnswerError::SelectionCount {
                    question: q(),
                    min,
                    max,
                });
            }
            Ok(Answer::Choices(canonical))
        }
        (QuestionKind::FreeText { max_length }, Answer::Text(text)) => {
            let max = max_length.unwrap_or(DEFAULT_MAX_TEXT);
            if text.trim().is_empty() {
                Err(AnswerError::Empty { question: q() })
            } else if text.chars().count() > max as usize {
                Err(AnswerError::TooLong { question: q(), max })
            } else {
                Ok(Answer::Text(text))
            }
        }
        (QuestionKind::Number { min, max }, Answer::Number(n)) => {
            if (*min..=*max).contains(&n) {
                Ok(Answer::Number(n))
            } else {
                Err(AnswerError::OutOfRange {
                    question: q(),
                    min: *min,
                    max: *max,
                })
            }
        }
        (QuestionKind::Date { min, max }, Answer::Date(d)) => {
            let bounds = match (min, max) {
                (Some(a), Some(b)) => format!(" between {a} and {b}"),
                (Some(a), None) => format!(" on or after {a}"),
                (None, Some(b)) => format!(" on or before {b}"),
                (None, None) => String::new(),
            };
            let bad = || AnswerError::BadDate {
                question: q(),
                bounds: bounds.clone(),
            };
            let date = parse_date(&d).ok_or_else(bad)?;
            let too_early = min
                .as_deref()
                .and_then(parse_date)
                .is_some_and(|m| date < m);
            let too_late = max
                .as_deref()
                .and_then(parse_date)
                .is_some_and(|m| date > m);
            if too_early || too_late {
                return Err(bad());
            }
            Ok(Answer::Date(d))
        }
        (_, other) => Err(wrong(&other)),
    }
}

/// Parses a `YYYY-MM-DD` calendar date.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{ChoiceOption, Text};

    fn question(kind: QuestionKind) -> Question {
        Question {
            id: "q".into(),
            kind,
            label: Text::new("en", "Q?"),
            hint: None,
            easy_read: None,
            read_aloud: None,
            required: false,
            relevant: None,
            allow_dont_know: true,
            allow_prefer_not_to_say: false,
        }
    }

    fn opts(ids: &[&str]) -> Vec<ChoiceOption> {
        ids.iter()
            .map(|id| ChoiceOption {
                id: (*id).into(),
                label: Text::new("en", id),
                easy_read: None,
                symbol: None,
            })
            .collect()
    }

    #[test]
    fn face_scale_bounds() {
        let q = question(QuestionKind::FaceScale {
            points: 3,
            labels: opts(&["sad", "ok", "happy"]),
        });
        assert_eq!(check_answer(&q, Answer::Scale(3)), Ok(Answer::Scale(3)));
        assert!(matches!(
            check_answer(&q, Answer::Scale(0)),
            Err(AnswerError::OutOfRange { .. })
        ));
        assert!(matches!(
            check_answer(&q, Answer::Scale(4)),
            Err(AnswerError::OutOfRange { max: 3, .. })
        ));
        assert!(matches!(
            check_answer(&q, Answer::Choice("ok".into())),
            Err(AnswerError::WrongKind { .. })
        ));
    }

    #[test]
    fn multiple_choice_is_canonicalised_and_bounded() {
        let q = question(QuestionKind::MultipleChoice {
            options: opts(&["a", "b", "c"]),
            min_selected: None,
            max_selected: Some(2),
        });
        assert_eq!(
            check_answer(
                &q,
                Answer::Choices(vec!["c".into(), "a".into(), "c".into()])
            ),
            Ok(Answer::Choices(vec!["a".into(), "c".into()]))
        );
        assert!(matches!(
            check_answer(&q, Answer::Choices(vec![])),
            Err(AnswerError::SelectionCount { .. })
        ));
        assert!(matches!(
            check_answer(
                &q,
                Answer::Choices(vec!["a".into(), "b".into(), "c".into()])
            ),
            Err(AnswerError::SelectionCount { .. })
        ));
        assert!(matches!(
            check_answer(&q, Answer::Choices(vec!["z".into()])),
            Err(AnswerError::UnknownOption { .. })
        ));
    }

    #[test]
    fn special_answers_only_where_offered() {
        let q = question(QuestionKind::YesNo);
        assert_eq!(check_answer(&q, Answer::DontKnow), Ok(Answer::DontKnow));
        assert!(matches!(
            check_answer(&q, Answer::PreferNotToSay),
            Err(AnswerError::SpecialNotOffered { .. })
        ));
        let text = question(QuestionKind::FreeText { max_length: None });
        assert!(matches!(
            check_answer(&text, Answer::DontKnow),
            Err(AnswerError::SpecialNotOffered { .. })
        ));
    }

    #[test]
    fn free_text_kept_exactly_and_bounded() {
        let q = question(QuestionKind::FreeText {
            max_length: Some(5),
        });
        assert_eq!(
            check_answer(&q, Answer::Text(" hi! ".into())),
            Ok(Answer::Text(" hi! ".into()))
        );
        assert!(matches!(
            check_answer(&q, Answer::Text("   ".into())),
            Err(AnswerError::Empty { .. })
        ));
        assert!(matches!(
            check_answer(&q, Answer::Text("toolong".into())),
            Err(AnswerError::TooLong { .. })
        ));
    }

    #[test]
    fn numbers_and_dates() {
        let n = question(QuestionKind::Number { min: 0, max: 24 });
        assert_eq!(check_answer(&n, Answer::Number(24)), Ok(Answer::Number(24)));
        assert!(matches!(
            check_answer(&n, Answer::Number(-1)),
            Err(AnswerError::OutOfRange { .. })
        ));
        let d = question(QuestionKind::Date {
            min: Some("2020-01-01".into()),
            max: None,
        });
        assert_eq!(
            check_answer(&d, Answer::Date("2024-02-29".into())),
            Ok(Answer::Date("2024-02-29".into()))
        );
        assert!(matches!(
            check_answer(&d, Answer::Date("2023-02-29".into())),
            Err(AnswerError::BadDate { .. })
        ));
        assert!(matches!(
            check_answer(&d, Answer::Date("2019-12-31".into())),
            Err(AnswerError::BadDate { .. })
        ));
        assert!(matches!(
            check_answer(&d, Answer::Date("31/12/2021".into())),
            Err(AnswerError::BadDate { .. })
        ));
    }

    #[test]
    fn messages_never_carry_the_answer() {
        let q = question(QuestionKind::FreeText {
            max_length: Some(3),
        });
        let err = check_answer(&q, Answer::Text("my secret".into())).expect_err("too long");
        assert!(!err.to_string().contains("secret"));
    }
}
