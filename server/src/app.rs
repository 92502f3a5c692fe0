//! The HTTP API: `router(state)` and `serve(listener, state, shutdown)`, so
//! tests run the real server on port 0. Every handler is instrumented with
//! `tracing`; every device endpoint authenticates the device and scopes the
//! work to its area; bodies are capped; errors are JSON without internals.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hark_core::sync::SyncRequest;
use hark_core::sync::codec::{self, MEDIA_TYPE};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::admin::{hash_secret, normalise_code, random_bytes};
use crate::error::{ApiError, Error};
use crate::storage::{Area, Device, Storage};

/// Largest sync body accepted (compressed).
pub const MAX_SYNC_BODY: usize = 64 * 1024 * 1024;
/// Largest JSON body accepted.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Shared state: the storage only. The server keeps nothing else between
/// requests, so several processes can share one database.
#[derive(Clone)]
pub struct AppState {
    /// Storage backend.
    pub storage: Arc<dyn Storage>,
    /// Sync exchanges decoded and merged at once. Excess requests wait
    /// (holding only their compressed body), so memory stays flat however
    /// many devices sync together.
    pub sync_slots: Arc<tokio::sync::Semaphore>,
    /// Mark session cookies `Secure` (sent over HTTPS only; browsers treat
    /// `http://localhost` and `http://127.0.0.1` as secure too).
    pub secure_cookies: bool,
}

impl AppState {
    /// State over `storage`, with two sync slots per core.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            storage,
            sync_slots: Arc::new(tokio::sync::Semaphore::new(cores * 2)),
            secure_cookies: true,
        }
    }

    /// Sets whether session cookies are marked `Secure` (see the field).
    #[must_use]
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

/// The device-facing routes, as (method, path), for the OpenAPI check.
pub const DEVICE_ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("post", "/api/v1/enrol"),
    ("post", "/api/v1/sync"),
];

/// Every route.
pub fn router(state: AppState) -> Router {
    let devices = Router::new()
        .route("/api/v1/sync", post(sync))
        .layer(DefaultBodyLimit::max(MAX_SYNC_BODY));
    let json = Router::new()
        .route("/api/v1/enrol", post(enrol))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(devices)
        .merge(json)
        .merge(crate::web::routes().layer(DefaultBodyLimit::max(MAX_JSON_BODY)))
        .fallback(|| async { ApiError::NotFound })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?
        .map_err(ApiError::from)
}

#[tracing::instrument(skip_all)]
async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    blocking(move || state.storage.areas().map(|_| ())).await?;
    Ok("ok")
}

/// An authenticated device and its area.
#[derive(Debug)]
pub struct AuthDevice {
    /// The device.
    pub device: Device,
    /// Its area.
    pub area: Area,
}

/// Device tokens look like `hd1.<device id>.<secret>`.
pub fn make_token(device_id: &str) -> (String, Vec<u8>) {
    let secret = hex::encode(random_bytes::<32>());
    let token = format!("hd1.{device_id}.{secret}");
    (token, hash_secret(&secret))
}

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?
            .to_owned();
        let mut it = token.splitn(3, '.');
        let (Some("hd1"), Some(id), Some(secret)) = (it.next(), it.next(), it.next()) else {
            return Err(ApiError::Unauthorized);
        };
        let (id, hash) = (id.to_owned(), hash_secret(secret));
        let storage = state.storage.clone();
        let found = blocking(move || {
            let Some(device) = storage.device(&id)? else {
                return Ok(None);
            };
            let area = storage.area(&device.area_id)?;
            Ok(area.map(|a| (device, a)))
        })
        .await?;
        match found {
            Some((device, area)) if !device.revoked && device.token_hash == hash => {
                Ok(Self { device, area })
            }
            _ => Err(ApiError::Unauthorized),
        }
    }
}

#[derive(Deserialize)]
struct EnrolBody {
    code: String,
    #[serde(default)]
    label: String,
}

#[derive(Serialize)]
struct Enrolled {
    device_id: String,
    token: String,
    area: String,
}

#[tracing::instrument(skip_all)]
async fn enrol(State(state): State<AppState>, body: Bytes) -> Result<Json<Enrolled>, ApiError> {
    let body: EnrolBody = serde_json::from_slice(&body)
        .map_err(|_| ApiError::BadRequest("expected JSON {\"code\": \"…\"}".into()))?;
    let device_id = uuid::Uuid::new_v4().to_string();
    let (token, token_hash) = make_token(&device_id);
    let device = Device {
        id: device_id.clone(),
        area_id: String::new(),
        token_hash,
        label: body.label.chars().take(100).collect(),
        revoked: false,
    };
    let code_hash = hash_secret(&normalise_code(&body.code));
    let storage = state.storage.clone();
    let area = blocking(move || {
        storage.redeem_enrol_code(&code_hash, crate::storage::sqlite::now_ms(), &device)
    })
    .await?
    .ok_or(ApiError::BadCode)?;
    tracing::info!(device = %device_id, area = %area.name, "device enrolled");
    Ok(Json(Enrolled {
        device_id,
        token,
        area: area.name,
    }))
}

#[tracing::instrument(skip_all, fields(device = %auth.device.id, area = %auth.area.name))]
async fn sync(
    State(state): State<AppState>,
    auth: AuthDevice,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(MEDIA_TYPE)
    {
        return Err(ApiError::BadRequest(format!(
            "expected content type {MEDIA_TYPE}"
        )));
    }
    let storage = state.storage.clone();
    let _slot = state
        .sync_slots
        .acquire()
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?;
    let bytes = blocking(move || {
        let request: SyncRequest = codec::decode(&body)?;
        let response = crate::sync::handle(storage.as_ref(), &auth.device, &auth.area, &request)?;
        tracing::info!(
            up = request.docs.len(),
            down = response.docs.len(),
            "sync exchange"
        );
        Ok(codec::encode(&response))
    })
    .await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))],
        bytes,
    )
        .into_response())
}
