//! The server's errors: a rich internal enum, mapped in one place
//! ([`ApiError`]'s `IntoResponse`) to a small public JSON error with a
//! stable code and a message free of internals and personal data.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Internal errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The connection pool failed.
    #[error("pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// The core refused something.
    #[error(transparent)]
    Core(#[from] hark_core::Error),
    /// Automerge refused bytes.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A sync message failed to decode.
    #[error(transparent)]
    Sync(#[from] hark_core::sync::SyncError),
    /// A name already in use.
    #[error("{0} already exists")]
    Exists(String),
    /// Something not found.
    #[error("{0} not found")]
    NotFound(String),
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// Writing CSV failed (the client went away).
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// Input that breaks a rule, with a reason safe to show.
    #[error("{0}")]
    Invalid(String),
    /// A report query was refused.
    #[error(transparent)]
    Report(Box<crate::report::ReportError>),
    /// Try again shortly, with a reason safe to show.
    #[error("{0}")]
    Busy(String),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed")]
    Join,
    /// I/O.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::report::ReportError> for Error {
    fn from(e: crate::report::ReportError) -> Self {
        Self::Report(Box::new(e))
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What an HTTP client is told.
#[derive(Debug)]
pub enum ApiError {
    /// Missing, unknown or revoked credentials.
    Unauthorized,
    /// Authenticated, but not allowed (another area's data).
    Forbidden,
    /// Malformed, corrupt or truncated input.
    BadRequest(String),
    /// A newer protocol than this server speaks.
    Version(String),
    /// An enrolment code that is unknown, used or expired.
    BadCode,
    /// Not found.
    NotFound,
    /// Signed in, but this is not allowed, with a reason safe to show.
    Denied(String),
    /// Wrong user name or password.
    BadSignIn,
    /// Too many failed sign-ins: try again in this many minutes.
    Locked(i64),
    /// A body of another media type than the endpoint takes.
    MediaType(&'static str),
    /// A state-changing request from another site's page.
    CrossSite,
    /// Try again shortly, with a reason safe to show.
    Busy(String),
    /// Anything else: logged in full, reported as a plain 500.
    Internal(Box<Error>),
}

#[derive(Serialize)]
struct Body {
    error: Detail,
}

#[derive(Serialize)]
struct Detail {
    code: &'static str,
    message: String,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Sync(hark_core::sync::SyncError::Version(_)) => Self::Version(e.to_string()),
            Error::Sync(s) => Self::BadRequest(s.to_string()),
            Error::Report(r) => Self::BadRequest(r.to_string()),
            Error::Exists(what) => Self::BadRequest(format!("{what} already exists")),
            Error::Invalid(m) => Self::BadRequest(m),
            Error::NotFound(_) => Self::NotFound,
            Error::Busy(m) => Self::Busy(m),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing, unknown or revoked credentials".to_owned(),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "not allowed for this area".to_owned(),
            ),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            Self::Version(m) => (StatusCode::BAD_REQUEST, "unsupported_version", m),
            Self::BadCode => (
                StatusCode::BAD_REQUEST,
                "bad_code",
                "the enrolment code is unknown, used or expired".to_owned(),
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "not found".to_owned()),
            Self::Denied(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            Self::BadSignIn => (
                StatusCode::UNAUTHORIZED,
                "bad_sign_in",
                "wrong user name or password".to_owned(),
            ),
            Self::Locked(minutes) => (
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                format!(
                    "too many failed sign-ins: try again in {minutes} minute{}",
                    if minutes == 1 { "" } else { "s" }
                ),
            ),
            Self::MediaType(expected) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("expected content type {expected}"),
            ),
            Self::CrossSite => (
                StatusCode::FORBIDDEN,
                "cross_site",
                "requests that change data must come from this server's own pages".to_owned(),
            ),
            Self::Busy(m) => (StatusCode::SERVICE_UNAVAILABLE, "busy", m),
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the server log has details".to_owned(),
                )
            }
        };
        (
            status,
            Json(Body {
                error: Detail { code, message },
            }),
        )
            .into_response()
    }
}
