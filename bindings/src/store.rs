//! The store object: a thin wrapper holding `Arc<hark_core::Store>`, the
//! platform keystore trait it is opened with, and the async calls (enrolment
//! and sync) that run the core's blocking HTTP on tokio's blocking pool.

use std::path::Path;
use std::sync::Arc;

use hark_core::StoreKey;
use hark_core::sync::{bundle, http};

use crate::error::{HarkError, Result};
use crate::model::{
    Answer, AreaLists, BundleImport, Consent, Enrolment, FamilyNote, Outcome, ResponseContext,
    ResponseFilter, ResponseHeader, ResponseView, SafeguardingFlag, SurveyForm, SyncReport,
};

/// The app's key store: Android Keystore or the iOS Keychain. hark asks it
/// for the 32-byte store key when a store is opened, and hands it a new
/// random key to keep when there is none yet.
#[uniffi::export(with_foreign)]
pub trait Keystore: Send + Sync {
    /// The store key kept for this store, or `None` if there is none yet.
    fn load_key(&self) -> Result<Option<Vec<u8>>>;
    /// Keep this new key (32 random bytes) for this store.
    fn save_key(&self, key: Vec<u8>) -> Result<()>;
}

/// Progress of a sync, called from a background thread.
#[uniffi::export(with_foreign)]
pub trait SyncProgress: Send + Sync {
    /// `done` of `total` documents sent so far.
    fn progress(&self, done: u64, total: u64);
}

struct ProgressAdapter(Option<Arc<dyn SyncProgress>>);

impl hark_core::sync::Progress for ProgressAdapter {
    fn progress(&self, done: usize, total: usize) {
        if let Some(p) = &self.0 {
            p.progress(
                u64::try_from(done).unwrap_or(u64::MAX),
                u64::try_from(total).unwrap_or(u64::MAX),
            );
        }
    }
}

fn key_from(bytes: &[u8]) -> Result<StoreKey> {
    StoreKey::from_slice(bytes).ok_or_else(|| HarkError::Keystore {
        detail: format!(
            "the store key must be 32 bytes, the keystore gave {}",
            bytes.len()
        ),
    })
}

fn new_key() -> Result<Vec<u8>> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| HarkError::Keystore {
        detail: format!("no randomness for a new store key: {e}"),
    })?;
    Ok(key)
}

/// The encrypted store on this device. Share one per store file.
#[derive(Debug, uniffi::Object)]
pub struct HarkStore {
    pub(crate) inner: Arc<hark_core::Store>,
}

#[uniffi::export(async_runtime = "tokio")]
impl HarkStore {
    /// Opens (or creates) the store at `path` with the key `keystore` keeps;
    /// on first use, a new random key is made and given to the keystore
    /// before the store is created.
    #[uniffi::constructor]
    pub fn open(path: String, keystore: Arc<dyn Keystore>) -> Result<Arc<Self>> {
        let key = match keystore.load_key()? {
            Some(key) => key_from(&key)?,
            None => {
                let key = new_key()?;
                keystore.save_key(key.clone())?;
                key_from(&key)?
            }
        };
        Self::open_with(&path, &key)
    }

    /// Opens (or creates) the store at `path` with a 32-byte key.
    #[uniffi::constructor]
    pub fn open_with_key(path: String, key: Vec<u8>) -> Result<Arc<Self>> {
        Self::open_with(&path, &key_from(&key)?)
    }

    /// A store in memory only (demos, tests).
    #[uniffi::constructor]
    pub fn open_in_memory() -> Result<Arc<Self>> {
        let store = hark_core::Store::open_in_memory(&StoreKey::generate())?;
        Ok(Arc::new(Self {
            inner: Arc::new(store),
        }))
    }

