//! An administrator publishes the area's own forms from the dashboard or
//! the API: upload an XLSForm (checked, with every problem by cell, or
//! published), read one form version, download any version as an `.xlsx`
//! to edit and upload again, retire a form. The rules are [`crate::admin::publish`]'s,
//! shared with `hark admin form import`; this file only speaks HTTP.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hark_core::form::{Changes, Form};
use serde::Serialize;

use super::{Params, audit};
use crate::admin::{self, Outcome};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error};
use crate::model::Role;
use crate::state::{AppState, blocking};

/// Largest XLSForm accepted (a 200-question form with three languages is
/// well under 1 MB).
pub const MAX_XLSFORM_BODY: usize = 5 * 1024 * 1024;

/// The media types an XLSForm upload may have. Browsers send the file's
/// own type, or `application/octet-stream` when they do not know it.
const SPREADSHEETS: &[&str] = &[
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/octet-stream",
];

/// What an upload did.
#[derive(Serialize)]
pub(crate) struct Published {
    /// `published`, `already_published` or `checked` (a dry run).
    outcome: Outcome,
    form: String,
    version: String,
    title: String,
    audience: &'static str,
    languages: Vec<String>,
    questions: usize,
    triggers: usize,
    /// The area's newest version before this one.
    previous: Option<String>,
    changes: Option<Changes>,
    warnings: Vec<String>,
}

/// `POST /api/v1/forms[?dry_run=true]`: the body is the XLSForm.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    who: AuthUser,
    headers: HeaderMap,
    Query(params): Params,
    body: Bytes,
) -> Result<Json<Published>, ApiError> {
    who.require(Role::Administrator)?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !SPREADSHEETS.contains(&media.as_str()) {
        return Err(ApiError::MediaType(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (.xlsx) or application/vnd.oasis.opendocument.spreadsheet (.ods)",
        ));
    }
    let dry_run = match params
        .iter()
        .find(|(k, _)| k == "dry_run")
        .map(|(_, v)| v.as_str())
    {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "dry_run is true or false, not '{other}'"
            )));
        }
    };
    let storage = state.storage.clone();
    let out = blocking(move || {
        let imported = hark_xlsform::import_file(&body).map_err(Error::from)?;
        let mut p = admin::publish(storage.as_ref(), &who.area, imported.form, dry_run)?;
        let mut warnings: Vec<String> = imported.warnings.iter().map(ToString::to_string).collect();
        warnings.append(&mut p.warnings);
        if p.outcome == Outcome::Published {
            audit(
                storage.as_ref(),
                &who,
                "form.publish",
                p.form.form_ref().to_string(),
            )?;
        }
        Ok(published(
            &p.form, p.outcome, p.previous, p.changes, warnings,
        ))
    })
    .await?;
    Ok(Json(out))
}

fn published(
    form: &Form,
    outcome: Outcome,
    previous: Option<semver::Version>,
    changes: Option<Changes>,
    warnings: Vec<String>,
) -> Published {
    let lang = form.default_language();
    Published {
        outcome,
        form: form.id.clone(),
        version: form.version.to_string(),
        title: form.title.get(lang, lang).to_owned(),
        audience: form.audience.as_str(),
        languages: form.languages.clone(),
        questions: form.questions.len(),
        triggers: form.safeguarding.len(),
        previous: previous.map(|v| v.to_string()),
        changes,
        warnings,
    }
}

/// What retiring did.
#[derive(Serialize)]
pub(crate) struct RetiredForm {
    form: String,
    /// The versions newly retired (none if it was retired already).
    retired: Vec<String>,
}

/// `POST /api/v1/forms/{id}/retire`: devices stop offering the form for
/// new responses at their next sync; responses begun on it still count.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn retire(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<RetiredForm>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let out = blocking(move || {
        let retired = admin::retire(storage.as_ref(), &who.area, &id)?;
        if !retired.is_empty() {
            audit(storage.as_ref(), &who, "form.retire", id.clone())?;
        }
        Ok(RetiredForm {
            form: id,
            retired: retired.iter().map(ToString::to_string).collect(),
        })
    })
    .await?;
    Ok(Json(out))
}

/// The `version` query parameter, if given.
fn version(params: &[(String, String)]) -> Result<Option<semver::Version>, ApiError> {
    params
        .iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| {
            semver::Version::parse(v)
                .map_err(|_| ApiError::BadRequest(format!("'{v}' is not a version like 1.2.0")))
        })
        .transpose()
}

/// `GET /api/v1/forms/{id}[?version=]`: one form version as the form model
/// (JSON), the newest unless a version is given.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn show(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Json<Form>, ApiError> {
    let version = version(&params)?;
    let storage = state.storage.clone();
    let form =
        blocking(move || admin::area_form(storage.as_ref(), &who.area, &id, version.as_ref()))
            .await?;
    Ok(Json(form))
}

/// `GET /api/v1/forms/{id}/xlsx[?version=]`: a form version as an XLSForm
/// an author can open, edit and upload again.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn xlsx(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    who.require(Role::Administrator)?;
    let version = version(&params)?;
    let storage = state.storage.clone();
    let (form, bytes) = blocking(move || {
        let form = admin::area_form(storage.as_ref(), &who.area, &id, version.as_ref())?;
        let bytes = hark_xlsform::export_file(&form).map_err(|e| Error::Invalid(e.to_string()))?;
        Ok((form, bytes))
    })
    .await?;
    let name = format!("{}-{}.xlsx", form.id, form.version);
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(SPREADSHEETS[0]),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response())
}
