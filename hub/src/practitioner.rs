//! Practitioner mode (`hark hub --practitioner`): the hub on the
//! practitioner's own laptop or tablet, answering only that machine. The
//! practitioner chooses a form, records the context from the area's lists,
//! and the respondent answers in hark's web form; every answer, the consent
//! and the submit go through the core store's own calls (`Store::answer`,
//! `set_consent`, `submit`), each durable before the page is told, so a
//! response left half-way is a draft in the store to resume. What a submit
//! raises is read back from the response's stored flags and the form's own
//! guidance, for the practitioner's eyes only.
//!
//! Blocking: the handlers (`practitioner_http.rs`) run these on the
//! blocking pool.

use std::collections::BTreeMap;
use std::sync::Arc;

use hark_core::Store;
use hark_core::form::{FlagLevel, Form, Text};
use hark_core::lists::AreaLists;
use hark_core::response::{Consent, Permission, ResponseContext, ResponseHeader, Status};
use hark_core::store::ResponseFilter;
use hark_core::sync::http::{self, SERVER_PEER};
use serde::Serialize;

use super::context::ContextChoice;
use super::event::{HubError, Syncing};

/// The practitioner's hub, shared by every request.
#[derive(Clone, Debug)]
pub struct Desk {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    staff: Option<String>,
    syncing: Syncing,
}

/// A form offered to start.
#[derive(Clone, Debug)]
pub struct OfferedForm {
    /// Form id.
    pub id: String,
    /// Title in the form's default language.
    pub title: String,
    /// A child's or young person's form (child mode, hand-over screen).
    pub child: bool,
}

/// A draft to resume: what it is and when it started, never its answers.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Response id.
    pub id: String,
    /// The form's title.
    pub title: String,
    /// The context recorded, as labels.
    pub context: Vec<String>,
    /// When it was started (ms since the epoch).
    pub started: i64,
    /// How many questions have an answer.
    pub answered: usize,
}

/// Enrolment and what is waiting to go.
#[derive(Clone, Debug)]
pub struct SyncStatus {
    /// The server and area, when enrolled.
    pub enrolled: Option<(String, String)>,
    /// When the last sync with the server completed.
    pub last_sync: Option<i64>,
    /// Responses (documents) the next sync would send.
    pub waiting: usize,
}

/// One draft as the web form resumes it.
#[derive(Debug, Serialize)]
pub struct Resume {
    /// The form's exact version, without its safeguarding triggers.
    pub form: Form,
    /// The answers so far, in the core's JSON answer format.
    pub answers: BTreeMap<String, serde_json::Value>,
    /// Consent and assent as recorded.
    pub consent: Consent,
    /// The language recorded, if any.
    pub language: Option<String>,
}

/// Guidance for one flag a submitted response raised.
#[derive(Clone, Debug)]
pub struct Guidance {
    /// How urgent.
    pub level: FlagLevel,
    /// What to do, in the response's language (else the form's default).
    pub text: String,
}

/// What the practitioner sees once a response is handed back.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The form's title.
    pub title: String,
    /// Submitted, or still a draft (consent refused, or stopped).
    pub status: Status,
    /// Guidance for every flag raised, most urgent first.
    pub guidance: Vec<Guidance>,
    /// Consent or assent was refused (the draft will not be sent).
    pub refused: bool,
}

fn title(form: &Form) -> String {
    form.title.get(form.default_language(), "en").to_owned()
}

fn text_in(text: &Text, form: &Form, language: Option<&str>) -> String {
    text.get(
        language.unwrap_or(form.default_language()),
        form.default_language(),
    )
    .to_owned()
}

