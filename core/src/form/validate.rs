//! Validation of a form on load. Each [`FormProblem`] is one thing an author
//! can get wrong; [`FormError`] says which form and question it is in.

use std::collections::HashSet;
use std::fmt;

use super::check::within;
use super::condition::{CondValue, Condition};
use super::model::{ChoiceOption, Form, QuestionKind, Text};
use crate::answer::{DONT_KNOW, Decimal, PREFER_NOT_TO_SAY, parse_date, parse_decimal};

/// A form that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FormError {
    /// The form's id, or `"?"` if it could not be read.
    pub form: String,
    /// The question (or trigger) concerned, if any.
    pub question: Option<String>,
    /// What is wrong.
    pub problem: FormProblem,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "form '{}'", self.form)?;
        if let Some(q) = &self.question {
            write!(f, ", question '{q}'")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// One thing wrong with a form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormProblem {
    /// Not valid JSON, or a field of the wrong shape.
    #[error("cannot be read: {0}")]
    Syntax(String),
    /// An id that is empty or has characters other than a-z, 0-9, `_`, `-`.
    #[error("id '{0}' must be lowercase letters, digits, '_' or '-'")]
    BadId(String),
    /// A version with build metadata (`1.0.0+x`): semver orders it after
    /// `1.0.0` although it names the same release, so it could pass for a
    /// new version of the same content.
    #[error("version '{0}' has build metadata ('+…'); give the version as major.minor.patch")]
    BuildMetadata(String),
    /// No languages listed.
    #[error("lists no languages")]
    NoLanguages,
    /// A text lacks the default language.
    #[error("{0} has no text in the default language '{1}'")]
    MissingText(&'static str, String),
    /// A form with no questions.
    #[error("has no questions")]
    NoQuestions,
    /// Two questions with one id.
    #[error("question id is used twice")]
    DuplicateQuestion,
    /// A face scale that is not 3 or 5 points.
    #[error("a face scale has 3 or 5 points, not {0}")]
    ScalePoints(u8),
    /// A face scale whose labels do not match its points.
    #[error("a face scale of {points} points needs {points} labels, not {labels}")]
    ScaleLabels {
        /// Points.
        points: u8,
        /// Labels given.
        labels: usize,
    },
    /// A choice question with fewer than two options.
    #[error("needs at least two options")]
    TooFewOptions,
    /// Two options with one id.
    #[error("option '{0}' is listed twice")]
    DuplicateOption(String),
    /// An option using a reserved id.
    #[error("option id '{0}' is reserved; use allow_dont_know / allow_prefer_not_to_say")]
    ReservedOption(String),
    /// Bounds where the minimum is above the maximum, or impossible.
    #[error("bounds are impossible: {0}")]
    BadBounds(String),
    /// "Don't know" or "don't want to say" on a free-text question.
    #[error("free-text questions cannot offer 'don't know' or 'don't want to say'")]
    SpecialOnOpenQuestion,
    /// A note that is required or offers "don't know" / "don't want to say":
    /// a note is shown, never answered.
    #[error(
        "a note takes no answer: it cannot be required or offer 'don't know' or 'don't want to say'"
    )]
    AnsweredNote,
    /// A condition reading a note, which never has an answer.
    #[error("{0} reads note '{1}', which never has an answer")]
    ReadsNote(&'static str, String),
    /// Two sections with one id.
    #[error("section id '{0}' is used twice")]
    DuplicateSection(String),
    /// A question naming a section the form does not list.
    #[error("is in section '{0}', which the form does not list")]
    UnknownSection(String),
    /// A section whose questions are not one run.
    #[error("section '{0}' is split: its questions must follow one another")]
    SplitSection(String),
    /// A section no question is in.
    #[error("section '{0}' has no questions")]
    EmptySection(String),
    /// A condition naming a question that does not exist.
    #[error("{0} refers to unknown question '{1}'")]
    UnknownReference(&'static str, String),
    /// A relevance condition on the question itself or a later one.
    #[error("relevance may only depend on earlier questions, not '{0}'")]
    ForwardReference(String),
    /// A condition comparing with a value the question cannot have.
    #[error("{0} compares '{1}' with a value it can never have")]
    ImpossibleValue(&'static str, String),
    /// Two triggers with one id.
    #[error("safeguarding trigger id is used twice")]
    DuplicateTrigger,
    /// A trigger with no guidance for the practitioner.
    #[error("safeguarding trigger gives the practitioner no guidance")]
    NoGuidance,
}

impl FormError {
    pub(crate) fn parse(json: &str, err: &serde_json::Error) -> Self {
        // Name the form if its id can be read at all.
        let form = serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned)))
            .unwrap_or_else(|| "?".to_owned());
        Self {
            form,
            question: None,
            problem: FormProblem::Syntax(err.to_string()),
        }
    }
}

