//! Conditions on earlier answers: skip logic (`relevant`) and safeguarding
//! triggers. A condition is a small tree, written in JSON as
//! `{"equals": {"question": "q1", "value": "yes"}}`, `{"all": [..]}` and so on,
//! so that XLSForm expressions (`${q1} = 'yes'`, `selected(${q2}, 'x')`,
//! `${q3} >= 3`, `and`/`or`/`not(..)`) translate one to one.

use serde::{Deserialize, Serialize};

use std::cmp::Ordering;

use crate::answer::{Answer, AnswerLookup, DONT_KNOW, Decimal, PREFER_NOT_TO_SAY, parse_decimal};

/// A value a condition compares an answer with: an option id, a text, or a
/// number (face-scale point or whole number). A decimal number is written
/// as its text (`"2.5"`), so that it is exact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CondValue {
    /// A number.
    Int(i64),
    /// An option id, `dont_know`, `prefer_not_to_say`, a date or a text.
    Str(String),
}

/// A condition on the answers given so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The question has any answer (including "don't know").
    Answered(String),
    /// The answer equals the value; for multiple choice, the value is among
    /// those picked.
    Equals {
        /// Question id.
        question: String,
        /// Value compared.
        value: CondValue,
    },
    /// The answer equals one of the values (for multiple choice: any picked).
    OneOf {
        /// Question id.
        question: String,
        /// Values compared.
        values: Vec<CondValue>,
    },
    /// A number, decimal or face-scale answer is at least `value` (a
    /// whole number, or a decimal's text).
    AtLeast {
        /// Question id.
        question: String,
        /// Bound, inclusive.
        value: CondValue,
    },
    /// A number, decimal or face-scale answer is at most `value`.
    AtMost {
        /// Question id.
        question: String,
        /// Bound, inclusive.
        value: CondValue,
    },
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

impl Condition {
    /// Evaluates the condition. An unanswered question satisfies nothing but
    /// `not`.
    pub fn holds(&self, answers: &impl AnswerLookup) -> bool {
        match self {
            Self::Answered(q) => answers.answer(q).is_some(),
            Self::Equals { question, value } => answers
                .answer(question)
                .is_some_and(|a| matches_value(a, value)),
            Self::OneOf { question, values } => answers
                .answer(question)
                .is_some_and(|a| values.iter().any(|v| matches_value(a, v))),
            Self::AtLeast { question, value } => {
                compare(answers, question, value).is_some_and(|o| o != Ordering::Less)
            }
            Self::AtMost { question, value } => {
                compare(answers, question, value).is_some_and(|o| o != Ordering::Greater)
            }
            Self::All(cs) => cs.iter().all(|c| c.holds(answers)),
            Self::Any(cs) => cs.iter().any(|c| c.holds(answers)),
            Self::Not(c) => !c.holds(answers),
        }
    }

    /// Every bound a number is compared with (`at_least`, `at_most`), with
    /// its question (for validation).
    pub fn comparisons(&self) -> Vec<(&str, &CondValue)> {
        match self {
            Self::AtLeast { question, value } | Self::AtMost { question, value } => {
                vec![(question.as_str(), value)]
            }
            Self::All(cs) | Self::Any(cs) => cs.iter().flat_map(Self::comparisons).collect(),
            Self::Not(c) => c.comparisons(),
            Self::Answered(_) | Self::Equals { .. } | Self::OneOf { .. } => Vec::new(),
        }
    }

    /// Every question id the condition reads, with the value compared where
    /// there is one (for validation).
    pub fn references(&self) -> Vec<(&str, Option<&CondValue>)> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<(&'a str, Option<&'a CondValue>)>) {
        match self {
            Self::Answered(q)
            | Self::AtLeast { question: q, .. }
            | Self::AtMost { question: q, .. } => {
                out.push((q, None));
            }
            Self::Equals { question, value } => out.push((question, Some(value))),
            Self::OneOf { question, values } => {
                out.extend(values.iter().map(|v| (question.as_str(), Some(v))));
                if values.is_empty() {
                    out.push((question, None));
                }
            }
            Self::All(cs) | Self::Any(cs) => cs.iter().for_each(|c| c.collect(out)),
            Self::Not(c) => c.collect(out),
        }
    }
}

impl CondValue {
    /// The value as an exact number, if it is one (a whole number, or the
    /// text of a decimal).
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Self::Int(n) => Some(Decimal::from(*n)),
            Self::Str(s) => parse_decimal(s),
        }
    }
}

