//! The leaders' side of the server, one file per resource: the
//! dashboard's static files and the OpenAPI document (`assets`), sign-in
//! (`session`), the area's forms and dimension values (`forms`), reports
//! as JSON and CSV (`reports`), free text (`text`), the row-level export
//! (`export`), users, the audit log, "you said, we did" notes, the area's
//! reporting lists, data problems, the safeguarding lead's list, and
//! publishing the area's own forms from an XLSForm (`publish`), survey
//! links (`links`). The
//! routes are listed once, in `crate::app::routes`.
//!
//! Every handler takes the signed-in user's area from the session, never
//! from the request, and every read of data is recorded in the audit log.

pub mod assets;
pub mod audit;
pub mod export;
pub mod forms;
pub mod links;
pub mod lists;
pub mod notes;
pub mod problems;
pub mod publish;
pub mod reports;
pub mod safeguarding;
pub mod session;
pub mod text;
pub mod users;

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hark_core::doc::{form_from_doc, now_ms};
use hark_core::form::Form;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::model::AuditEntry;
use crate::report::ReportError;
use crate::storage::Storage;

/// A query string as ordered pairs.
pub(crate) type Params = Query<Vec<(String, String)>>;

/// Appends to the signed-in user's area's audit log.
pub(crate) fn audit(
    storage: &dyn Storage,
    who: &AuthUser,
    action: &str,
    detail: String,
) -> Result<()> {
    storage.audit(&AuditEntry {
        seq: 0,
        at: now_ms(),
        area_id: who.area.id.clone(),
        actor: who.user.username.clone(),
        action: action.to_owned(),
        detail,
    })
}

/// A JSON body of the expected shape: refused with 415 unless it is sent
/// as `application/json`, with a 400 naming the shape unless it parses.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    shape: &str,
) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::MediaType("application/json"));
    }
    serde_json::from_slice(body).map_err(|_| ApiError::BadRequest(format!("expected JSON {shape}")))
}

/// A CSV cell as written to a download: text that a spreadsheet would
/// read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'` (OWASP's advice); numbers stay numbers.
pub(crate) fn csv_cell(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && value.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// A required query parameter.
pub(crate) fn required(params: &[(String, String)], name: &str) -> Result<String, ApiError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))
}

/// The query string as recorded in the audit log.
pub(crate) fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Every version of every form of an area, by form id, oldest first.
pub(crate) fn area_forms(
    storage: &dyn Storage,
    area_id: &str,
) -> Result<BTreeMap<String, Vec<Form>>> {
    let mut out: BTreeMap<String, Vec<Form>> = BTreeMap::new();
    for (_, bytes) in storage.area_forms(area_id)? {
        let form = form_from_doc(&bytes)?;
        out.entry(form.id.clone()).or_default().push(form);
    }
    for versions in out.values_mut() {
        versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    Ok(out)
}

/// Every version of one form of an area, oldest first.
pub(crate) fn form_versions(storage: &dyn Storage, area_id: &str, form: &str) -> Result<Vec<Form>> {
    area_forms(storage, area_id)?
        .remove(form)
        .ok_or_else(|| ReportError::UnknownForm(form.to_owned()).into())
}

/// A CSV download.
pub(crate) fn csv_response(name: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        for risky in [
            "=HYPERLINK(\"x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in ["-3", "4.5", "+7", "very good", "", "a=b"] {
            assert_eq!(csv_cell(safe), safe, "{safe:?}");
        }
    }
}
