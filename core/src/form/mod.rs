//! Forms: the survey definitions practitioners and families answer.
//!
//! A [`Form`] is plain data (serde, authored as JSON) and is checked by
//! [`Form::from_json`] / [`Form::validate`] before anything may use it. Every
//! validation error names the form, the question (where there is one) and the
//! problem, so an author can fix it without reading code.
//!
//! The model covers the common subset of XLSForm: question types, `relevant`
//! (as a [`Condition`] tree), `required`, constraints (bounds per kind), choices
//! and labels per language. It adds what SEND voice work needs: face scales,
//! "don't know" / "don't want to say" on any closed question, a child-friendly
//! variant (easy-read text, a symbol per option, read-aloud text) and
//! safeguarding triggers with the guidance the practitioner is shown.
//!
//! The rules live beside the model, one concern a file, and nothing in
//! them imports this module back: `model` (the data), `validate` (every
//! rule of the format), `check` (an answer against its question), `walk`
//! (skip logic: which questions are asked given the answers), `json` (answers
//! written as JSON), `condition` (skip-logic and trigger conditions),
//! `display` (an answer in words), `changes` (what changed between two
//! versions, and which questions reports must list apart).

mod builtin;
mod changes;
mod check;
mod condition;
mod display;
mod json;
mod model;
mod sample;
mod validate;
mod walk;

pub use crate::answer::{DONT_KNOW, PREFER_NOT_TO_SAY};
pub use builtin::{builtin_form, builtin_forms, is_shipped};
pub use changes::{Bump, Changes, Shape, bump_between};
pub use condition::{CondValue, Condition};
pub use model::{
    Audience, ChoiceOption, FlagLevel, Form, FormRef, Question, QuestionKind, Section, Text, Theme,
    Trigger,
};
pub use sample::{plausible_answer, plausible_answers, seeded};
pub use validate::{FormError, FormProblem, valid_id};
pub use walk::Walk;
