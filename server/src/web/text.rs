//! Free-text answers, for the users allowed to read them, one whole
//! published quarter at a time (a set that grew as months were published
//! would show the newest month's by difference; published quotes never
//! change but by erasure), filtered by at most one dimension value, and
//! only when the set of quotes is one of the family of sets that may be
//! read beside one another ([`crate::report::quotes::readable`]); sorted,
//! so their order says nothing about who wrote them.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Query, State};
use hark_core::form::QuestionKind;
use serde::Serialize;

use super::reports::{make_report, parse_report, plan_report};
use super::{Params, audit, query_string};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error, Result};
use crate::publication;
use crate::report::quotes::{QuoteSet, readable};
use crate::report::{Granularity, ReportQuery};
use crate::state::{AppState, Clock, blocking};
use crate::storage::Storage;
use crate::tally::Dim;

#[derive(Serialize)]
pub(crate) struct FreeText {
    question: String,
    /// The published quarter the answers were given in.
    quarter: String,
    answers: Vec<String>,
}

/// The sets whose count the question's reports show for `quarter`:
/// everyone's, and each value's of each dimension. A set of quotes served
/// says its count (the quotes can be counted), so only these may be.
fn shown_in_reports(
    storage: &dyn Storage,
    clock: &Clock,
    area_id: &str,
    q: &ReportQuery,
    quarter: &str,
) -> Result<BTreeSet<QuoteSet>> {
    let mut shown = BTreeSet::new();
    for split in std::iter::once(None).chain(Dim::ALL.into_iter().map(Some)) {
        let report = make_report(
            storage,
            clock,
            area_id,
            &ReportQuery {
                split,
                filters: Vec::new(),
                granularity: Granularity::Quarter,
                from: None,
                to: None,
                ..q.clone()
            },
        )?;
        let Some(at) = report.periods.iter().position(|p| p == quarter) else {
            continue;
        };
        for g in &report.groups {
            if g.cells.get(at).is_none_or(|c| c.answered.n.is_none()) {
                continue;
            }
            match (split, g.key.as_str()) {
                (None, "*") => {
                    shown.insert(QuoteSet::Everyone);
                }
                (Some(d), key) if key != "*" => {
                    shown.insert(QuoteSet::Value(d, key.to_owned()));
                }
                _ => {}
            }
        }
    }
    Ok(shown)
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
    // One whole published quarter (`quarter`, or the latest): see
    // `publication::quote_quarter`.
    let (quarter, rest): (Vec<_>, Vec<_>) =
        params.iter().cloned().partition(|(k, _)| k == "quarter");
    if quarter.len() > 1 {
        return Err(ApiError::BadRequest("'quarter' is given twice".into()));
    }
    let quarter = quarter.into_iter().map(|(_, v)| v).find(|v| !v.is_empty());
    let mut q = parse_report(&rest)?;
    if q.from.is_some() || q.to.is_some() || q.granularity != Granularity::Month {
        return Err(ApiError::BadRequest(
            "free text is read a quarter at a time: give quarter=YYYY-Qn, not from, to or period"
                .into(),
        ));
    }
    if q.split.take().is_some() {
        return Err(ApiError::BadRequest("free text cannot be split".into()));
    }
    if q.filters.len() > 1 {
        return Err(ApiError::BadRequest(
            "free text can be filtered by one of setting, age phase, need, pathway and version at a time"
                .into(),
        ));
    }
    let storage = state.storage.clone();
    let detail = query_string(&params);
    let who = who.clone();
    let question = q.question.clone();
    let clock = state.clock.clone();
    let (quarter, answers) = blocking(move || {
        let mut plan = plan_report(storage.as_ref(), &clock, &who.area.id, &q)?;
        if !matches!(plan.question().kind, QuestionKind::FreeText { .. }) {
            return Err(Error::Invalid(format!(
                "'{}' is not a free-text question",
                q.question
            )));
        }
        let (quarter, first, last) =
            publication::quote_quarter(quarter.as_deref(), plan.published())
                .map_err(Error::Invalid)?;
        plan.tallies.months = Some((first, last));
        let asked = match q.filters.first() {
            None => QuoteSet::Everyone,
            Some((d, v)) => QuoteSet::Value(*d, v.clone()),
        };
        let quotes = storage.free_text(&plan.tallies)?;
        let shown = shown_in_reports(storage.as_ref(), &clock, &who.area.id, &q, &quarter)?;
        readable(&asked, &quotes, |s| shown.contains(s))
            .map_err(|why| Error::Invalid(why.to_owned()))?;
        let answers = quotes
            .into_iter()
            .filter(|q| asked.contains(q))
            .filter_map(|q| q.text)
            .collect();
        audit(storage.as_ref(), &who, "text.read", detail)?;
        Ok((quarter, answers))
    })
    .await?;
    Ok(Json(FreeText {
        question,
        quarter,
        answers,
    }))
}
