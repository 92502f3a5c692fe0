//! The hub's state: the device store it writes to, the event it collects
//! for, the code phones must enter, and who has entered it. Everything a
//! phone sends is untrusted; joining only lets a phone send submissions,
//! which the core then checks like any other answers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use hark_core::Store;
use hark_core::doc::now_ms;
use sha2::{Digest, Sha256};

/// One sync with the server at a time, and what the last one said until a
/// page shows it (Sync now answers with a redirect, so reloading the page
/// after it does not sync again): the hub's and practitioner mode's.
pub(super) type Syncing = tokio::sync::Mutex<Option<String>>;
/// The cookie a phone holds once it has entered the event code.
pub const EVENT_COOKIE: &str = "hark_event";
/// Wrong codes an address may try in [`TRY_WINDOW_MS`].
const MAX_TRIES: u32 = 10;
/// The window wrong codes are counted in.
const TRY_WINDOW_MS: i64 = 10 * 60 * 1000;
/// The store setting holding the hub's secret (ids and cookies derive from it).
const SECRET: &str = "hub.secret";
/// Letters and digits that cannot be misread for one another.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Why the hub refused something. Messages are safe to show a phone: they
/// name questions and kinds of problem, never an answer.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The event code entered is not this event's.
    #[error("that event code is not right: ask the organiser for the code on their screen")]
    WrongCode,
    /// Too many wrong codes from one address.
    #[error("too many wrong codes: wait ten minutes and try again")]
    TooManyTries,
    /// A phone that has not entered the event code.
    #[error("enter the event code first")]
    NotJoined,
    /// The organiser's pages are only for the hub's own screen.
    #[error("the organiser's page opens only on the hub itself")]
    NotOrganiser,
    /// Practitioner mode answers only the machine it runs on.
    #[error(
        "practitioner mode opens only on the computer it runs on: open http://127.0.0.1 (with its port) there"
    )]
    NotThisMachine,
    /// A context value not on the area's lists.
    #[error(transparent)]
    Context(#[from] super::context::ContextError),
    /// No such response of this practitioner's.
    #[error("there is no such response on this device: go back to the start")]
    NoResponse,
    /// A change to a response that is no longer a draft.
    #[error("this response is already submitted")]
    NotDraft,
    /// A form (or version) this hub does not hold.
    #[error("this hub has no form '{0}': reload the page")]
    UnknownForm(String),
    /// A submission that is not what the web form sends.
    #[error("{0}")]
    BadSubmission(String),
    /// The core refused the answers, consent or submit.
    #[error("{0}")]
    Refused(String),
    /// A tablet's sync message that does not decode.
    #[error("{0}")]
    BadSync(String),
    /// A sync body of another media type.
    #[error("expected content type {0}")]
    MediaType(&'static str),
    /// A tablet without the event code.
    #[error("a tablet syncing to this hub sends the event code as its bearer token")]
    NoCode,
    /// The hub is not enrolled with a server yet.
    #[error(
        "this hub is not enrolled with a server: run `hark hub --server URL --enrol-code CODE` first"
    )]
    NotEnrolled,
    /// A sync with the server failed.
    #[error("sync with the server failed: {0}")]
    Sync(String),
    /// No such page.
    #[error("not found")]
    NotFound,
    /// A hub over a store with no forms.
    #[error("this hub has no forms yet: enrol it with a server and sync first")]
    NoForms,
    /// An event code too short to keep passers-by out.
    #[error("the event code needs 4 characters or more")]
    ShortCode,
    /// The address to listen on cannot be had.
    #[error("cannot listen there: {0}")]
    Listen(String),
    /// A change sent from another site's page.
    #[error("requests that change data must come from this hub's own pages")]
    CrossSite,
    /// The store failed.
    #[error("storage: {0}")]
    Store(hark_core::Error),
    /// A blocking task failed.
    #[error("background task failed")]
    Join,
}

