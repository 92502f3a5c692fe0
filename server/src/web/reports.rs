//! Reports as JSON and as CSV: the query parsed and checked, the plan made
//! against the area's versions of the form, the tallies read, and the
//! suppressed report built (`crate::report`). Both shapes are audited and
//! carry exactly the same numbers.

use std::convert::Infallible;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::Response;

use super::{Params, audit, csv_cell, csv_response, form_versions, query_string};
use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::publication;
use crate::report::{self, Granularity, Report, ReportQuery};
use crate::state::{AppState, Clock, blocking};
use crate::storage::Storage;
use crate::tally::Dim;

/// Parses a report query: `form`, `question`, `period` (month|quarter),
/// `split`, `from`, `to`, and a filter per dimension name.
pub(crate) fn parse_report(params: &[(String, String)]) -> Result<ReportQuery, ApiError> {
    let mut q = ReportQuery::default();
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in params {
        if !seen.insert(k.as_str()) {
            return Err(ApiError::BadRequest(format!("'{k}' is given twice")));
        }
        match k.as_str() {
            "form" => q.form.clone_from(v),
            "question" => q.question.clone_from(v),
            "period" => {
                q.granularity = match v.as_str() {
                    "month" => Granularity::Month,
                    "quarter" => Granularity::Quarter,
                    _ => return Err(ApiError::BadRequest("period is month or quarter".into())),
                }
            }
            "split" if v.is_empty() => {}
            "split" => {
                q.split = Some(
                    Dim::parse(v)
                        .ok_or_else(|| ApiError::BadRequest(format!("cannot split by '{v}'")))?,
                );
            }
            "from" if !v.is_empty() => q.from = Some(v.clone()),
            "to" if !v.is_empty() => q.to = Some(v.clone()),
            "from" | "to" => {}
            other => match Dim::parse(other) {
                Some(_) if v.is_empty() => {}
                Some(d) => q.filters.push((d, v.clone())),
                None => {
                    return Err(ApiError::BadRequest(format!("unknown parameter '{other}'")));
                }
            },
        }
    }
    if q.form.is_empty() || q.question.is_empty() {
        return Err(ApiError::BadRequest(
            "form and question are required".into(),
        ));
    }
    Ok(q)
}

/// The plan of a report over the area's versions of its form and the
/// months published at the server's clock (publishing those now due).
pub(crate) fn plan_report(
    storage: &dyn Storage,
    clock: &Clock,
    area_id: &str,
    q: &ReportQuery,
) -> Result<report::Plan> {
    let versions = form_versions(storage, area_id, &q.form)?;
    let published = publish_due(storage, clock, area_id)?;
    Ok(report::plan(area_id, q, &versions, published.as_deref())?)
}

/// Publishes an area's months due at the server's clock (see
/// [`crate::publication`]); the last month published.
pub(crate) fn publish_due(
    storage: &dyn Storage,
    clock: &Clock,
    area_id: &str,
) -> Result<Option<String>> {
    let now = clock.now_ms();
    storage.publish(area_id, &publication::published_through(now), now)
}

pub(crate) fn make_report(
    storage: &dyn Storage,
    clock: &Clock,
    area_id: &str,
    q: &ReportQuery,
) -> Result<Report> {
    let plan = plan_report(storage, clock, area_id, q)?;
    let rows = storage.tallies(&plan.tallies)?;
    let respondents = storage.tallies(&plan.respondents)?;
    // (Every version in the report: the same rows.)
    let all_versions;
    let listing = if plan.listing == plan.respondents {
        &respondents
    } else {
        all_versions = storage.tallies(&plan.listing)?;
        &all_versions
    };
    Ok(report::build(&plan, &rows, &respondents, listing)?)
}

async fn report_for(
    state: &AppState,
    who: &AuthUser,
    params: &[(String, String)],
    action: &'static str,
) -> Result<Report, ApiError> {
    let q = parse_report(params)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let detail = query_string(params);
    let who = who.clone();
    let clock = state.clock.clone();
    blocking(move || {
        let r = make_report(storage.as_ref(), &clock, &area_id, &q)?;
        audit(storage.as_ref(), &who, action, detail)?;
        Ok(r)
    })
    .await
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn json(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(
        report_for(&state, &who, &params, "report.read").await?,
    ))
}

fn csv_line(fields: &[String]) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(fields.iter().map(|f| csv_cell(f)).map(|c| c.into_owned()));
    Bytes::from(w.into_inner().unwrap_or_default())
}

/// A report as CSV rows: one per group, period and option, then one per
/// score. Hidden cells are empty with the reason in `note`.
fn report_rows(r: &Report) -> Vec<Bytes> {
    let split = r.split.map_or("everyone", Dim::as_str);
    let mut out = vec![csv_line(
        &[
            "form", "question", "split", "group", "period", "option", "label", "count", "share",
            "note",
        ]
        .map(str::to_owned),
    )];
    let fmt = |c: &report::Count| {
        (
            c.n.map(|n| n.to_string()).unwrap_or_default(),
            c.share.map(|s| format!("{s:.4}")).unwrap_or_default(),
            c.hidden.unwrap_or_default().to_owned(),
        )
    };
    for g in &r.groups {
        for cell in &g.cells {
            // One line: option id, label, count, share, note.
            let mut line =
                |option: &str, label: &str, (n, share, note): (String, String, String)| {
                    out.push(csv_line(&[
                        r.form.clone(),
                        r.question.clone(),
                        split.to_owned(),
                        g.key.clone(),
                        cell.period.clone(),
                        option.to_owned(),
                        label.to_owned(),
                        n,
                        share,
                        note,
                    ]));
                };
            let (n, _, note) = fmt(&cell.answered);
            line("answered", "answered", (n, String::new(), note));
            for (o, c) in r.options.iter().zip(&cell.options) {
                line(&o.id, &o.label, fmt(c));
            }
            for m in &cell.measures {
                let value = m.value.map(|v| v.to_string()).unwrap_or_default();
                let note = if m.value.is_none() { "hidden" } else { "" };
                line(m.id, m.label, (value, String::new(), note.to_owned()));
            }
        }
    }
    out
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let r = report_for(&state, &who, &params, "report.export").await?;
    let name = format!("{}-{}.csv", r.form, r.question);
    let rows = report_rows(&r);
    let body = Body::from_stream(futures_util::stream::iter(
        rows.into_iter().map(Ok::<_, Infallible>),
    ));
    Ok(csv_response(&name, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_queries_are_parsed_and_checked() {
        let p = |s: &str| -> Vec<(String, String)> {
            s.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let q = parse_report(&p(
            "form=f&question=q&period=quarter&split=setting&need=autism&from=2026-01",
        ))
        .expect("valid");
        assert_eq!(q.granularity, Granularity::Quarter);
        assert_eq!(q.split, Some(Dim::Setting));
        assert_eq!(q.filters, vec![(Dim::Need, "autism".to_owned())]);
        assert_eq!(q.from.as_deref(), Some("2026-01"));
        for bad in [
            "form=f",
            "form=f&question=q&colour=red",
            "form=f&question=q&split=child",
            "form=f&question=q&period=week",
            "form=f&question=q&need=a&need=b",
        ] {
            assert!(parse_report(&p(bad)).is_err(), "{bad}");
        }
    }
}
