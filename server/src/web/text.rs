//! Free-text answers, for the users allowed to read them, one whole
//! published quarter at a time (a set that grew as months were published
//! would show the newest month's by difference; published quotes never
//! change but by erasure), filtered by at most one dimension value, and
//! only when the set of quotes passes
//! [`crate::report::quotes::readable`] against every other set a reader could
//! ask for; sorted, so their order says nothing about who wrote them.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use hark_core::form::QuestionKind;
use serde::Serialize;

use super::reports::{parse_report, plan_report};
use super::{Params, audit, query_string};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error, Result};
use crate::publication;
use crate::report::quotes::{Overlap, readable};
use crate::report::{Granularity, Plan};
use crate::state::{AppState, blocking};
use crate::storage::Storage;
use crate::tally::{Dim, TallyQuery, VALUE_ANSWERED};

#[derive(Serialize)]
pub(crate) struct FreeText {
    question: String,
    /// The published quarter the answers were given in.
    quarter: String,
    answers: Vec<String>,
}

/// How many answered the question, by the values of `dims`, in the
/// plan's months.
fn answered_by(
    storage: &dyn Storage,
    plan: &Plan,
    dims: Vec<Dim>,
) -> Result<HashMap<Vec<String>, u64>> {
    let rows = storage.tallies(&TallyQuery {
        dims,
        ..plan.tallies.clone()
    })?;
    let mut out = HashMap::new();
    for r in rows.into_iter().filter(|r| r.value == VALUE_ANSWERED) {
        *out.entry(r.dims).or_default() += u64::try_from(r.n).unwrap_or(0);
    }
    Ok(out)
}

/// The size of the set asked for and its overlap with every other set a
/// reader could ask for: everyone, and each value of each dimension.
fn overlaps(
    storage: &dyn Storage,
    plan: &Plan,
    filter: Option<&(Dim, String)>,
) -> Result<(u64, Vec<Overlap>)> {
    let everyone = answered_by(storage, plan, Vec::new())?
        .values()
        .sum::<u64>();
    let mut others = Vec::new();
    let Some((dim, value)) = filter else {
        for d in Dim::ALL {
            for n in answered_by(storage, plan, vec![d])?.into_values() {
                others.push(Overlap { other: n, both: n });
            }
        }
        return Ok((everyone, others));
    };
    let asked = answered_by(storage, plan, vec![*dim])?
        .get(std::slice::from_ref(value))
        .copied()
        .unwrap_or(0);
    others.push(Overlap {
        other: everyone,
        both: asked,
    });
    for d in Dim::ALL {
        if d == *dim {
            continue;
        }
        let sizes = answered_by(storage, plan, vec![d])?;
        let pairs = answered_by(storage, plan, vec![*dim, d])?;
        for (key, other) in sizes {
            let both = pairs
                .get(&[value.clone(), key[0].clone()][..])
                .copied()
                .unwrap_or(0);
            others.push(Overlap { other, both });
        }
    }
    Ok((asked, others))
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
        let (asked, others) = overlaps(storage.as_ref(), &plan, q.filters.first())?;
        readable(asked, &others).map_err(|why| Error::Invalid(why.to_owned()))?;
        let values: Vec<String> = q.filters.iter().map(|(_, v)| v.clone()).collect();
        let answers = storage.free_text(&plan.tallies, &values)?;
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