impl From<hark_core::Error> for HubError {
    fn from(e: hark_core::Error) -> Self {
        use hark_core::Error as E;
        match e {
            E::Answer(_) | E::Incomplete(_) | E::AlreadySubmitted | E::FormRetired(_) => {
                Self::Refused(e.to_string())
            }
            E::NotFound(_) => Self::NoResponse,
            E::FormNotInstalled(r) => Self::UnknownForm(r.to_string()),
            other => Self::Store(other),
        }
    }
}

/// What the organiser set up for one event.
#[derive(Clone, Debug)]
pub struct Event {
    /// The event (recorded as each response's occasion).
    pub name: String,
    /// Setting from the area's list, if given.
    pub setting: Option<String>,
    /// Forms offered (empty: every installed form).
    pub forms: Vec<String>,
    /// The code phones enter.
    pub code: String,
    /// The address phones open (shown as text and as a QR code).
    pub url: String,
}

/// The hub, shared by every request.
#[derive(Clone, Debug)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    event: Event,
    secret: [u8; 32],
    /// Serialises submissions: "already stored?" and the write are one step.
    writing: Mutex<()>,
    /// Serialises syncs.
    syncing: Syncing,
    tries: Mutex<HashMap<IpAddr, (u32, i64)>>,
}

impl Hub {
    /// A hub over `store` for `event`. Its secret is made once and kept in
    /// the store, so phones' retries map to the same response across a
    /// restart of the hub.
    pub fn new(store: Arc<Store>, event: Event) -> Result<Self, HubError> {
        let secret = match store.setting(SECRET)?.and_then(|h| hex::decode(h).ok()) {
            Some(bytes) if bytes.len() == 32 => {
                let mut s = [0u8; 32];
                s.copy_from_slice(&bytes);
                s
            }
            _ => {
                let s: [u8; 32] = crate::random_bytes();
                store.set_setting(SECRET, &hex::encode(s))?;
                s
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                event,
                secret,
                writing: Mutex::new(()),
                syncing: tokio::sync::Mutex::new(None),
                tries: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A fresh event code: 6 characters that cannot be misread.
    pub fn new_code() -> String {
        let raw: [u8; 6] = crate::random_bytes();
        raw.iter()
            .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
            .collect()
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.inner.event
    }

    pub(super) fn writing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner
            .writing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn syncing(&self) -> &Syncing {
        &self.inner.syncing
    }

    fn derive(&self, label: &str, input: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.inner.secret);
        h.update(label.as_bytes());
        h.update([0]);
        h.update(input.as_bytes());
        h.finalize().into()
    }

    /// The cookie value that shows a phone entered this event's code.
    pub fn cookie_value(&self) -> String {
        hex::encode(self.derive("cookie", &self.inner.event.code))
    }

    /// Whether a cookie value is this event's.
    pub fn joined(&self, value: Option<&str>) -> bool {
        value.is_some_and(|v| constant_eq(v.as_bytes(), self.cookie_value().as_bytes()))
    }

    /// Checks an entered code (case and spaces ignored), counting wrong
    /// ones per address.
    pub fn check_code(&self, from: IpAddr, entered: &str) -> Result<(), HubError> {
        let now = now_ms();
        let mut tries = self
            .inner
            .tries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tries.retain(|_, (_, since)| now - *since < TRY_WINDOW_MS);
        if tries.get(&from).is_some_and(|(n, _)| *n >= MAX_TRIES) {
            return Err(HubError::TooManyTries);
        }
        let entered: String = entered
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        if constant_eq(entered.as_bytes(), self.inner.event.code.as_bytes()) {
            return Ok(());
        }
        tries.entry(from).or_insert((0, now)).0 += 1;
        Err(HubError::WrongCode)
    }

    /// The response id for a phone's submission key: the same key always
    /// names the same response (so a retry stores nothing twice), and a
    /// phone cannot choose the id of anything else.
    pub fn response_id(&self, key: &str) -> String {
        let d = self.derive("response", key);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&d[..16]);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
