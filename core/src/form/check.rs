//! The rule that checks one answer against its question: kind, options,
//! bounds, lengths, dates, the two answers any closed question may offer,
//! and that a note takes none. Pure; the response calls it before anything is written, and the
//! server calls it on every document that arrives.

use super::model::{Question, QuestionKind};
use crate::answer::{
    Answer, AnswerError, DONT_KNOW, PREFER_NOT_TO_SAY, canonical_decimal, parse_date, parse_decimal,
};

const DEFAULT_MAX_TEXT: u32 = 4000;

impl Question {
    /// Checks `answer` against this question and returns it in canonical
    /// form (multiple-choice picks deduplicated, in the form's order). A
    /// bound refused where the question has a `constraint_message` comes
    /// back as [`AnswerError::Constraint`], carrying the author's words.
    pub fn check(&self, answer: Answer) -> Result<Answer, AnswerError> {
        self.check_kind(answer)
            .map_err(|e| match (&self.constraint_message, e) {
                (
                    Some(message),
                    e @ (AnswerError::OutOfRange { .. }
                    | AnswerError::SelectionCount { .. }
                    | AnswerError::TooLong { .. }
                    | AnswerError::BadDate { .. }
                    | AnswerError::BadDecimal { .. }),
                ) => AnswerError::Constraint {
                    message: message.0.clone(),
                    refused: Box::new(e),
                },
                (_, e) => e,
            })
    }

