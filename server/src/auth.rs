//! Who is asking: a device by its bearer token, or a dashboard user by the
//! session cookie. Both extractors take the area from what they
//! authenticate, never from the request, and both stores keep only hashes
//! of the secrets.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use cookie::Cookie;
use hark_core::doc::now_ms;

use crate::admin::{hash_secret, random_bytes};
use crate::error::ApiError;
use crate::model::{Area, Device, Role, User};
use crate::state::{AppState, blocking};

/// The session cookie's name: with the `__Host-` prefix (the browser keeps
/// it to this host, over HTTPS, for every path) unless cookies are sent
/// without `Secure` (a plain-HTTP office network), where the prefix is not
/// allowed.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-hark_session"
    } else {
        "hark_session"
    }
}

/// An authenticated device and its area.
#[derive(Debug)]
pub struct AuthDevice {
    /// The device.
    pub device: Device,
    /// Its area.
    pub area: Area,
}

/// Device tokens look like `hd1.<device id>.<secret>`; returns the token
/// and the hash stored for it.
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

/// A signed-in dashboard user and their area.
#[derive(Clone, Debug)]
pub struct AuthUser {
    /// The user.
    pub user: User,
    /// Their area.
    pub area: Area,
}

impl AuthUser {
    /// Refuses users without `role` (administrators have every role).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.role == role || self.user.role == Role::Administrator {
            Ok(())
        } else {
            Err(ApiError::Denied(format!(
                "only for the {} role",
                role.as_str()
            )))
        }
    }
}

/// The session token in a request's cookies, if any.
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = session_cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(std::result::Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            session_token(&parts.headers, state.secure_cookies).ok_or(ApiError::Unauthorized)?;
        let storage = state.storage.clone();
        let found = blocking(move || {
            let Some(user) = storage.session_user(&hash_secret(&token), now_ms())? else {
                return Ok(None);
            };
            Ok(storage.area(&user.area_id)?.map(|area| (user, area)))
        })
        .await?;
        let (user, area) = found.ok_or(ApiError::Unauthorized)?;
        Ok(Self { user, area })
    }
}