/// Whether `id` may name a form, question, option or trigger: 1 to 64
/// lowercase letters, digits, `_` and `-`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl Form {
    /// Parses and validates a form written as JSON.
    pub fn from_json(json: &str) -> Result<Self, FormError> {
        let form: Form = serde_json::from_str(json).map_err(|e| FormError::parse(json, &e))?;
        form.validate()?;
        Ok(form)
    }

    /// Checks every rule of the form format. See [`FormProblem`].
    pub fn validate(&self) -> Result<(), FormError> {
        let err = |question: Option<&str>, problem| FormError {
            form: self.id.clone(),
            question: question.map(str::to_owned),
            problem,
        };
        if !valid_id(&self.id) {
            return Err(err(None, FormProblem::BadId(self.id.clone())));
        }
        if !self.version.build.is_empty() {
            return Err(err(
                None,
                FormProblem::BuildMetadata(self.version.to_string()),
            ));
        }
        let Some(lang) = self.languages.first() else {
            return Err(err(None, FormProblem::NoLanguages));
        };
        let has = |t: &Text| t.0.get(lang).is_some_and(|s| !s.trim().is_empty());
        let need = |t: &Text, what: &'static str, q: Option<&str>| {
            if has(t) {
                Ok(())
            } else {
                Err(err(q, FormProblem::MissingText(what, lang.clone())))
            }
        };
        need(&self.title, "the title", None)?;
        if let Some(intro) = &self.intro {
            need(intro, "the introduction", None)?;
        }
        if self.questions.is_empty() {
            return Err(err(None, FormProblem::NoQuestions));
        }
        let mut sections = HashSet::new();
        for s in &self.sections {
            if !valid_id(&s.id) {
                return Err(err(None, FormProblem::BadId(s.id.clone())));
            }
            if !sections.insert(s.id.as_str()) {
                return Err(err(None, FormProblem::DuplicateSection(s.id.clone())));
            }
            need(&s.title, "a section title", None)?;
        }
        // Each section's questions are one run: a section once left is
        // never entered again.
        let mut closed: HashSet<&str> = HashSet::new();
        let mut current: Option<&str> = None;
        for q in &self.questions {
            let at = Some(q.id.as_str());
            let here = q.section.as_deref();
            if let Some(s) = here
                && !sections.contains(s)
            {
                return Err(err(at, FormProblem::UnknownSection(s.to_owned())));
            }
            if here != current {
                if let Some(left) = current {
                    closed.insert(left);
                }
                if let Some(s) = here
                    && closed.contains(s)
                {
                    return Err(err(at, FormProblem::SplitSection(s.to_owned())));
                }
                current = here;
            }
        }
        if let Some(s) = self.sections.iter().find(|s| {
            !self
                .questions
                .iter()
                .any(|q| q.section.as_deref() == Some(&s.id))
        }) {
            return Err(err(None, FormProblem::EmptySection(s.id.clone())));
        }
        let mut seen = HashSet::new();
        for (pos, q) in self.questions.iter().enumerate() {
            let at = Some(q.id.as_str());
            if !valid_id(&q.id) {
                return Err(err(at, FormProblem::BadId(q.id.clone())));
            }
            if !seen.insert(q.id.as_str()) {
                return Err(err(at, FormProblem::DuplicateQuestion));
            }
            need(&q.label, "the label", at)?;
            for (t, what) in [
                (&q.hint, "the hint"),
                (&q.easy_read, "the easy-read text"),
                (&q.read_aloud, "the read-aloud text"),
                (&q.required_message, "the required message"),
                (&q.constraint_message, "the constraint message"),
            ] {
                if let Some(t) = t {
                    need(t, what, at)?;
                }
            }
            let options: &[ChoiceOption] = match &q.kind {
                QuestionKind::FaceScale { points, labels } => {
                    if *points != 3 && *points != 5 {
                        return Err(err(at, FormProblem::ScalePoints(*points)));
                    }
                    if labels.len() != usize::from(*points) {
                        return Err(err(
                            at,
                            FormProblem::ScaleLabels {
                                points: *points,
                                labels: labels.len(),
                            },
                        ));
                    }
                    labels
                }
                QuestionKind::SingleChoice { options } => options,
                QuestionKind::MultipleChoice {
                    options,
                    min_selected,
                    max_selected,
                } => {
                    let n = u32::try_from(options.len()).unwrap_or(u32::MAX);
                    let min = min_selected.unwrap_or(1);
                    let max = max_selected.unwrap_or(n);
                    if min > max || max > n || max == 0 {
                        return Err(err(
                            at,
                            FormProblem::BadBounds(format!("pick {min} to {max} of {n}")),
                        ));
                    }
                    options
                }
                QuestionKind::Number { min, max } => {
                    if min > max {
                        return Err(err(at, FormProblem::BadBounds(format!("{min} > {max}"))));
                    }
                    &[]
                }
                QuestionKind::Decimal { min, max } => {
                    ordered_bounds(min, max, parse_decimal, "a number such as 2.5", "above")
                        .map_err(|p| err(at, p))?;
                    &[]
                }
                QuestionKind::Date { min, max } => {
                    ordered_bounds(min, max, parse_date, "YYYY-MM-DD", "after")
                        .map_err(|p| err(at, p))?;
                    &[]
                }
                QuestionKind::FreeText { max_length } => {
                    if max_length == &Some(0) {
                        return Err(err(at, FormProblem::BadBounds("max_length 0".into())));
                    }
                    if q.allow_dont_know || q.allow_prefer_not_to_say {
                        return Err(err(at, FormProblem::SpecialOnOpenQuestion));
                    }
                    &[]
                }
                QuestionKind::YesNo => &[],
                QuestionKind::Note => {
                    if q.required || q.allow_dont_know || q.allow_prefer_not_to_say {
                        return Err(err(at, FormProblem::AnsweredNote));
                    }
                    &[]
                }
            };
            if matches!(
                q.kind,
                QuestionKind::SingleChoice { .. } | QuestionKind::MultipleChoice { .. }
            ) && options.len() < 2
            {
                return Err(err(at, FormProblem::TooFewOptions));
            }
            let mut ids = HashSet::new();
            for o in options {
                if o.id == DONT_KNOW || o.id == PREFER_NOT_TO_SAY {
                    return Err(err(at, FormProblem::ReservedOption(o.id.clone())));
                }
                if !valid_id(&o.id) {
                    return Err(err(at, FormProblem::BadId(o.id.clone())));
                }
                if !ids.insert(o.id.as_str()) {
                    return Err(err(at, FormProblem::DuplicateOption(o.id.clone())));
                }
                need(&o.label, "an option label", at)?;
                if let Some(t) = &o.easy_read {
                    need(t, "an option's easy-read label", at)?;
                }
            }
            if let Some(cond) = &q.relevant {
                self.check_condition(cond, "the relevance condition", Some(pos))
                    .map_err(|p| err(at, p))?;
            }
        }
        let mut triggers = HashSet::new();
        for t in &self.safeguarding {
            let at = Some(t.id.as_str());
            if !valid_id(&t.id) {
                return Err(err(at, FormProblem::BadId(t.id.clone())));
            }
            if !triggers.insert(t.id.as_str()) {
                return Err(err(at, FormProblem::DuplicateTrigger));
            }
            if !has(&t.guidance) {
                return Err(err(at, FormProblem::NoGuidance));
            }
            self.check_condition(&t.when, "the safeguarding trigger", None)
                .map_err(|p| err(at, p))?;
        }
        Ok(())
    }

    /// Checks that a condition names known (and, for relevance, earlier)
    /// questions and compares them with values they can have.
    fn check_condition(
        &self,
        cond: &Condition,
        what: &'static str,
        before: Option<usize>,
    ) -> Result<(), FormProblem> {
        for (qid, value) in cond.references() {
            let Some(pos) = self.position(qid) else {
                return Err(FormProblem::UnknownReference(what, qid.to_owned()));
            };
            if before.is_some_and(|b| pos >= b) {
                return Err(FormProblem::ForwardReference(qid.to_owned()));
            }
            let q = &self.questions[pos];
            if !q.kind.takes_answer() {
                return Err(FormProblem::ReadsNote(what, qid.to_owned()));
            }
            let possible = match value {
                None => true,
                Some(CondValue::Str(s)) if s == DONT_KNOW => q.allow_dont_know,
                Some(CondValue::Str(s)) if s == PREFER_NOT_TO_SAY => q.allow_prefer_not_to_say,
                Some(CondValue::Str(s)) => match &q.kind {
                    QuestionKind::SingleChoice { .. }
                    | QuestionKind::MultipleChoice { .. }
                    | QuestionKind::YesNo => q.kind.option_ids().contains(&s.as_str()),
                    QuestionKind::FreeText { .. } => true,
                    QuestionKind::Date { .. } => parse_date(s).is_some(),
                    QuestionKind::Decimal { min, max } => {
                        parse_decimal(s).is_some_and(|d| within(&d, min, max, parse_decimal))
                    }
                    QuestionKind::FaceScale { .. }
                    | QuestionKind::Number { .. }
                    | QuestionKind::Note => false,
                },
                Some(CondValue::Int(n)) => match &q.kind {
                    QuestionKind::FaceScale { points, .. } => (1..=i64::from(*points)).contains(n),
                    QuestionKind::Number { min, max } => (*min..=*max).contains(n),
                    QuestionKind::Decimal { min, max } => {
                        within(&Decimal::from(*n), min, max, parse_decimal)
                    }
                    _ => false,
                },
            };
            if !possible {
                return Err(FormProblem::ImpossibleValue(what, qid.to_owned()));
            }
        }
        // A bound compares numbers: a whole number with a face scale or a
        // whole number, any number with a decimal.
        for (qid, value) in cond.comparisons() {
            let fits = self.question(qid).is_some_and(|q| match (&q.kind, value) {
                (QuestionKind::Decimal { .. }, v) => v.as_decimal().is_some(),
                (QuestionKind::FaceScale { .. } | QuestionKind::Number { .. }, v) => {
                    matches!(v, CondValue::Int(_))
                }
                _ => false,
            });
            if !fits {
                return Err(FormProblem::ImpossibleValue(what, qid.to_owned()));
            }
        }
        Ok(())
    }
}

