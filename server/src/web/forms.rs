//! The area's forms (every version, the latest's questions) and the values
//! recorded for each reporting dimension, for the dashboard's pickers.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;

use super::{Params, form_versions, required};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::publication::month_index;
use crate::report;
use crate::state::{AppState, blocking};
use crate::tally::{Dim, QUESTION_RESPONSES, TallyQuery};

#[derive(Serialize)]
pub(crate) struct FormSummary {
    id: String,
    title: String,
    audience: hark_core::form::Audience,
    theme: hark_core::form::Theme,
    versions: Vec<String>,
    /// Whether the newest version is retired (no new responses).
    retired: bool,
    questions: Vec<QuestionSummary>,
}

#[derive(Serialize)]
pub(crate) struct QuestionSummary {
    id: String,
    text: String,
    kind: &'static str,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn forms(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<FormSummary>>, ApiError> {
    let storage = state.storage.clone();
    let area = who.area.clone();
    let forms = blocking(move || crate::admin::area_versions(storage.as_ref(), &area)).await?;
    Ok(Json(
        forms
            .into_values()
            .filter_map(|versions| {
                let newest = versions.last()?;
                let retired = newest.retired;
                let latest = newest.form.clone();
                let lang = latest
                    .languages
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "en".into());
                Some(FormSummary {
                    id: latest.id.clone(),
                    title: latest.title.get(&lang, &lang).to_owned(),
                    audience: latest.audience,
                    theme: latest.theme,
                    versions: versions
                        .iter()
                        .map(|v| v.form.version.to_string())
                        .collect(),
                    retired,
                    questions: latest
                        .questions
                        .iter()
                        // A note takes no answer: nothing to report.
                        .filter(|q| q.kind.takes_answer())
                        .map(|q| QuestionSummary {
                            id: q.id.clone(),
                            text: q.label.get(&lang, &lang).to_owned(),
                            kind: q.kind.name(),
                        })
                        .collect(),
                })
            })
            .collect(),
    ))
}

/// The values of every dimension that reports list for a form (for the
/// dashboard's filter lists: `report::listed_since`): names only, never
/// counts.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn dimensions(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<BTreeMap<Dim, Vec<String>>>, ApiError> {
    let form = required(&params, "form")?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let clock = state.clock.clone();
    let out = blocking(move || {
        let versions = form_versions(storage.as_ref(), &area_id, &form)?;
        // Published months only, as in reports.
        let published = super::reports::publish_due(storage.as_ref(), &clock, &area_id)?;
        let mut out = BTreeMap::new();
        for dim in Dim::ALL {
            let rows = storage.tallies(&TallyQuery {
                area_id: area_id.clone(),
                question: QUESTION_RESPONSES.to_owned(),
                versions: versions
                    .iter()
                    .map(|f| (f.id.clone(), f.version.to_string()))
                    .collect(),
                dims: vec![dim],
                months: Some((String::new(), published.clone().unwrap_or_default())),
            })?;
            // Only the values reports list: a value one child has would
            // say that child answered.
            let values = report::listed_since(
                dim,
                rows.iter()
                    .map(|r| (r.dims.first(), month_index(&r.month), r.n)),
            )
            .into_keys()
            .collect();
            out.insert(dim, values);
        }
        Ok(out)
    })
    .await?;
    Ok(Json(out))
}
