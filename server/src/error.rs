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
    /// An XLSForm that cannot become a form: every problem, by cell.
    #[error(transparent)]
    Import(Box<hark_xlsform::ImportError>),
}

impl From<hark_xlsform::ImportError> for Error {
    fn from(e: hark_xlsform::ImportError) -> Self {
        Self::Import(Box::new(e))
    }
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
    /// A survey link that does not exist.
    UnknownLink(String),
    /// Gone for good (a survey link that has closed), with a reason safe to
    /// show.
    Gone(String),
    /// Too many requests from one address: try again shortly.
    TooMany(String),
    /// The request clashes with what is stored (a form version published
    /// with other content), with a reason safe to show.
    Conflict(String),
    /// An uploaded form with problems: every one, by cell, and the
    /// warnings.
    InvalidForm {
        /// What stops the form.
        problems: Vec<CellProblem>,
        /// What was ignored.
        warnings: Vec<CellProblem>,
    },
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
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<CellProblem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<Vec<CellProblem>>,
}

/// A problem or warning in an uploaded spreadsheet, where an author finds
/// it: the sheet, the row and column as the spreadsheet shows them, the
/// cell (`F4`) and what is wrong.
#[derive(Debug, Serialize)]
pub struct CellProblem {
    /// The sheet's name; empty for the file as a whole.
    pub sheet: String,
    /// The row (the header is row 1).
    pub row: Option<u32>,
    /// The column's header as written.
    pub column: Option<String>,
    /// The cell in spreadsheet notation, when row and column are known.
    pub cell: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl CellProblem {
    fn from_located<T: std::fmt::Display>(p: &hark_xlsform::Located<T>) -> Self {
        Self {
            sheet: p.at.sheet.clone(),
            row: p.at.row,
            column: p.at.column.clone(),
            cell: p.at.cell(),
            message: p.what.to_string(),
        }
    }
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
            Error::Core(hark_core::Error::FormVersionClash(_)) => Self::Conflict(e.to_string()),
            Error::Core(hark_core::Error::Form(f)) => Self::BadRequest(f.to_string()),
            Error::Import(i) => Self::InvalidForm {
                problems: i.problems.iter().map(CellProblem::from_located).collect(),
                warnings: i.warnings.iter().map(CellProblem::from_located).collect(),
            },
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut lists = None;
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
            Self::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            Self::Gone(m) => (StatusCode::GONE, "gone", m),
            Self::UnknownLink(m) => (StatusCode::NOT_FOUND, "unknown_link", m),
            Self::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m),
            Self::InvalidForm { problems, warnings } => {
                let message = format!(
                    "the form has {} problem{}; nothing was published",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
                lists = Some((problems, warnings));
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", message)
            }
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
                error: Detail {
                    code,
                    message,
                    problems: lists.as_mut().map(|l| std::mem::take(&mut l.0)),
                    warnings: lists.map(|l| l.1),
                },
            }),
        )
            .into_response()
    }
}