impl Desk {
    /// A practitioner's hub over `store`; changes are authored by `staff`
    /// (the practitioner's staff code), else by the device.
    pub fn new(store: Arc<Store>, staff: Option<String>) -> Self {
        store.set_user(staff.clone());
        Self {
            inner: Arc::new(Inner {
                store,
                staff,
                syncing: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    pub(super) fn syncing(&self) -> &Syncing {
        &self.inner.syncing
    }

    /// The area's lists as last received, if any.
    pub fn lists(&self) -> Result<Option<AreaLists>, HubError> {
        hark_core::sync::area_lists(self.store()).map_err(|e| HubError::Sync(e.to_string()))
    }

    /// The newest offered version of every form.
    pub fn offered(&self) -> Result<Vec<OfferedForm>, HubError> {
        Ok(self
            .store()
            .offered_forms()?
            .iter()
            .map(|f| OfferedForm {
                id: f.id.clone(),
                title: title(f),
                child: f.audience.is_child(),
            })
            .collect())
    }

    /// One offered form (newest version), for the context page.
    pub fn offered_form(&self, id: &str) -> Result<OfferedForm, HubError> {
        self.offered()?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or_else(|| HubError::UnknownForm(id.to_owned()))
    }

    /// This practitioner's drafts, newest first (kiosk responses, if the
    /// store holds any, are not theirs to resume).
    pub fn drafts(&self) -> Result<Vec<Draft>, HubError> {
        let lists = self.lists()?;
        let store = self.store();
        let mut out = Vec::new();
        for h in store.list(&ResponseFilter {
            status: Some(Status::Draft),
            ..ResponseFilter::default()
        })? {
            if h.context.kiosk {
                continue;
            }
            let form = store.form(&h.form)?;
            out.push(Draft {
                id: h.id.clone(),
                title: title(&form),
                context: context_labels(&h, lists.as_ref()),
                started: h.context.captured_at,
                answered: h.answered,
            });
        }
        Ok(out)
    }

    /// Enrolment, the last sync and what waits to go.
    pub fn sync_status(&self) -> Result<SyncStatus, HubError> {
        let store = self.store();
        let sync = |e: hark_core::sync::SyncError| HubError::Sync(e.to_string());
        Ok(SyncStatus {
            enrolled: http::enrolment(store)
                .map_err(sync)?
                .map(|(server, e)| (server, e.area)),
            last_sync: http::last_sync(store).map_err(sync)?,
            waiting: hark_core::sync::client::waiting(store, SERVER_PEER).map_err(sync)?,
        })
    }

    /// Starts a draft of `form` with the context chosen (checked against
    /// the area's lists first); returns its id.
    pub fn start(&self, form: &str, choice: &ContextChoice) -> Result<String, HubError> {
        let checked = choice.check(self.lists()?.as_ref())?;
        let store = self.store();
        let area = http::enrolment(store)
            .map_err(|e| HubError::Sync(e.to_string()))?
            .map(|(_, e)| e.area)
            .ok_or(HubError::NotEnrolled)?;
        self.offered_form(form)?;
        let context = ResponseContext {
            area,
            setting: checked.setting,
            occasion: checked.occasion,
            practitioner: self.inner.staff.clone(),
            kiosk: false,
            age_phase: checked.age_phase,
            need: checked.need,
            pathway: checked.pathway,
            ..ResponseContext::default()
        };
        Ok(store.start_response(form, &context, Consent::default())?)
    }

    /// A response of this practitioner's (never a kiosk one).
    fn header(&self, id: &str) -> Result<ResponseHeader, HubError> {
        let header = self.store().response(id)?.header;
        if header.context.kiosk {
            return Err(HubError::NoResponse);
        }
        Ok(header)
    }

    /// Whether `id` is a draft (to resume) or submitted.
    pub fn status(&self, id: &str) -> Result<Status, HubError> {
        Ok(self.header(id)?.status)
    }

    /// A draft with its answers, for the web form to resume.
    pub fn resume(&self, id: &str) -> Result<Resume, HubError> {
        let header = self.header(id)?;
        if header.status != Status::Draft {
            return Err(HubError::NotDraft);
        }
        let view = self.store().response(id)?;
        let mut form = self.store().form(&header.form)?.as_ref().clone();
        // The triggers decide what the practitioner is shown after the
        // submit; the respondent's page does not need them.
        form.safeguarding.clear();
        Ok(Resume {
            form,
            answers: view
                .answers
                .iter()
                .map(|(q, a)| (q.clone(), a.to_json()))
                .collect(),
            consent: header.consent,
            language: header.context.language,
        })
    }

    /// Records one answer (`null` clears it), durably; returns the
    /// questions the core cleared because skip logic no longer asks them.
    pub fn answer(
        &self,
        id: &str,
        question: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<String>, HubError> {
        let header = self.header(id)?;
        let store = self.store();
        let form = store.form(&header.form)?;
        let q = form.question(question).ok_or_else(|| {
            HubError::Refused(format!("question '{question}' is not in this form"))
        })?;
        let outcome = if value.is_null() {
            store.clear_answer(id, question)?
        } else {
            let answer = q.answer_from_json(value).ok_or_else(|| {
                HubError::Refused(format!("the answer to '{question}' cannot be read"))
            })?;
            store.answer(id, question, answer)?
        };
        Ok(outcome.cleared)
    }

    /// Records consent and assent, durably.
    pub fn consent(&self, id: &str, consent: Consent) -> Result<(), HubError> {
        let header = self.header(id)?;
        if header.status != Status::Draft {
            return Err(HubError::NotDraft);
        }
        Ok(self.store().set_consent(id, consent)?)
    }

    /// Submits a draft through the core (which checks consent, required
    /// questions and skip logic, and raises the flags), recording the
    /// language it was answered in. A second submit of a submitted response
    /// (a retry) changes nothing.
    pub fn submit(&self, id: &str, language: &str) -> Result<(), HubError> {
        let header = self.header(id)?;
        if header.status == Status::Submitted {
            return Ok(());
        }
        let store = self.store();
        let form = store.form(&header.form)?;
        if !form.languages.iter().any(|l| l == language) {
            return Err(HubError::BadSubmission(format!(
                "form '{}' is not written in '{language}'",
                form.id
            )));
        }
        if header.context.language.as_deref() != Some(language) {
            let mut context = header.context.clone();
            context.language = Some(language.to_owned());
            store.set_context(id, &context)?;
        }
        store.submit(id)?;
        Ok(())
    }

    /// What the practitioner is shown once the respondent hands back: the
    /// form's guidance for every flag the submit raised (read from the
    /// response's stored flags; nothing is evaluated again here).
    pub fn outcome(&self, id: &str) -> Result<Outcome, HubError> {
        let header = self.header(id)?;
        let form = self.store().form(&header.form)?;
        let language = header.context.language.as_deref();
        let mut guidance: Vec<Guidance> = header
            .flags
            .iter()
            .filter_map(|f| form.safeguarding.iter().find(|t| t.id == f.trigger))
            .map(|t| Guidance {
                level: t.level,
                text: text_in(&t.guidance, &form, language),
            })
            .collect();
        guidance.sort_by_key(|g| std::cmp::Reverse(g.level));
        let refused =
            [header.consent.consent, header.consent.assent].contains(&Permission::Refused);
        Ok(Outcome {
            title: title(&form),
            status: header.status,
            guidance,
            refused,
        })
    }

    /// Deletes a draft for good (consent refused, or started by mistake).
    pub fn discard(&self, id: &str) -> Result<(), HubError> {
        if self.header(id)?.status != Status::Draft {
            return Err(HubError::NotDraft);
        }
        self.store().erase_response(id)?;
        Ok(())
    }
}

/// A draft's context as the lists label it.
fn context_labels(h: &ResponseHeader, lists: Option<&AreaLists>) -> Vec<String> {
    use super::context::label_of;
    use hark_core::lists::ListDim;
    let c = &h.context;
    [
        label_of(lists, ListDim::Setting, c.setting.as_deref()),
        label_of(lists, ListDim::AgePhase, c.age_phase.as_deref()),
        label_of(lists, ListDim::Need, c.need.as_deref()),
        label_of(lists, ListDim::Pathway, c.pathway.as_deref()),
        c.occasion.clone(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
