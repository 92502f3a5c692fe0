//! Sync with the hark server over HTTP(S), and device enrolment.
//!
//! Blocking (ureq, rustls): the mobile bindings run it on a worker thread.
//! The device's credentials are kept in the encrypted store's settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::{Progress, SyncReport, Transport, sync};
use super::codec;
use super::codec::MEDIA_TYPE;
use super::wire::{SyncError, SyncRequest, SyncResponse};
use crate::store::Store;

const SERVER: &str = "server.url";
const TOKEN: &str = "server.token";
const AREA: &str = "server.area";
const DEVICE: &str = "server.device_id";
const NOTES: &str = "server.notes";
const LAST_SYNC: &str = "server.last_sync";
/// Sync state is kept under this peer name.
pub const SERVER_PEER: &str = "server";
/// Largest response body read (compressed; decoding caps it again).
const MAX_RESPONSE: u64 = codec::MAX_MESSAGE;

/// What enrolment gave this device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// The device id the server assigned.
    pub device_id: String,
    /// The secret token (kept encrypted in the store).
    pub token: String,
    /// The area (tenant) the device belongs to.
    pub area: String,
}

#[derive(Serialize)]
struct EnrolRequest<'a> {
    code: &'a str,
    label: &'a str,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn refused(status: u16, body: &[u8]) -> SyncError {
    if status == 401 || status == 403 {
        return SyncError::Unauthorized;
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.error.message)
        .unwrap_or_else(|_| format!("HTTP {status}"));
    SyncError::Refused(message)
}

/// Enrols this device with a one-time code and keeps the credentials.
pub fn enrol(store: &Store, server: &str, code: &str, label: &str) -> Result<Enrolment, SyncError> {
    let server = server.trim_end_matches('/');
    let body = serde_json::to_vec(&EnrolRequest {
        code: code.trim(),
        label,
    })
    .map_err(|e| SyncError::Corrupt(e.to_string()))?;
    let mut resp = agent()
        .post(format!("{server}/api/v1/enrol"))
        .header("content-type", "application/json")
        .send(&body[..])
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_vec()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    if status != 200 {
        return Err(refused(status, &bytes));
    }
    let enrolment: Enrolment =
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    store.set_setting(SERVER, server)?;
    store.set_setting(TOKEN, &enrolment.token)?;
    store.set_setting(AREA, &enrolment.area)?;
    store.set_setting(DEVICE, &enrolment.device_id)?;
    Ok(enrolment)
}

/// The enrolment kept in the store, if any: (server URL, enrolment).
pub fn enrolment(store: &Store) -> Result<Option<(String, Enrolment)>, SyncError> {
    let (Some(server), Some(token), Some(area), Some(device_id)) = (
        store.setting(SERVER)?,
        store.setting(TOKEN)?,
        store.setting(AREA)?,
        store.setting(DEVICE)?,
    ) else {
        return Ok(None);
    };
    Ok(Some((
        server,
        Enrolment {
            device_id,
            token,
            area,
        },
    )))
}

/// The server, over HTTP.
#[derive(Debug)]
pub struct HttpTransport {
    url: String,
    token: String,
    agent: ureq::Agent,
}

impl HttpTransport {
    /// A transport to `server` with a device token.
    pub fn new(server: &str, token: &str) -> Self {
        Self {
            url: format!("{}/api/v1/sync", server.trim_end_matches('/')),
            token: token.to_owned(),
            agent: agent(),
        }
    }
}

impl Transport for HttpTransport {
    fn exchange(&self, request: &SyncRequest) -> Result<SyncResponse, SyncError> {
        let body = codec::encode(request);
        let mut resp = self
            .agent
            .post(&self.url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", MEDIA_TYPE)
            .send(&body[..])
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        if status != 200 {
            return Err(refused(status, &bytes));
        }
        codec::decode(&bytes)
    }
}

fn enrolled(store: &Store) -> Result<(String, Enrolment), SyncError> {
    enrolment(store)?.ok_or_else(|| {
        SyncError::Refused("this device is not enrolled: enrol it with a code first".into())
    })
}

/// Syncs with the server this device is enrolled with, then fetches the
/// area's "you said, we did" notes (see [`notes`]), and records when the
/// session completed (see [`last_sync`]).
pub fn sync_with_server(store: &Store, progress: &dyn Progress) -> Result<SyncReport, SyncError> {
    let (server, enrolment) = enrolled(store)?;
    let report = sync(
        store,
        SERVER_PEER,
        &HttpTransport::new(&server, &enrolment.token),
        progress,
    )?;
    fetch_notes(store)?;
    store.set_setting(LAST_SYNC, &crate::doc::now_ms().to_string())?;
    Ok(report)
}

/// When the last complete sync with the server ended (ms since the
/// epoch), or `None` if none has.
pub fn last_sync(store: &Store) -> Result<Option<i64>, SyncError> {
    Ok(store.setting(LAST_SYNC)?.and_then(|v| v.parse().ok()))
}

/// A "you said, we did" note from the area's leaders, shown to families.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Stable id.
    pub id: String,
    /// Theme (`feeling_safe`, `diagnosis`, ...).
    pub theme: String,
    /// What families said.
    pub you_said: String,
    /// What was done.
    pub we_did: String,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// Fetches the area's notes from the server and keeps them in the store
/// (replacing the previous set), for events without signal.
pub fn fetch_notes(store: &Store) -> Result<Vec<Note>, SyncError> {
    let (server, enrolment) = enrolled(store)?;
    let mut resp = agent()
        .get(format!(
            "{}/api/v1/device/notes",
            server.trim_end_matches('/')
        ))
        .header("authorization", format!("Bearer {}", enrolment.token))
        .call()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(8 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    if status != 200 {
        return Err(refused(status, &bytes));
    }
    let notes: Vec<Note> =
        serde_json::from_slice(&bytes).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    let json = serde_json::to_string(&notes).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    store.set_setting(NOTES, &json)?;
    Ok(notes)
}

/// The notes kept from the last sync, newest first.
pub fn notes(store: &Store) -> Result<Vec<Note>, SyncError> {
    match store.setting(NOTES)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| SyncError::Corrupt(e.to_string())),
        None => Ok(Vec::new()),
    }
}
