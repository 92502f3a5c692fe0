//! A phone's submission: what the web form posts, checked by the core and
//! stored as one response document. The answers are applied to a fresh
//! document in memory with the core's own rules (answer checks, skip logic,
//! consent, required questions); only a response the core accepts whole is
//! written, in one transaction, so a refused submission stores nothing.

use std::collections::BTreeMap;

use hark_core::doc::now_ms;
use hark_core::form::FormRef;
use hark_core::response::{Consent, ResponseContext, ResponseDoc};
use hark_core::sync::http;
use serde::{Deserialize, Serialize};

use super::event::{Hub, HubError};

/// Longest submission key a phone may send.
const MAX_KEY: usize = 64;
/// Shortest: a phone's key is random, so a short one is a mistake.
const MIN_KEY: usize = 16;

/// What the web form posts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Random, made by the phone once per response; retries resend it.
    pub key: String,
    /// Form id.
    pub form: String,
    /// The exact version the phone was shown.
    pub version: String,
    /// Language the form was shown in.
    pub language: String,
    /// Consent and assent as the respondent gave them.
    pub consent: Consent,
    /// `{"question": value}` in the core's JSON answer format.
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// What the phone is told once the response is durable.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Stored {
    /// Always "stored".
    pub status: &'static str,
    /// False when this key was stored before (a retry).
    pub new: bool,
}

/// Checks `s` with the core and stores it as a submitted kiosk response,
/// durably, before returning. Blocking.
pub fn store_submission(hub: &Hub, s: Submission) -> Result<Stored, HubError> {
    if s.key.len() < MIN_KEY
        || s.key.len() > MAX_KEY
        || !s.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(HubError::BadSubmission(
            "the submission key must be 16 to 64 letters, digits or '-'".into(),
        ));
    }
    let event = hub.event();
    if !event.forms.is_empty() && !event.forms.contains(&s.form) {
        return Err(HubError::UnknownForm(s.form));
    }
    let version = semver::Version::parse(&s.version)
        .map_err(|_| HubError::BadSubmission("the form version is not a version".into()))?;
    let store = hub.store();
    let form = store.form(&FormRef {
        id: s.form.clone(),
        version,
    })?;
    if !form.languages.contains(&s.language) {
        return Err(HubError::BadSubmission(format!(
            "form '{}' is not written in '{}'",
            form.id, s.language
        )));
    }
    let id = hub.response_id(&s.key);
    let _one_at_a_time = hub.writing();
    if store.heads(&id)?.is_some() {
        return Ok(Stored {
            status: "stored",
            new: false,
        });
    }
    let area = http::enrolment(store)
        .map_err(|e| HubError::Sync(e.to_string()))?
        .map(|(_, e)| e.area)
        .ok_or(HubError::NotEnrolled)?;
    let now = now_ms();
    let context = ResponseContext {
        area,
        setting: event.setting.clone(),
        occasion: Some(event.name.clone()),
        practitioner: None,
        kiosk: true,
        device: store.device_id().to_owned(),
        captured_at: now,
        language: Some(s.language.clone()),
        ..ResponseContext::default()
    };
    let author = format!("kiosk:{}", store.device_id());
    let mut doc = ResponseDoc::start(&id, &form, &context, s.consent, &author)?;
    // In form order, so skip logic sees earlier answers first.
    for (question, answer) in form
        .answers_from_json(&s.answers)
        .map_err(hark_core::Error::from)?
    {
        if let Some(answer) = answer {
            doc.answer(&form, &question, answer, now)?;
        }
    }
    doc.submit(&form, now)?;
    store.import_response(&doc.save())?;
    Ok(Stored {
        status: "stored",
        new: true,
    })
}
