//! A web form's submission (what `form.js` posts) turned into a submitted
//! response document with the core's own rules: answer checks, skip logic,
//! consent and required questions. Shared by the event hub (a phone at an
//! event) and survey links (a family at home): both build the document
//! here, in memory, and store it only if the core accepts it whole.

use std::collections::BTreeMap;

use hark_core::form::Form;
use hark_core::response::{Consent, ResponseContext, ResponseDoc};
use serde::{Deserialize, Serialize};

/// Longest submission key a browser may send.
const MAX_KEY: usize = 64;
/// Shortest: a browser's key is random, so a short one is a mistake.
const MIN_KEY: usize = 16;

/// What the web form posts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Random, made by the browser once per response; retries resend it.
    pub key: String,
    /// Form id.
    pub form: String,
    /// The exact version the browser was shown.
    pub version: String,
    /// Language the form was shown in.
    pub language: String,
    /// Consent and assent as the respondent gave them.
    pub consent: Consent,
    /// `{"question": value}` in the core's JSON answer format.
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// What the browser is told once the response is durable.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Stored {
    /// Always "stored".
    pub status: &'static str,
    /// False when this key was stored before (a retry).
    pub new: bool,
}

impl Stored {
    /// Stored now (`new`) or before (a retry).
    pub fn new(new: bool) -> Self {
        Self {
            status: "stored",
            new,
        }
    }
}

/// Why a submission cannot become a response.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// Not what the web form sends.
    #[error("{0}")]
    Bad(String),
    /// The core refused the answers, consent or submit.
    #[error(transparent)]
    Core(#[from] hark_core::Error),
}

impl Submission {
    /// Checks the key and the parsed version (before anything is looked up).
    ///
    /// # Errors
    /// [`SubmissionError::Bad`], naming what is wrong.
    pub fn version(&self) -> Result<semver::Version, SubmissionError> {
        if self.key.len() < MIN_KEY
            || self.key.len() > MAX_KEY
            || !self
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(SubmissionError::Bad(
                "the submission key must be 16 to 64 letters, digits or '-'".into(),
            ));
        }
        semver::Version::parse(&self.version)
            .map_err(|_| SubmissionError::Bad("the form version is not a version".into()))
    }

    /// The submitted response document `id` for `form`, built with the
    /// core's rules in form order (so skip logic sees earlier answers first).
    ///
    /// # Errors
    /// [`SubmissionError::Bad`] for a language the form is not written in;
    /// [`SubmissionError::Core`] for answers, consent or a submit the core
    /// refuses.
    pub fn response(
        &self,
        form: &Form,
        id: &str,
        context: &ResponseContext,
        author: &str,
        now: i64,
    ) -> Result<ResponseDoc, SubmissionError> {
        if !form.languages.contains(&self.language) {
            return Err(SubmissionError::Bad(format!(
                "form '{}' is not written in '{}'",
                form.id, self.language
            )));
        }
        let mut context = context.clone();
        context.language = Some(self.language.clone());
        context.captured_at = now;
        let mut doc = ResponseDoc::start(id, form, &context, self.consent, author)?;
        for (question, answer) in form
            .answers_from_json(&self.answers)
            .map_err(hark_core::Error::from)?
        {
            if let Some(answer) = answer {
                doc.answer(form, &question, answer, now)?;
            }
        }
        doc.submit(form, now)?;
        Ok(doc)
    }
}