/// Checks that each bound given parses and that the lower is not above
/// the upper; `shape` says what a bound must look like.
fn ordered_bounds<T: PartialOrd + fmt::Display>(
    min: &Option<String>,
    max: &Option<String>,
    parse: impl Fn(&str) -> Option<T>,
    shape: &str,
    after: &str,
) -> Result<(), FormProblem> {
    let read = |b: &Option<String>| match b {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| FormProblem::BadBounds(format!("'{s}' is not {shape}"))),
    };
    match (read(min)?, read(max)?) {
        (Some(a), Some(b)) if a > b => Err(FormProblem::BadBounds(format!("{a} is {after} {b}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answer;
    use crate::test_support::SAMPLE_FORM;
    use serde_json::{Value, json};

    /// Applies `edit` to the sample form and returns the validation error.
    fn error_after(edit: impl FnOnce(&mut Value)) -> FormError {
        let mut v: Value = serde_json::from_str(SAMPLE_FORM).expect("json");
        edit(&mut v);
        Form::from_json(&v.to_string()).expect_err("the edit makes the form invalid")
    }

    fn q(v: &mut Value, i: usize) -> &mut Value {
        &mut v["questions"][i]
    }

    /// The sample's age question as a decimal with these bounds.
    fn decimal(min: Value, max: Value) -> Value {
        let mut q = json!({"id": "age", "type": "decimal", "label": {"en": "How old are you?"}});
        for (k, b) in [("min", min), ("max", max)] {
            if !b.is_null() {
                q[k] = b;
            }
        }
        q
    }

    #[test]
    fn the_sample_form_is_valid_and_round_trips() {
        let form = Form::from_json(SAMPLE_FORM).expect("valid");
        assert_eq!(Form::from_json(&form.to_json()).expect("round trip"), form);
    }

    #[test]
    fn a_decimal_question_with_decimal_bounds_and_triggers_is_valid() {
        let mut v: Value = serde_json::from_str(SAMPLE_FORM).expect("json");
        *q(&mut v, 5) = decimal(json!("0.5"), json!("25.5"));
        v["safeguarding"][1]["when"] = json!({"any": [
            {"at_least": {"question": "age", "value": "20.25"}},
            {"at_most": {"question": "age", "value": 1}},
            {"equals": {"question": "age", "value": "3.50"}}
        ]});
        let form = Form::from_json(&v.to_string()).expect("valid");
        assert_eq!(Form::from_json(&form.to_json()).expect("round trip"), form);
        let age = form.question("age").expect("age");
        assert_eq!(age.kind.name(), "decimal");
        let answers = |a: &str| {
            std::collections::BTreeMap::from([("age".to_owned(), Answer::Decimal(a.into()))])
        };
        let raised = |a: &str| form.safeguarding[1].when.holds(&answers(a));
        assert!(raised("20.25") && raised("1") && raised("3.5") && raised("0.5"));
        assert!(!raised("20.2") && !raised("3.51") && !raised("1.01"));
    }

    #[test]
    fn syntax_errors_name_the_form() {
        let e = Form::from_json(r#"{"id": "broken", "version": "1.0"}"#).expect_err("bad");
        assert_eq!(e.form, "broken");
        assert!(matches!(e.problem, FormProblem::Syntax(_)));
        let e = error_after(|v| q(v, 0)["requird"] = json!(true));
        assert!(
            matches!(&e.problem, FormProblem::Syntax(s) if s.contains("requird")),
            "{e}"
        );
        let e = error_after(|v| q(v, 0)["type"] = json!("slider"));
        assert!(
            matches!(&e.problem, FormProblem::Syntax(s) if s.contains("slider")),
            "{e}"
        );
        let e = error_after(|v| v["version"] = json!("1.0.0+hartlepool"));
        assert!(matches!(e.problem, FormProblem::BuildMetadata(_)), "{e}");
        let e = error_after(|v| v["version"] = json!("one"));
        assert!(matches!(e.problem, FormProblem::Syntax(_)));
    }

    #[test]
    fn one_error_per_rule_naming_form_question_and_problem() {
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Edit, Option<&str>, FormProblem)> = vec![
            (
                Box::new(|v| v["id"] = json!("Bad Id")),
                None,
                FormProblem::BadId("Bad Id".into()),
            ),
            (
                Box::new(|v| v["languages"] = json!([])),
                None,
                FormProblem::NoLanguages,
            ),
            (
                Box::new(|v| v["title"] = json!({"cy": "Teitl"})),
                None,
                FormProblem::MissingText("the title", "en".into()),
            ),
            (
                Box::new(|v| v["questions"] = json!([])),
                None,
                FormProblem::NoQuestions,
            ),
            (
                Box::new(|v| q(v, 1)["id"] = json!("school")),
                Some("school"),
                FormProblem::DuplicateQuestion,
            ),
            (
                Box::new(|v| q(v, 0)["id"] = json!("")),
                Some(""),
                FormProblem::BadId(String::new()),
            ),
            (
                Box::new(|v| q(v, 0)["label"] = json!({"cy": "Ysgol"})),
                Some("school"),
                FormProblem::MissingText("the label", "en".into()),
            ),
            (
                Box::new(|v| q(v, 0)["easy_read"] = json!({"en": "  "})),
                Some("school"),
                FormProblem::MissingText("the easy-read text", "en".into()),
            ),
            (
                Box::new(|v| q(v, 0)["points"] = json!(4)),
                Some("school"),
                FormProblem::ScalePoints(4),
            ),
            (
                Box::new(|v| q(v, 0)["points"] = json!(3)),
                Some("school"),
                FormProblem::ScaleLabels {
                    points: 3,
                    labels: 5,
                },
            ),
            (
                Box::new(|v| q(v, 4)["options"] = json!([{"id": "only", "label": {"en": "Only"}}])),
                Some("club_name"),
                FormProblem::TooFewOptions,
            ),
            (
                Box::new(|v| q(v, 4)["options"][1]["id"] = json!("sport")),
                Some("club_name"),
                FormProblem::DuplicateOption("sport".into()),
            ),
            (
                Box::new(|v| q(v, 4)["options"][1]["id"] = json!("dont_know")),
                Some("club_name"),
                FormProblem::ReservedOption("dont_know".into()),
            ),
            (
                Box::new(|v| q(v, 4)["options"][1]["label"] = json!({})),
                Some("club_name"),
                FormProblem::MissingText("an option label", "en".into()),
            ),
            (
                Box::new(|v| q(v, 5)["min"] = json!(30)),
                Some("age"),
                FormProblem::BadBounds("30 > 25".into()),
            ),
            (
                Box::new(|v| q(v, 2)["max_selected"] = json!(9)),
                Some("tell"),
                FormProblem::BadBounds("pick 1 to 9 of 4".into()),
            ),
            (
                Box::new(|v| q(v, 6)["max"] = json!("2019-01-01")),
                Some("visit"),
                FormProblem::BadBounds("2020-01-01 is after 2019-01-01".into()),
            ),
            (
                Box::new(|v| q(v, 6)["min"] = json!("01/01/2020")),
                Some("visit"),
                FormProblem::BadBounds("'01/01/2020' is not YYYY-MM-DD".into()),
            ),
            (
                Box::new(|v| q(v, 1)["allow_dont_know"] = json!(true)),
                Some("why_unsafe"),
                FormProblem::SpecialOnOpenQuestion,
            ),
            (
                Box::new(|v| q(v, 1)["relevant"] = json!({"answered": "ghost"})),
                Some("why_unsafe"),
                FormProblem::UnknownReference("the relevance condition", "ghost".into()),
            ),
            (
                Box::new(|v| q(v, 1)["relevant"] = json!({"answered": "age"})),
                Some("why_unsafe"),
                FormProblem::ForwardReference("age".into()),
            ),
            (
                Box::new(|v| q(v, 1)["relevant"] = json!({"answered": "why_unsafe"})),
                Some("why_unsafe"),
                FormProblem::ForwardReference("why_unsafe".into()),
            ),
            (
                Box::new(|v| {
                    q(v, 4)["relevant"] = json!({"equals": {"question": "club", "value": "maybe"}})
                }),
                Some("club_name"),
                FormProblem::ImpossibleValue("the relevance condition", "club".into()),
            ),
            (
                Box::new(|v| {
                    q(v, 1)["relevant"] = json!({"equals": {"question": "school", "value": 7}})
                }),
                Some("why_unsafe"),
                FormProblem::ImpossibleValue("the relevance condition", "school".into()),
            ),
            (
                Box::new(|v| q(v, 10)["required"] = json!(true)),
                Some("thanks"),
                FormProblem::AnsweredNote,
            ),
            (
                Box::new(|v| q(v, 10)["allow_dont_know"] = json!(true)),
                Some("thanks"),
                FormProblem::AnsweredNote,
            ),
            (
                Box::new(|v| v["safeguarding"][0]["when"] = json!({"answered": "thanks"})),
                Some("unsafe_school"),
                FormProblem::ReadsNote("the safeguarding trigger", "thanks".into()),
            ),
            (
                Box::new(|v| {
                    let again = json!({"id": "more", "title": {"en": "Again"}});
                    v["sections"].as_array_mut().expect("sections").push(again);
                }),
                None,
                FormProblem::DuplicateSection("more".into()),
            ),
            (
                Box::new(|v| v["sections"][0]["title"] = json!({"cy": "Adran"})),
                None,
                FormProblem::MissingText("a section title", "en".into()),
            ),
            (
                Box::new(|v| q(v, 2)["section"] = json!("ghost")),
                Some("tell"),
                FormProblem::UnknownSection("ghost".into()),
            ),
            (
                Box::new(|v| q(v, 3)["section"] = json!("more")),
                Some("q8"),
                FormProblem::SplitSection("more".into()),
            ),
            (
                Box::new(|v| {
                    let extra = json!({"id": "extra", "title": {"en": "Extra"}});
                    v["sections"].as_array_mut().expect("sections").push(extra);
                }),
                None,
                FormProblem::EmptySection("extra".into()),
            ),
            (
                Box::new(|v| v["safeguarding"][1]["id"] = json!("unsafe_school")),
                Some("unsafe_school"),
                FormProblem::DuplicateTrigger,
            ),
            (
                Box::new(|v| v["safeguarding"][0]["guidance"] = json!({"en": ""})),
                Some("unsafe_school"),
                FormProblem::NoGuidance,
            ),
            (
                Box::new(|v| v["safeguarding"][0]["when"] = json!({"answered": "ghost"})),
                Some("unsafe_school"),
                FormProblem::UnknownReference("the safeguarding trigger", "ghost".into()),
            ),
            (
                Box::new(|v| {
                    v["safeguarding"][1]["when"] =
                        json!({"equals": {"question": "club", "value": "prefer_not_to_say"}})
                }),
                Some("tells_nobody"),
                FormProblem::ImpossibleValue("the safeguarding trigger", "club".into()),
            ),
            (
                Box::new(|v| *q(v, 5) = decimal(json!("30.5"), json!("25"))),
                Some("age"),
                FormProblem::BadBounds("30.5 is above 25".into()),
            ),
            (
                Box::new(|v| *q(v, 5) = decimal(json!("4,5"), Value::Null)),
                Some("age"),
                FormProblem::BadBounds("'4,5' is not a number such as 2.5".into()),
            ),
            (
                Box::new(|v| {
                    *q(v, 5) = decimal(json!("4"), json!("25.5"));
                    v["safeguarding"][1]["when"] =
                        json!({"equals": {"question": "age", "value": "25.6"}});
                }),
                Some("tells_nobody"),
                FormProblem::ImpossibleValue("the safeguarding trigger", "age".into()),
            ),
            (
                Box::new(|v| {
                    v["safeguarding"][1]["when"] =
                        json!({"at_least": {"question": "why_unsafe", "value": 3}});
                }),
                Some("tells_nobody"),
                FormProblem::ImpossibleValue("the safeguarding trigger", "why_unsafe".into()),
            ),
            (
                Box::new(|v| {
                    v["safeguarding"][1]["when"] =
                        json!({"at_least": {"question": "school", "value": "2.5"}});
                }),
                Some("tells_nobody"),
                FormProblem::ImpossibleValue("the safeguarding trigger", "school".into()),
            ),
            (
                Box::new(|v| {
                    v["safeguarding"][1]["when"] =
                        json!({"at_most": {"question": "age", "value": "young"}});
                }),
                Some("tells_nobody"),
                FormProblem::ImpossibleValue("the safeguarding trigger", "age".into()),
            ),
        ];
        for (edit, question, problem) in cases {
            let e = error_after(edit);
            let form = if e.problem == FormProblem::BadId("Bad Id".into()) {
                "Bad Id"
            } else {
                "sample"
            };
            assert_eq!(e.form, form);
            assert_eq!(e.question.as_deref(), question, "{e}");
            assert_eq!(e.problem, problem, "{e}");
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("form '{form}'")), "{msg}");
            if let Some(q) = question {
                assert!(msg.contains(&format!("question '{q}'")), "{msg}");
            }
        }
    }
}
