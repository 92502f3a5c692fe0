//! Kiosk mode: anonymous capture on a shared device at an event, and the
//! one-call reset between families. Wraps `hark_core::Kiosk`.

use std::sync::Arc;

use crate::error::Result;
use crate::model::{Consent, KioskReset};
use crate::store::HarkStore;

/// An anonymous capture session at one event. Answer and submit its
/// responses through the store; call `reset` when a family is done.
#[derive(Debug, uniffi::Object)]
pub struct Kiosk {
    inner: Arc<hark_core::Kiosk>,
}

#[uniffi::export]
impl Kiosk {
    /// A kiosk on `store` offering `forms` at the event `occasion` in `area`.
    #[uniffi::constructor]
    pub fn new(
        store: Arc<HarkStore>,
        area: String,
        occasion: String,
        setting: Option<String>,
        forms: Vec<String>,
    ) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(hark_core::Kiosk::new(
                store.inner.clone(),
                &area,
                &occasion,
                setting,
                forms,
            )),
        })
    }

    /// The form ids this kiosk offers.
    pub fn forms(&self) -> Vec<String> {
        self.inner.forms().to_vec()
    }

    /// Starts one of the offered forms for the current family. Returns the
    /// response id.
    pub fn begin(&self, form_id: String, consent: Consent) -> Result<String> {
        Ok(self.inner.begin(&form_id, consent.into())?)
    }

    /// Ends the current family's session: keeps what they submitted, erases
    /// what they left unfinished.
    pub fn reset(&self) -> Result<KioskReset> {
        Ok(self.inner.reset()?.into())
    }
}
