//! A phone's submission at an event: checked against the hub's event
//! (its forms), built into a response document by `crate::submission`
//! with the core's rules, and stored whole in the hub's store (or not at
//! all), durably, before the phone is told "stored". A retry with the
//! same key is the same response.

use hark_core::doc::now_ms;
use hark_core::form::FormRef;
use hark_core::response::ResponseContext;
use hark_core::sync::http;

use super::event::{Hub, HubError};
use crate::submission::SubmissionError;
pub use crate::submission::{Stored, Submission};

impl From<SubmissionError> for HubError {
    fn from(e: SubmissionError) -> Self {
        match e {
            SubmissionError::Bad(m) => Self::BadSubmission(m),
            SubmissionError::Core(c) => c.into(),
        }
    }
}

/// Checks `s` with the core and stores it as a submitted kiosk response,
/// durably, before returning. Blocking.
pub fn store_submission(hub: &Hub, s: Submission) -> Result<Stored, HubError> {
    let version = s.version()?;
    let event = hub.event();
    if !event.forms.is_empty() && !event.forms.contains(&s.form) {
        return Err(HubError::UnknownForm(s.form));
    }
    let store = hub.store();
    let form = store.form(&FormRef {
        id: s.form.clone(),
        version,
    })?;
    let id = hub.response_id(&s.key);
    let _one_at_a_time = hub.writing();
    if store.heads(&id)?.is_some() {
        return Ok(Stored::new(false));
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
        ..ResponseContext::default()
    };
    let author = format!("kiosk:{}", store.device_id());
    let mut doc = s.response(&form, &id, &context, &author, now)?;
    store.import_response(&doc.save())?;
    Ok(Stored::new(true))
}
