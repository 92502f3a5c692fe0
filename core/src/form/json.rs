//! Answers written as JSON, `{"question_id": value}`: the format of
//! `hark device --answers`, of test fixtures and of anything that hands
//! hark answers as JSON. A number for face scales and numbers, its text
//! (`"2.5"`, never a JSON fraction, which has been through binary floating
//! point) or a whole number for decimals, an option id
//! for single choice and yes/no, a list of option ids for multiple choice,
//! a string for text and dates, `"dont_know"` / `"prefer_not_to_say"`
//! where offered, and `null` to clear.

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{Form, Question, QuestionKind};
use crate::answer::{Answer, AnswerError, DONT_KNOW, PREFER_NOT_TO_SAY};

impl Answer {
    /// The answer as the JSON value [`Question::answer_from_json`] reads
    /// back as this answer.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Scale(n) => Value::from(*n),
            Self::Number(n) => Value::from(*n),
            Self::Choice(s) | Self::Text(s) | Self::Date(s) | Self::Decimal(s) => {
                Value::from(s.as_str())
            }
            Self::Choices(v) => Value::from(v.clone()),
            Self::DontKnow => Value::from(DONT_KNOW),
            Self::PreferNotToSay => Value::from(PREFER_NOT_TO_SAY),
        }
    }
}

impl Question {
    /// Reads one JSON value as an answer of this question's kind, or
    /// `None` if it has no such reading. The answer is not yet checked
    /// against the question's rules ([`Question::check`] does that).
    pub fn answer_from_json(&self, value: &Value) -> Option<Answer> {
        match value {
            Value::String(s) if s == DONT_KNOW => Some(Answer::DontKnow),
            Value::String(s) if s == PREFER_NOT_TO_SAY => Some(Answer::PreferNotToSay),
            Value::Number(n) => match self.kind {
                // A whole number is exact; any other JSON number has been
                // through binary floating point, so a decimal is its text.
                QuestionKind::Decimal { .. } => n
                    .as_i64()
                    .map(|i| Answer::Decimal(i.to_string()))
                    .or_else(|| n.as_u64().map(|u| Answer::Decimal(u.to_string()))),
                QuestionKind::FaceScale { .. } => n
                    .as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .map(Answer::Scale),
                _ => n.as_i64().map(Answer::Number),
            },
            Value::String(s) => Some(match self.kind {
                QuestionKind::FreeText { .. } => Answer::Text(s.clone()),
                QuestionKind::Date { .. } => Answer::Date(s.clone()),
                QuestionKind::Decimal { .. } => Answer::Decimal(s.clone()),
                QuestionKind::MultipleChoice { .. } => Answer::Choices(vec![s.clone()]),
                _ => Answer::Choice(s.clone()),
            }),
            Value::Array(items) => Some(Answer::Choices(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            )),
            _ => None,
        }
    }
}

impl Form {
    /// Reads `{"question": value}` answers in form order (so skip logic
    /// sees earlier answers first); `None` clears. Refused, before anything
    /// is stored, if a question is not in the form or a value has no
    /// reading for its question.
    pub fn answers_from_json(
        &self,
        answers: &BTreeMap<String, Value>,
    ) -> Result<Vec<(String, Option<Answer>)>, AnswerError> {
        if let Some(unknown) = answers.keys().find(|k| self.question(k).is_none()) {
            return Err(AnswerError::UnknownQuestion {
                question: unknown.clone(),
            });
        }
        self.questions
            .iter()
            .filter_map(|q| answers.get(&q.id).map(|v| (q, v)))
            .map(|(q, value)| {
                if value.is_null() {
                    return Ok((q.id.clone(), None));
                }
                let answer = q
                    .answer_from_json(value)
                    .ok_or_else(|| AnswerError::Unreadable {
                        question: q.id.clone(),
                    })?;
                Ok((q.id.clone(), Some(answer)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_form;

    #[test]
    fn json_values_read_as_the_question_expects_in_form_order() {
        let form = sample_form();
        let map: BTreeMap<String, Value> = serde_json::from_str(
            r#"{"tell": ["friend", "parent"], "school": 4, "club": "dont_know", "age": null}"#,
        )
        .expect("json");
        let got = form.answers_from_json(&map).expect("readable");
        assert_eq!(
            got,
            vec![
                ("school".to_owned(), Some(Answer::Scale(4))),
                (
                    "tell".to_owned(),
                    Some(Answer::Choices(vec!["friend".into(), "parent".into()]))
                ),
                ("club".to_owned(), Some(Answer::DontKnow)),
                ("age".to_owned(), None),
            ]
        );
        let unknown: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"nope": 1}"#).expect("json");
        assert_eq!(
            form.answers_from_json(&unknown),
            Err(AnswerError::UnknownQuestion {
                question: "nope".into()
            })
        );
        let bad: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"school": {"x": 1}}"#).expect("json");
        assert!(matches!(
            form.answers_from_json(&bad),
            Err(AnswerError::Unreadable { .. })
        ));
    }

    #[test]
    fn every_answer_reads_back_from_its_json() {
        let mut forms = crate::form::builtin_forms().expect("built-in forms");
        let mut decimal: Value =
            serde_json::from_str(crate::test_support::SAMPLE_FORM).expect("json");
        decimal["questions"][5] = serde_json::json!(
            {"id": "age", "type": "decimal", "min": "0.5", "label": {"en": "Age?"}}
        );
        forms.push(Form::from_json(&decimal.to_string()).expect("valid"));
        for form in &forms {
            for seed in 0..40 {
                for (q, answer) in crate::form::plausible_answers(form, crate::form::seeded(seed)) {
                    let question = form.question(&q).expect("question");
                    assert_eq!(
                        question.answer_from_json(&answer.to_json()),
                        Some(answer.clone()),
                        "{} {q}",
                        form.id
                    );
                }
            }
        }
        let age = forms.last().and_then(|f| f.question("age")).expect("age");
        let read = |v: Value| age.answer_from_json(&v);
        // A JSON fraction has been through f64 (1234567.1234567890123 would
        // arrive as 1234567.123456789): refused, never rounded.
        assert_eq!(read(serde_json::json!(2.5)), None);
        let long: Value = serde_json::from_str("1234567.1234567890123").expect("json");
        assert_eq!(read(long), None);
        assert_eq!(
            read(serde_json::json!("2.50")),
            Some(Answer::Decimal("2.50".into()))
        );
        assert_eq!(
            read(serde_json::json!(3)).map(|a| age.check(a)),
            Some(Ok(Answer::Decimal("3".into())))
        );
    }
}
