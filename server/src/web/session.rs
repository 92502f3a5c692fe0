//! Signing in and out: argon2id checks (at most four at once), a random
//! session token in an `HttpOnly; SameSite=Strict` cookie, stored only as
//! a hash; "who am I" for the dashboard.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use hark_core::doc::now_ms;
use serde::{Deserialize, Serialize};

use super::json_body;
use crate::admin::hash_secret;
use crate::auth::{AuthUser, SESSION_COOKIE, session_token};
use crate::error::{ApiError, Error};
use crate::model::{Area, AuditEntry, Role, User};
use crate::state::{AppState, blocking};
use crate::users;

#[derive(Deserialize)]
struct SignInBody {
    username: String,
    password: String,
}

/// What the dashboard knows about the signed-in user.
#[derive(Serialize)]
pub(crate) struct Me {
    username: String,
    role: Role,
    area: String,
    free_text: bool,
}

impl Me {
    fn of(user: &User, area: &Area) -> Self {
        Self {
            username: user.username.clone(),
            role: user.role,
            area: area.name.clone(),
            free_text: user.free_text,
        }
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: time::Duration) -> HeaderValue {
    let cookie = Cookie::build((SESSION_COOKIE, value.to_owned()))
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Password checks running at once: each argon2id check takes 19 MiB and
/// tens of milliseconds, so a flood of sign-ins queues instead of
/// exhausting memory.
static SIGN_IN_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

#[tracing::instrument(skip_all)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: SignInBody = json_body(&body, "{\"username\": \"…\", \"password\": \"…\"}")?;
    let _slot = SIGN_IN_SLOTS
        .acquire()
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?;
    let storage = state.storage.clone();
    let signed = blocking(move || {
        let Some((user, token)) =
            users::sign_in(storage.as_ref(), &body.username, &body.password, now_ms())?
        else {
            return Ok(None);
        };
        let area = storage
            .area(&user.area_id)?
            .ok_or_else(|| Error::NotFound("area".into()))?;
        storage.audit(&AuditEntry {
            seq: 0,
            at: now_ms(),
            area_id: area.id.clone(),
            actor: user.username.clone(),
            action: "session.start".into(),
            detail: String::new(),
        })?;
        Ok(Some((user, area, token)))
    })
    .await?;
    let Some((user, area, token)) = signed else {
        tracing::info!("sign-in refused");
        return Err(ApiError::BadSignIn);
    };
    tracing::info!(user = %user.username, "signed in");
    let cookie = session_cookie(
        &state,
        &token,
        time::Duration::milliseconds(users::SESSION_MS),
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(Me::of(&user, &area))).into_response())
}

#[tracing::instrument(skip_all)]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        let storage = state.storage.clone();
        blocking(move || storage.delete_session(&hash_secret(&token))).await?;
    }
    let cookie = session_cookie(&state, "", time::Duration::ZERO);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

pub(crate) async fn me(who: AuthUser) -> Json<Me> {
    Json(Me::of(&who.user, &who.area))
}
