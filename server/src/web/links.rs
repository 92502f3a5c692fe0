//! An administrator's survey links: make them (one open link with a
//! closing date and a cap, or single-use links to hand out), list them,
//! revoke one. The secret in a link's address is shown once, when it is
//! made; only its hash is kept. The rules are [`crate::links`]'s.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::{audit, json_body};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error};
use crate::links::{self, LinkSpec};
use crate::model::{Role, SurveyLink};
use crate::state::{AppState, blocking};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLinks {
    form: String,
    /// How many single-use links; none for one open link.
    #[serde(default)]
    single_use: Option<u32>,
    /// Last day answers are taken (`YYYY-MM-DD`, UTC).
    #[serde(default)]
    closes: Option<String>,
    /// Most answers an open link takes.
    #[serde(default)]
    cap: Option<i64>,
}

/// A made link, with the path that holds its secret (shown this once).
#[derive(Serialize)]
pub(crate) struct Made {
    #[serde(flatten)]
    link: SurveyLink,
    /// `/s/…`: the link's address on this server.
    path: String,
}

/// The first moment after the last day (`YYYY-MM-DD`, UTC) answers are
/// taken, in ms.
pub(crate) fn closes_after(day: &str) -> Result<i64, Error> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day, &format)
        .map_err(|_| Error::Invalid(format!("'{day}' is not a date like 2027-01-31")))?;
    let next = date
        .next_day()
        .ok_or_else(|| Error::Invalid(format!("'{day}' is too far ahead")))?;
    Ok(
        i64::try_from(next.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(i64::MAX),
    )
}

/// `POST /api/v1/links`.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Vec<Made>>), ApiError> {
    who.require(Role::Administrator)?;
    let body: NewLinks = json_body(
        &headers,
        &body,
        "{\"form\", \"single_use\": n, \"closes\": \"YYYY-MM-DD\", \"cap\": n}",
    )?;
    let storage = state.storage.clone();
    let made = blocking(move || {
        let spec = LinkSpec {
            single_use: body.single_use,
            closes_at: body.closes.as_deref().map(closes_after).transpose()?,
            cap: body.cap,
        };
        let now = hark_core::doc::now_ms();
        let made = links::create(
            storage.as_ref(),
            &who.area,
            &body.form,
            &spec,
            &who.user.username,
            now,
        )?;
        audit(
            storage.as_ref(),
            &who,
            "link.create",
            format!("{} link(s) to {}", made.len(), body.form),
        )?;
        Ok(made
            .into_iter()
            .map(|m| Made {
                path: m.url(""),
                link: m.link,
            })
            .collect())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// `GET /api/v1/links`: the area's links (never their secrets).
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<SurveyLink>>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    Ok(Json(blocking(move || storage.links(&area_id)).await?))
}

/// `POST /api/v1/links/{id}/revoke`.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    blocking(move || {
        if !storage.revoke_link(&who.area.id, &id)? {
            return Err(Error::NotFound(format!("link {id}")));
        }
        audit(storage.as_ref(), &who, "link.revoke", id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
