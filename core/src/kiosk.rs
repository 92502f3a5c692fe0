//! Kiosk mode for events: anonymous capture on a shared device.
//!
//! A [`Kiosk`] starts responses with no practitioner and no device user
//! (the author recorded is the kiosk device, never a person), and
//! [`Kiosk::reset`] ends one respondent's session in a single call: what
//! they submitted is kept, what they left unfinished is erased (they did not
//! choose to send it), and the screen is ready for the next family.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::response::{Consent, ResponseContext, Status};
use crate::store::Store;

/// What a reset did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KioskReset {
    /// Responses the respondent submitted (kept).
    pub submitted: u32,
    /// Unfinished drafts erased.
    pub discarded: u32,
}

/// An anonymous capture session on a shared device.
#[derive(Debug)]
pub struct Kiosk {
    store: Arc<Store>,
    forms: Vec<String>,
    context: ResponseContext,
    current: Mutex<Vec<String>>,
}

impl Kiosk {
    /// A kiosk offering `forms` at one event (`occasion`) in `area`.
    pub fn new(
        store: Arc<Store>,
        area: &str,
        occasion: &str,
        setting: Option<String>,
        forms: Vec<String>,
    ) -> Self {
        let context = ResponseContext {
            area: area.to_owned(),
            setting,
            occasion: Some(occasion.to_owned()),
            practitioner: None,
            kiosk: true,
            ..ResponseContext::default()
        };
        Self {
            store,
            forms,
            context,
            current: Mutex::new(Vec::new()),
        }
    }

    /// The forms this kiosk offers.
    pub fn forms(&self) -> &[String] {
        &self.forms
    }

    /// Starts one of the offered forms for the current respondent.
    pub fn begin(&self, form_id: &str, consent: Consent) -> Result<String> {
        if !self.forms.iter().any(|f| f == form_id) {
            return Err(Error::Kiosk("that form is not offered at this kiosk"));
        }
        let mut context = self.context.clone();
        context.captured_at = 0;
        let id = self.store.start_response(form_id, &context, consent)?;
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(id.clone());
        Ok(id)
    }

    /// Ends the current respondent's session: keeps what they submitted,
    /// erases what they left unfinished.
    pub fn reset(&self) -> Result<KioskReset> {
        let ids = std::mem::take(
            &mut *self
                .current
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut out = KioskReset::default();
        for id in ids {
            match self.store.response(&id) {
                Ok(view) if view.header.status == Status::Submitted => out.submitted += 1,
                Ok(_) => {
                    self.store.erase_response(&id)?;
                    out.discarded += 1;
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
