//! The hub's HTTP handlers (the route table is `app::hub_router`) and the
//! one mapping of [`HubError`] to HTTP: JSON `{"error": {code, message}}`
//! for the API, a short page for the pages. Store work runs on the blocking
//! pool; a submission is answered only once its document is committed.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hark_core::response::Status as ResponseStatus;
use hark_core::store::ResponseFilter;
use hark_core::sync::http::{self, SERVER_PEER};
use serde::Serialize;

use super::event::{EVENT_COOKIE, Hub, HubError, Syncing};
use super::pages::{self, Offered};
use super::submit::{Submission, store_submission};

use crate::assets::{FORM_CSS, FORM_JS, ORGANISER_JS};
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

impl HubError {
    pub(super) fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::WrongCode => (StatusCode::FORBIDDEN, "wrong_code"),
            Self::TooManyTries => (StatusCode::TOO_MANY_REQUESTS, "too_many_tries"),
            Self::NotJoined => (StatusCode::UNAUTHORIZED, "not_joined"),
            Self::NotOrganiser => (StatusCode::FORBIDDEN, "not_organiser"),
            Self::NotThisMachine => (StatusCode::FORBIDDEN, "not_this_machine"),
            Self::Context(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_on_list"),
            Self::NoResponse => (StatusCode::NOT_FOUND, "no_response"),
            Self::NotDraft => (StatusCode::CONFLICT, "not_draft"),
            Self::UnknownForm(_) => (StatusCode::NOT_FOUND, "unknown_form"),
            Self::BadSubmission(_) => (StatusCode::BAD_REQUEST, "bad_submission"),
            Self::Refused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
            Self::NotEnrolled => (StatusCode::CONFLICT, "not_enrolled"),
            Self::BadSync(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::MediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::NoCode => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Sync(_) => (StatusCode::BAD_GATEWAY, "sync_failed"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::NoForms | Self::ShortCode | Self::Listen(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
            Self::CrossSite => (StatusCode::FORBIDDEN, "cross_site"),
            Self::Store(_) | Self::Join => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    pub(super) fn public_message(&self) -> String {
        match self {
            Self::Store(e) => {
                tracing::error!(error = %e, "hub store failed");
                "the hub could not save this: try again".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The error as a page, for the pages.
    pub(super) fn page(&self) -> Response {
        let (status, _) = self.parts();
        let body = pages::notice("Sorry", &self.public_message(), ("/", "Back to the start"));
        (status, html_headers(), body).into_response()
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    code: &'static str,
    message: String,
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let message = self.public_message();
        (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response()
    }
}

pub(super) fn html_headers() -> [(header::HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

pub(super) fn html(body: String) -> Response {
    (html_headers(), body).into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> Result<T, HubError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| HubError::Join)?
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn joined(hub: &Hub, headers: &HeaderMap) -> bool {
    hub.joined(cookie(headers, EVENT_COOKIE))
}

/// Whether `host` (a Host header) names this machine's loopback.
fn local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The organiser's pages answer only this machine, asked for by a local
/// name: a page of another site the organiser's browser has open cannot
/// reach them by pointing its own name at 127.0.0.1 (DNS rebinding).
fn organiser(peer: SocketAddr, headers: &HeaderMap) -> Result<(), HubError> {
    if from_this_machine(peer, headers) {
        Ok(())
    } else {
        Err(HubError::NotOrganiser)
    }
}

/// A request from this machine that names this machine (a loopback peer
/// and a loopback `Host`): the organiser's pages, and every page of
/// practitioner mode.
pub(super) fn from_this_machine(peer: SocketAddr, headers: &HeaderMap) -> bool {
    peer.ip().is_loopback()
        && headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(local_host)
}

/// One field of an `application/x-www-form-urlencoded` body.
pub(super) fn form_field(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| url_decode(v))
    })
}

fn url_decode(s: &str) -> String {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /`: the join page (a joined phone goes on to the forms).
pub async fn join_page(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    if joined(&hub, &headers) {
        return Redirect::to("/forms").into_response();
    }
    html(pages::join(hub.event(), None))
}

/// `POST /join`: checks the event code; the right one sets the cookie.
pub async fn join(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let entered = form_field(&body, "code").unwrap_or_default();
    match hub.check_code(peer.ip(), &entered) {
        Ok(()) => {
            let cookie = format!(
                "{EVENT_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400",
                hub.cookie_value()
            );
            let mut response = Redirect::to("/forms").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            let (status, _) = e.parts();
            (
                status,
                html_headers(),
                pages::join(hub.event(), Some(&e.public_message())),
            )
                .into_response()
        }
    }
}

fn offered(hub: &Hub) -> Result<Vec<std::sync::Arc<hark_core::Form>>, HubError> {
    let wanted = &hub.event().forms;
    // The newest version of each form the area has not retired.
    let mut latest: Vec<std::sync::Arc<hark_core::Form>> = hub
        .store()
        .offered_forms()?
        .into_iter()
        .filter(|f| wanted.is_empty() || wanted.contains(&f.id))
        .collect();
    if !wanted.is_empty() {
        latest.sort_by_key(|f| wanted.iter().position(|w| *w == f.id));
    }
    Ok(latest)
}

/// `GET /forms`: the forms a joined phone may answer.
pub async fn forms_page(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    if !joined(&hub, &headers) {
        return Redirect::to("/").into_response();
    }
    let h = hub.clone();
    match blocking(move || offered(&h)).await {
        Ok(forms) => {
            let list: Vec<Offered> = forms
                .iter()
                .map(|f| Offered {
                    id: f.id.clone(),
                    title: f.title.get(f.default_language(), "en").to_owned(),
                    child: f.audience.is_child(),
                })
                .collect();
            html(pages::forms(hub.event(), &list))
        }
        Err(e) => e.page(),
    }
}

/// `GET /form/{id}`: the web form's page.
pub async fn form_page(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !joined(&hub, &headers) {
        return Redirect::to("/").into_response();
    }
    html(pages::form_shell(&id))
}

/// `GET /api/hub/forms/{id}`: the newest offered version of a form, as the
/// core's model serialises it, without its safeguarding triggers.
pub async fn form_json(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, HubError> {
    if !joined(&hub, &headers) {
        return Err(HubError::NotJoined);
    }
    let h = hub.clone();
    let form = blocking(move || {
        offered(&h)?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or(HubError::UnknownForm(id))
    })
    .await?;
    // The safeguarding triggers and their guidance are for practitioners and
    // the server, which decides what an answer raises: phones do not need them.
    let mut shown = form.as_ref().clone();
    shown.safeguarding.clear();
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(shown),
    )
        .into_response())
}

/// `POST /api/hub/submit`: one phone's answers, stored durably as a
/// submitted kiosk response before "stored" is sent back.
pub async fn submit(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HubError> {
    if !joined(&hub, &headers) {
        return Err(HubError::NotJoined);
    }
    let submission: Submission = serde_json::from_slice(&body)
        .map_err(|e| HubError::BadSubmission(format!("not a submission: {e}")))?;
    let stored = blocking(move || store_submission(&hub, submission)).await?;
    Ok(Json(stored).into_response())
}

/// `GET /assets/form.js`.
pub async fn form_js() -> Response {
    asset("text/javascript; charset=utf-8", FORM_JS)
}

/// `GET /assets/organiser.js`.
pub async fn organiser_js() -> Response {
    asset("text/javascript; charset=utf-8", ORGANISER_JS)
}

/// `GET /assets/form.css`.
pub async fn form_css() -> Response {
    asset("text/css; charset=utf-8", FORM_CSS)
}

fn status(hub: &Hub) -> Result<pages::Status, HubError> {
    let store = hub.store();
    let submitted = store
        .list(&ResponseFilter {
            status: Some(ResponseStatus::Submitted),
            ..ResponseFilter::default()
        })?
        .len();
    let flagged = store
        .list(&ResponseFilter {
            flagged_only: true,
            ..ResponseFilter::default()
        })?
        .len();
    let waiting = hark_core::sync::client::waiting(store, SERVER_PEER)
        .map_err(|e| HubError::Sync(e.to_string()))?;
    let enrolled = http::enrolment(store)
        .map_err(|e| HubError::Sync(e.to_string()))?
        .map(|(server, _)| server);
    let last_sync = http::last_sync(store).map_err(|e| HubError::Sync(e.to_string()))?;
    Ok(pages::Status {
        submitted,
        flagged,
        waiting,
        enrolled,
        last_sync,
    })
}

/// `GET /organiser`: the code, the QR and the live count (the hub only).
pub async fn organiser_page(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = organiser(peer, &headers) {
        return e.page();
    }
    let h = hub.clone();
    let message = sync_message(hub.syncing());
    match blocking(move || status(&h)).await {
        Ok(s) => html(pages::organiser(hub.event(), &s, message.as_deref())),
        Err(e) => e.page(),
    }
}

/// The live count, as JSON.
#[derive(Debug, Serialize)]
pub struct Count {
    /// Submitted responses held.
    pub submitted: usize,
    /// Of which flagged.
    pub flagged: usize,
    /// Documents waiting to go to the server.
    pub waiting: usize,
}

/// `GET /organiser/status`: the live count (the hub only).
pub async fn organiser_status(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Count>, HubError> {
    organiser(peer, &headers)?;
    let s = blocking(move || status(&hub)).await?;
    Ok(Json(Count {
        submitted: s.submitted,
        flagged: s.flagged,
        waiting: s.waiting,
    }))
}

/// What the last Sync now said, once; "Syncing…" while one runs.
pub(super) fn sync_message(one: &Syncing) -> Option<String> {
    match one.try_lock() {
        Ok(mut last) => last.take(),
        Err(_) => Some("Syncing with the server…".to_owned()),
    }
}

/// Syncs `store` with its server, one sync at a time (`one`), and keeps
/// what happened for the next page ([`sync_message`]): the organiser's
/// and the practitioner's Sync now.
pub(super) async fn sync_store(store: &std::sync::Arc<hark_core::Store>, one: &Syncing) {
    let mut last = one.lock().await;
    *last = Some(match run_sync(store).await {
        Ok(m) => m,
        Err(e) => e.public_message(),
    });
}

async fn run_sync(store: &std::sync::Arc<hark_core::Store>) -> Result<String, HubError> {
    let store = store.clone();
    blocking(move || {
        if http::enrolment(&store)
            .map_err(|e| HubError::Sync(e.to_string()))?
            .is_none()
        {
            return Err(HubError::NotEnrolled);
        }
        let r = http::sync_with_server(&store, &|_: usize, _: usize| {})
            .map_err(|e| HubError::Sync(e.to_string()))?;
        let mut text = format!("Synced: {} sent, {} received.", r.sent, r.received);
        if !r.rejected.is_empty() {
            text.push_str(&format!(
                " The server refused {} (see the hub's log).",
                r.rejected.len()
            ));
            for rej in &r.rejected {
                tracing::warn!(id = %rej.id, reason = %rej.reason, "refused by the server");
            }
        }
        Ok(text)
    })
    .await
}

/// `POST /organiser/sync`: the sync button (the hub only); then back to
/// the organiser's page, which says what happened.
pub async fn organiser_sync(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = organiser(peer, &headers) {
        return e.page();
    }
    sync_store(hub.store(), hub.syncing()).await;
    Redirect::to("/organiser").into_response()
}

/// `POST /api/v1/sync`: another tablet at the event syncs to the hub with
/// the server's protocol and endpoint (its bearer token is the event
/// code); the hub merges what it sends and acknowledges it, and passes it
/// on at its own next sync with the server, which checks everything.
pub async fn sync(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HubError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(HubError::NoCode)?;
    hub.check_code(peer.ip(), bearer).map_err(|e| match e {
        HubError::WrongCode => HubError::NoCode,
        other => other,
    })?;
    let media = hark_core::sync::codec::MEDIA_TYPE;
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(media)
    {
        return Err(HubError::MediaType(media));
    }
    let bytes = blocking(move || {
        let request: hark_core::sync::SyncRequest =
            hark_core::sync::decode(&body).map_err(|e| HubError::BadSync(e.to_string()))?;
        let response = hark_core::sync::hub::serve(hub.store(), &request)?;
        Ok(hark_core::sync::encode_answer(&response))
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(hark_core::sync::codec::MEDIA_TYPE),
        )],
        bytes,
    )
        .into_response())
}