    /// This store's device id.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_owned()
    }

    /// Sets the staff code recorded as the author of what follows (`None`:
    /// the device). Kiosk responses never record one.
    pub fn set_user(&self, user: Option<String>) {
        self.inner.set_user(user);
    }

    // ----- forms -----------------------------------------------------

    /// Every installed form version, by id then version.
    pub fn forms(&self) -> Result<Vec<SurveyForm>> {
        Ok(self
            .inner
            .forms()?
            .iter()
            .map(|f| SurveyForm::from(f.as_ref()))
            .collect())
    }

    /// The forms to offer for a new response: the newest version of each
    /// form the area has not retired, by id. List these to start from;
    /// drafts on a retired form can still be finished.
    pub fn offered_forms(&self) -> Result<Vec<SurveyForm>> {
        Ok(self
            .inner
            .offered_forms()?
            .iter()
            .map(|f| SurveyForm::from(f.as_ref()))
            .collect())
    }

    /// The newest installed version of a form.
    pub fn latest_form(&self, form_id: String) -> Result<Option<SurveyForm>> {
        Ok(self
            .inner
            .latest_form(&form_id)?
            .map(|f| SurveyForm::from(f.as_ref())))
    }

    /// Installs a form written as JSON (validated). Returns `false` if that
    /// exact version was already installed. Enrolled devices get their
    /// area's forms by sync instead.
    pub fn install_form_json(&self, json: String) -> Result<bool> {
        let form = hark_core::Form::from_json(&json).map_err(hark_core::Error::from)?;
        Ok(self.inner.install_form(&form)?)
    }

    /// Installs hark's built-in forms (for a device that has not synced).
    /// Returns how many were new.
    pub fn install_builtin_forms(&self) -> Result<u32> {
        let forms = hark_core::form::builtin_forms().map_err(hark_core::Error::from)?;
        let mut added = 0;
        for f in &forms {
            added += u32::from(self.inner.install_form(f)?);
        }
        Ok(added)
    }

    // ----- responses -------------------------------------------------

    /// Starts a draft response to the newest version of `form_id`, durably.
    /// Returns its id.
    pub fn start_response(
        &self,
        form_id: String,
        context: ResponseContext,
        consent: Consent,
    ) -> Result<String> {
        Ok(self
            .inner
            .start_response(&form_id, &context.into(), consent.into())?)
    }

    /// Records an answer, durably. Returns the later answers that skip logic
    /// cleared.
    pub fn answer(&self, response: String, question: String, answer: Answer) -> Result<Outcome> {
        Ok(self
            .inner
            .answer(&response, &question, answer.into())?
            .into())
    }

    /// Clears an answer (and later answers that depended on it), durably.
    pub fn clear_answer(&self, response: String, question: String) -> Result<Outcome> {
        Ok(self.inner.clear_answer(&response, &question)?.into())
    }

    /// Corrects the capture context, durably.
    pub fn set_context(&self, response: String, context: ResponseContext) -> Result<()> {
        Ok(self.inner.set_context(&response, &context.into())?)
    }

    /// Records consent and assent, durably.
    pub fn set_consent(&self, response: String, consent: Consent) -> Result<()> {
        Ok(self.inner.set_consent(&response, consent.into())?)
    }

    /// Submits a response, durably. Returns the safeguarding flags it
    /// raises: show their guidance to the practitioner at once.
    pub fn submit(&self, response: String) -> Result<Vec<SafeguardingFlag>> {
        Ok(self
            .inner
            .submit(&response)?
            .into_iter()
            .map(SafeguardingFlag::from)
            .collect())
    }

    /// Reopens a submitted response for editing, durably.
    pub fn reopen(&self, response: String) -> Result<()> {
        Ok(self.inner.reopen(&response)?)
    }

    /// One response with its answers.
    pub fn response(&self, response: String) -> Result<ResponseView> {
        Ok(self.inner.response(&response)?.into())
    }

    /// The questions to show now, in order, given the response's answers
    /// (skip logic). After each answer, `Outcome.cleared` names the answers
    /// that skip logic dropped.
    pub fn asked_questions(&self, response: String) -> Result<Vec<String>> {
        let view = self.inner.response(&response)?;
        let form = self.inner.form(&view.header.form)?;
        Ok(form
            .asked(&view.answers)
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    /// Responses matching `filter`, newest capture first.
    pub fn list(&self, filter: ResponseFilter) -> Result<Vec<ResponseHeader>> {
        Ok(self
            .inner
            .list(&filter.into())?
            .into_iter()
            .map(ResponseHeader::from)
            .collect())
    }

    /// Erases a response for real (consent withdrawn); the erasure travels
    /// by sync. Returns whether it existed.
    pub fn erase_response(&self, response: String) -> Result<bool> {
        Ok(self.inner.erase_response(&response)?)
    }

    // ----- enrolment and sync ----------------------------------------

    /// Enrols this device with the server using a one-time code, then syncs
    /// once to fetch the area's forms.
    pub async fn enrol(&self, server: String, code: String, label: String) -> Result<Enrolment> {
        let store = self.inner.clone();
        tokio::task::spawn_blocking(move || -> Result<Enrolment> {
            let e = http::enrol(&store, &server, &code, &label)?;
            http::sync_with_server(&store, &ProgressAdapter(None))?;
            Ok(Enrolment::new(server.trim_end_matches('/').to_owned(), e))
        })
        .await?
    }

    /// The enrolment kept in this store, if any.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        Ok(http::enrolment(&self.inner)?.map(|(server, e)| Enrolment::new(server, e)))
    }

    /// The area's "you said, we did" notes, newest first, as fetched by the
    /// last sync (kept for events without signal).
    pub fn notes(&self) -> Result<Vec<FamilyNote>> {
        Ok(http::notes(&self.inner)?
            .into_iter()
            .map(FamilyNote::from)
            .collect())
    }

    /// The area's reporting lists (settings, age phases, needs, pathways)
    /// as received by the last sync, if any.
    pub fn area_lists(&self) -> Result<Option<AreaLists>> {
        Ok(hark_core::sync::area_lists(&self.inner)?.map(AreaLists::from))
    }

    /// Syncs with the server this device is enrolled with (and fetches the
    /// area's notes). Progress is reported from a background thread.
    pub async fn sync(&self, progress: Option<Arc<dyn SyncProgress>>) -> Result<SyncReport> {
        let store = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            http::sync_with_server(&store, &ProgressAdapter(progress))
        })
        .await?
        .map(SyncReport::from)
        .map_err(HarkError::from)
    }

    /// Every response held and every erasure, as a bundle file's bytes
    /// (sync without any network).
    pub fn export_bundle(&self) -> Result<Vec<u8>> {
        Ok(bundle::export_bundle(&self.inner)?)
    }

    /// Imports a bundle: all or nothing, each response counted once however
    /// often it is imported.
    pub fn import_bundle(&self, bundle: Vec<u8>) -> Result<BundleImport> {
        Ok(bundle::import_bundle(&self.inner, &bundle)?.into())
    }
}

impl HarkStore {
    fn open_with(path: &str, key: &StoreKey) -> Result<Arc<Self>> {
        let store = hark_core::Store::open(Path::new(path), key)?;
        Ok(Arc::new(Self {
            inner: Arc::new(store),
        }))
    }
}
