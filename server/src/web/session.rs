//! Signing in and out: argon2id checks (at most four at once), a random
//! session token in an `HttpOnly; SameSite=Strict` cookie, stored only as
//! a hash; "who am I" for the dashboard.

use axum::Json;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use hark_core::doc::now_ms;
use serde::{Deserialize, Serialize};

use super::json_body;
use crate::admin::hash_secret;
use crate::auth::{AuthUser, session_cookie_name, session_token};
use crate::error::{ApiError, Error};
use crate::model::{Area, Role, User};
use crate::state::{AppState, blocking};
use crate::users::{self, SignIn};

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
    let cookie = Cookie::build((session_cookie_name(state.secure_cookies), value.to_owned()))
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

/// The client's address (its IP, without the port), as throttling and the
/// audit log record it.
fn client_address(connect: Option<&ConnectInfo<SocketAddr>>) -> String {
    connect.map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

#[tracing::instrument(skip_all)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: SignInBody = json_body(
        &headers,
        &body,
        "{\"username\": \"…\", \"password\": \"…\"}",
    )?;
    let address = client_address(connect.as_ref().map(|c| &c.0));
    let _slot = SIGN_IN_SLOTS
        .acquire()
        .await
        .map_err(|_| ApiError::Internal(Box::new(Error::Join)))?;
    let storage = state.storage.clone();
    let outcome = blocking(move || {
        users::sign_in(
            storage.as_ref(),
            &body.username,
            &body.password,
            &address,
            now_ms(),
        )
    })
    .await?;
    let (user, area, token) = match outcome {
        SignIn::Ok(user, area, token) => (user, area, token),
        SignIn::Wrong => {
            tracing::info!("sign-in refused");
            return Err(ApiError::BadSignIn);
        }
        SignIn::Locked(minutes) => {
            tracing::info!(minutes, "sign-in while locked");
            return Err(ApiError::Locked(minutes));
        }
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
    if let Some(token) = session_token(&headers, state.secure_cookies) {
        let storage = state.storage.clone();
        blocking(move || storage.delete_session(&hash_secret(&token))).await?;
    }
    let cookie = session_cookie(&state, "", time::Duration::ZERO);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

pub(crate) async fn me(who: AuthUser) -> Json<Me> {
    Json(Me::of(&who.user, &who.area))
}
