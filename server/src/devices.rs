//! The device-facing routes: health, enrolment with a one-time code, the
//! sync exchange, and the "you said, we did" notes a device shows at the
//! next event. Every route but health and enrolment authenticates the
//! device and works within its area.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hark_core::doc::now_ms;
use hark_core::sync::SyncRequest;
use hark_core::sync::codec::{self, MEDIA_TYPE};
use serde::{Deserialize, Serialize};

use crate::admin::{hash_secret, normalise_code};
use crate::auth::{AuthDevice, make_token};
use crate::error::{ApiError, Error};
use crate::model::{Device, Note};
use crate::state::{AppState, blocking};
use crate::web::json_body;

#[tracing::instrument(skip_all)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    blocking(move || state.storage.areas().map(|_| ())).await?;
    Ok("ok")
}

#[derive(Deserialize)]
struct EnrolBody {
    code: String,
    #[serde(default)]
    label: String,
}

#[derive(Serialize)]
pub(crate) struct Enrolled {
    device_id: String,
    token: String,
    area: String,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Enrolled>, ApiError> {
    let body: EnrolBody = json_body(&headers, &body, "{\"code\": \"…\"}")?;
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
    let area = blocking(move || storage.redeem_enrol_code(&code_hash, now_ms(), &device))
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
pub(crate) async fn sync(
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
    let _slot = state
        .sync_slots
        .acquire()
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?;
    let shared = state.clone();
    let bytes = blocking(move || {
        let request: SyncRequest = codec::decode(&body)?;
        let now = shared.clock.now_ms();
        let response = crate::sync::handle(&shared, &auth.device, &auth.area, &request, now)?;
        tracing::info!(
            up = request.docs.len(),
            down = response.docs.len(),
            "sync exchange"
        );
        Ok(codec::encode_answer(&response))
    })
    .await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))],
        bytes,
    )
        .into_response())
}

/// "You said, we did" notes for a device's area, shown to families at the
/// next event.
#[tracing::instrument(skip_all, fields(device = %auth.device.id))]
pub(crate) async fn notes(
    State(state): State<AppState>,
    auth: AuthDevice,
) -> Result<Json<Vec<Note>>, ApiError> {
    let storage = state.storage.clone();
    Ok(Json(blocking(move || storage.notes(&auth.area.id)).await?))
}
