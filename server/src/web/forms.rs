//! The area's forms (every version, the latest's questions) and the values
//! recorded for each reporting dimension, for the dashboard's pickers.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;

use super::{Params, area_forms, form_versions, required};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::{AppState, blocking};
use crate::tally::{Dim, QUESTION_RESPONSES, TallyQuery};

#[derive(Serialize)]
pub(crate) struct FormSummary {
    id: String,
    title: String,
    audience: hark_core::form::Audience,
    theme: hark_core::form::Theme,
    versions: Vec<String>,
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
    let area_id = who.area.id.clone();
    let forms = blocking(move || area_forms(storage.as_ref(), &area_id)).await?;
    Ok(Json(
        forms
            .into_values()
            .filter_map(|versions| {
                let latest = versions.last()?.clone();
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
                    versions: versions.iter().map(|f| f.version.to_string()).collect(),
                    questions: latest
                        .questions
                        .iter()
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

/// Distinct values of every dimension recorded for a form (for the
/// dashboard's filter lists): category names only, never counts.
#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn dimensions(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<BTreeMap<Dim, Vec<String>>>, ApiError> {
    let form = required(&params, "form")?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let out = blocking(move || {
        let versions = form_versions(storage.as_ref(), &area_id, &form)?;
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
                months: None,
            })?;
            let mut values: Vec<String> = rows
                .into_iter()
                .filter_map(|r| r.dims.into_iter().next())
                .collect();
            values.sort();
            values.dedup();
            out.insert(dim, values);
        }
        Ok(out)
    })
    .await?;
    Ok(Json(out))
}
