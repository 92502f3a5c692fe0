//! Free-text answers, for the users allowed to read them, and only when
//! at least 5 people answered under the filters chosen; sorted, so their
//! order says nothing about who wrote them.

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;

use super::reports::{parse_report, plan_report};
use super::{Params, audit, query_string};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error};
use crate::report;
use crate::state::{AppState, blocking};

#[derive(Serialize)]
pub(crate) struct FreeText {
    question: String,
    answers: Vec<String>,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn free_text(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<FreeText>, ApiError> {
    if !who.user.free_text {
        return Err(ApiError::Denied(
            "free-text answers are only for users allowed to read them".into(),
        ));
    }
    let mut q = parse_report(&params)?;
    if q.split.take().is_some() {
        return Err(ApiError::BadRequest("free text cannot be split".into()));
    }
    let storage = state.storage.clone();
    let detail = query_string(&params);
    let who = who.clone();
    let question = q.question.clone();
    let answers = blocking(move || {
        let plan = plan_report(storage.as_ref(), &who.area.id, &q)?;
        let r = report::build(&plan, &storage.tallies(&plan.tallies)?)?;
        if r.kind != "free_text" {
            return Err(Error::Invalid(format!(
                "'{}' is not a free-text question",
                q.question
            )));
        }
        let everyone = r.groups.last().and_then(|g| g.cells.last());
        if everyone
            .and_then(|c| c.answered.n)
            .is_none_or(|n| n < report::suppress::THRESHOLD)
        {
            return Err(Error::Invalid(
                "fewer than 5 people answered with these filters; widen them".into(),
            ));
        }
        let values: Vec<String> = q.filters.iter().map(|(_, v)| v.clone()).collect();
        let answers = storage.free_text(&plan.tallies, &values)?;
        audit(storage.as_ref(), &who, "text.read", detail)?;
        Ok(answers)
    })
    .await?;
    Ok(Json(FreeText { question, answers }))
}