/// How the numeric answer to `question` compares with `value`: `None` if
/// unanswered or either is not a number.
fn compare(answers: &impl AnswerLookup, question: &str, value: &CondValue) -> Option<Ordering> {
    let answer = answers.answer(question)?.as_decimal()?;
    Some(answer.cmp(&value.as_decimal()?))
}

fn matches_value(answer: &Answer, value: &CondValue) -> bool {
    match (answer, value) {
        (Answer::Decimal(_), v) => answer
            .as_decimal()
            .is_some_and(|a| v.as_decimal() == Some(a)),
        (Answer::Scale(n), CondValue::Int(v)) => i64::from(*n) == *v,
        (Answer::Number(n), CondValue::Int(v)) => n == v,
        (Answer::Choice(s) | Answer::Text(s) | Answer::Date(s), CondValue::Str(v)) => s == v,
        (Answer::Choices(picked), CondValue::Str(v)) => picked.iter().any(|p| p == v),
        (Answer::DontKnow, CondValue::Str(v)) => v == DONT_KNOW,
        (Answer::PreferNotToSay, CondValue::Str(v)) => v == PREFER_NOT_TO_SAY,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn parses_the_documented_json_shapes() {
        let c: Condition = serde_json::from_str(
            r#"{"all": [{"equals": {"question": "a", "value": "yes"}},
                        {"not": {"at_least": {"question": "b", "value": 3}}},
                        {"one_of": {"question": "c", "values": ["x", 2]}},
                        {"answered": "d"}]}"#,
        )
        .expect("parses");
        let a = answers(&[
            ("a", Answer::Choice("yes".into())),
            ("b", Answer::Scale(2)),
            ("c", Answer::Number(2)),
            ("d", Answer::DontKnow),
        ]);
        assert!(c.holds(&a));
        let a2 = answers(&[("a", Answer::Choice("yes".into())), ("b", Answer::Scale(4))]);
        assert!(!c.holds(&a2));
    }

    #[test]
    fn multiple_choice_equals_means_picked() {
        let c = Condition::Equals {
            question: "m".into(),
            value: CondValue::Str("bus".into()),
        };
        assert!(c.holds(&answers(&[(
            "m",
            Answer::Choices(vec!["car".into(), "bus".into()])
        )])));
        assert!(!c.holds(&answers(&[("m", Answer::Choices(vec!["car".into()]))])));
    }

    #[test]
    fn unanswered_satisfies_only_not() {
        let none = answers(&[]);
        let eq = Condition::Equals {
            question: "q".into(),
            value: CondValue::Int(1),
        };
        assert!(!eq.holds(&none));
        assert!(
            !Condition::AtMost {
                question: "q".into(),
                value: CondValue::Int(9)
            }
            .holds(&none)
        );
        assert!(Condition::Not(Box::new(eq)).holds(&none));
    }

    #[test]
    fn decimals_compare_exactly_with_whole_and_decimal_bounds() {
        let c: Condition = serde_json::from_str(
            r#"{"all": [{"at_least": {"question": "w", "value": "2.5"}},
                        {"at_most": {"question": "w", "value": 3}}]}"#,
        )
        .expect("parses");
        let holds = |v: &str| c.holds(&answers(&[("w", Answer::Decimal(v.into()))]));
        assert!(holds("2.5"));
        assert!(holds("3"));
        assert!(!holds("2.49"));
        assert!(!holds("3.01"));
        // 0.1 + 0.2 is 0.3 here: no binary floating point anywhere.
        let eq = Condition::Equals {
            question: "w".into(),
            value: CondValue::Str("0.3".into()),
        };
        assert!(eq.holds(&answers(&[("w", Answer::Decimal("0.3".into()))])));
        assert!(!eq.holds(&answers(&[(
            "w",
            Answer::Decimal("0.30000000000000004".into())
        )])));
        let whole = Condition::Equals {
            question: "w".into(),
            value: CondValue::Int(2),
        };
        assert!(whole.holds(&answers(&[("w", Answer::Decimal("2".into()))])));
    }

    #[test]
    fn special_answers_match_their_reserved_ids() {
        let c = Condition::Equals {
            question: "q".into(),
            value: CondValue::Str("prefer_not_to_say".into()),
        };
        assert!(c.holds(&answers(&[("q", Answer::PreferNotToSay)])));
        assert!(!c.holds(&answers(&[("q", Answer::DontKnow)])));
    }
}