    fn check_kind(&self, answer: Answer) -> Result<Answer, AnswerError> {
        let question = self;
        let q = || question.id.clone();
        let wrong = |answer: &Answer| AnswerError::WrongKind {
            question: q(),
            expected: question.kind.name(),
            got: answer.kind(),
        };
        match (&question.kind, answer) {
            (QuestionKind::Note, _) => Err(AnswerError::Note { question: q() }),
            (_, Answer::DontKnow) => {
                if question.allow_dont_know && question.kind.is_closed() {
                    Ok(Answer::DontKnow)
                } else {
                    Err(AnswerError::SpecialNotOffered {
                        question: q(),
                        option: DONT_KNOW,
                    })
                }
            }
            (_, Answer::PreferNotToSay) => {
                if question.allow_prefer_not_to_say && question.kind.is_closed() {
                    Ok(Answer::PreferNotToSay)
                } else {
                    Err(AnswerError::SpecialNotOffered {
                        question: q(),
                        option: PREFER_NOT_TO_SAY,
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
            (QuestionKind::Decimal { min, max }, Answer::Decimal(d)) => {
                let bad = || AnswerError::BadDecimal {
                    question: q(),
                    bounds: bounds(min, max, ("at least", "at most")),
                };
                let value = parse_decimal(&d).ok_or_else(bad)?;
                if !within(&value, min, max, parse_decimal) {
                    return Err(bad());
                }
                Ok(Answer::Decimal(canonical_decimal(value)))
            }
            (QuestionKind::Date { min, max }, Answer::Date(d)) => {
                let bad = || AnswerError::BadDate {
                    question: q(),
                    bounds: bounds(min, max, ("on or after", "on or before")),
                };
                let date = parse_date(&d).ok_or_else(bad)?;
                if !within(&date, min, max, parse_date) {
                    return Err(bad());
                }
                Ok(Answer::Date(d))
            }
            (_, other) => Err(wrong(&other)),
        }
    }
}

/// Whether `value` lies within the bounds that parse (a bound that does
/// not parse is refused when the form is validated).
pub(super) fn within<T: PartialOrd>(
    value: &T,
    min: &Option<String>,
    max: &Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> bool {
    let min = min.as_deref().and_then(&parse);
    let max = max.as_deref().and_then(&parse);
    min.is_none_or(|m| *value >= m) && max.is_none_or(|m| *value <= m)
}

/// The bounds in words, for the error: " between a and b", or one side
/// with `words` (lower, upper).
fn bounds(min: &Option<String>, max: &Option<String>, words: (&str, &str)) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!(" between {a} and {b}"),
        (Some(a), None) => format!(" {} {a}", words.0),
        (None, Some(b)) => format!(" {} {b}", words.1),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::model::{ChoiceOption, Text};

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
            section: None,
            required_message: None,
            constraint_message: None,
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
        assert_eq!(q.check(Answer::Scale(3)), Ok(Answer::Scale(3)));
        assert!(matches!(
            q.check(Answer::Scale(0)),
            Err(AnswerError::OutOfRange { .. })
        ));
        assert!(matches!(
            q.check(Answer::Scale(4)),
            Err(AnswerError::OutOfRange { max: 3, .. })
        ));
        assert!(matches!(
            q.check(Answer::Choice("ok".into())),
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
            q.check(Answer::Choices(vec!["c".into(), "a".into(), "c".into()])),
            Ok(Answer::Choices(vec!["a".into(), "c".into()]))
        );
        assert!(matches!(
            q.check(Answer::Choices(vec![])),
            Err(AnswerError::SelectionCount { .. })
        ));
        assert!(matches!(
            q.check(Answer::Choices(vec!["a".into(), "b".into(), "c".into()])),
            Err(AnswerError::SelectionCount { .. })
        ));
        assert!(matches!(
            q.check(Answer::Choices(vec!["z".into()])),
            Err(AnswerError::UnknownOption { .. })
        ));
    }

    #[test]
    fn special_answers_only_where_offered() {
        let q = question(QuestionKind::YesNo);
        assert_eq!(q.check(Answer::DontKnow), Ok(Answer::DontKnow));
        assert!(matches!(
            q.check(Answer::PreferNotToSay),
            Err(AnswerError::SpecialNotOffered { .. })
        ));
        let text = question(QuestionKind::FreeText { max_length: None });
        assert!(matches!(
            text.check(Answer::DontKnow),
            Err(AnswerError::SpecialNotOffered { .. })
        ));
    }

    #[test]
    fn free_text_kept_exactly_and_bounded() {
        let q = question(QuestionKind::FreeText {
            max_length: Some(5),
        });
        assert_eq!(
            q.check(Answer::Text(" hi! ".into())),
            Ok(Answer::Text(" hi! ".into()))
        );
        assert!(matches!(
            q.check(Answer::Text("   ".into())),
            Err(AnswerError::Empty { .. })
        ));
        assert!(matches!(
            q.check(Answer::Text("toolong".into())),
            Err(AnswerError::TooLong { .. })
        ));
    }

    #[test]
    fn decimals_are_exact_and_canonical() {
        let d = question(QuestionKind::Decimal {
            min: Some("0".into()),
            max: Some("99.5".into()),
        });
        let ok = |s: &str| d.check(Answer::Decimal(s.into()));
        assert_eq!(ok("2.50"), Ok(Answer::Decimal("2.5".into())));
        assert_eq!(ok("007"), Ok(Answer::Decimal("7".into())));
        assert_eq!(ok("99.5"), Ok(Answer::Decimal("99.5".into())));
        assert_eq!(ok("0.1"), Ok(Answer::Decimal("0.1".into())));
        assert_eq!(ok("-0.0"), Ok(Answer::Decimal("0".into())));
        for bad in [
            "99.51", "-0.01", "1e3", "+2", "2,5", " 2", "1_0", ".5", "5.", "", "-",
        ] {
            let e = ok(bad).expect_err(bad);
            assert!(matches!(e, AnswerError::BadDecimal { .. }), "{bad}: {e}");
            assert_eq!(
                e.to_string(),
                "answer to 'q' must be a number such as 2.5 between 0 and 99.5"
            );
        }
        assert!(matches!(
            d.check(Answer::Number(3)),
            Err(AnswerError::WrongKind { .. })
        ));
        let open = question(QuestionKind::Decimal {
            min: None,
            max: None,
        });
        assert_eq!(
            open.check(Answer::Decimal("-123456.000001".into())),
            Ok(Answer::Decimal("-123456.000001".into()))
        );
        let floor = question(QuestionKind::Decimal {
            min: Some("1.5".into()),
            max: None,
        });
        assert_eq!(
            floor
                .check(Answer::Decimal("1".into()))
                .expect_err("below the floor")
                .to_string(),
            "answer to 'q' must be a number such as 2.5 at least 1.5"
        );
    }

    #[test]
    fn numbers_and_dates() {
        let n = question(QuestionKind::Number { min: 0, max: 24 });
        assert_eq!(n.check(Answer::Number(24)), Ok(Answer::Number(24)));
        assert!(matches!(
            n.check(Answer::Number(-1)),
            Err(AnswerError::OutOfRange { .. })
        ));
        let d = question(QuestionKind::Date {
            min: Some("2020-01-01".into()),
            max: None,
        });
        assert_eq!(
            d.check(Answer::Date("2024-02-29".into())),
            Ok(Answer::Date("2024-02-29".into()))
        );
        assert!(matches!(
            d.check(Answer::Date("2023-02-29".into())),
            Err(AnswerError::BadDate { .. })
        ));
        assert!(matches!(
            d.check(Answer::Date("2019-12-31".into())),
            Err(AnswerError::BadDate { .. })
        ));
        assert!(matches!(
            d.check(Answer::Date("31/12/2021".into())),
            Err(AnswerError::BadDate { .. })
        ));
    }

    #[test]
    fn a_note_takes_no_answer_of_any_kind() {
        let mut note = question(QuestionKind::Note);
        note.allow_dont_know = false;
        for answer in [
            Answer::Text("read it".into()),
            Answer::Choice("yes".into()),
            Answer::Number(1),
            Answer::DontKnow,
        ] {
            assert_eq!(
                note.check(answer),
                Err(AnswerError::Note {
                    question: "q".into()
                })
            );
        }
    }

    #[test]
    fn a_refused_bound_carries_the_authors_message() {
        let mut n = question(QuestionKind::Number { min: 0, max: 24 });
        let plain = n.check(Answer::Number(30)).expect_err("out of range");
        assert_eq!(plain.message(), None);
        n.constraint_message = Some(Text(
            [
                ("en".to_owned(), "Hours in a day: 0 to 24".to_owned()),
                ("cy".to_owned(), "Oriau mewn diwrnod: 0 i 24".to_owned()),
            ]
            .into(),
        ));
        let e = n.check(Answer::Number(30)).expect_err("out of range");
        assert_eq!(e.explain("cy", "en"), "Oriau mewn diwrnod: 0 i 24");
        assert_eq!(e.explain("pl", "en"), "Hours in a day: 0 to 24");
        assert_eq!(
            e.to_string(),
            plain.to_string(),
            "logs keep the plain sentence"
        );
        assert_eq!(e.question(), "q");
        // Not a bound: the kind's own refusal.
        assert!(matches!(
            n.check(Answer::Text("x".into())),
            Err(AnswerError::WrongKind { .. })
        ));
    }

    #[test]
    fn messages_never_carry_the_answer() {
        let q = question(QuestionKind::FreeText {
            max_length: Some(3),
        });
        let err = q
            .check(Answer::Text("my secret".into()))
            .expect_err("too long");
        assert!(!err.to_string().contains("secret"));
    }
}
