//! The row-level export for administrators: one CSV row per submitted
//! response (period, setting, age phase, need, pathway and the answers; no
//! ids, devices or practitioners; free text only for users allowed it),
//! written from a blocking reader through a bounded channel.
//!
//! By default the export is 5-anonymous on its quasi-identifiers
//! ([`crate::export::anonymise`]: quarter instead of month, rare values
//! as "other", identifiers generalised away where a combination is rarer
//! than 5) and its rows are shuffled, so neither a row's identifiers nor
//! its place says whose it is; this reads the responses twice and holds
//! the rows, written as CSV, in memory. The
//! unrestricted export (`detail=full`: months and every value, in storage
//! order, streamed) needs a recorded reason and is audited with it.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::Response;
use hark_core::form::QuestionKind;

use super::{Params, audit, csv_cell, csv_response, form_versions, query_string, required};
use crate::auth::AuthUser;
use std::io::Write as _;

use rand::seq::SliceRandom;

use crate::error::{ApiError, Error, Result};
use crate::export::{ANY, anonymise, quasi};
use crate::model::Role;
use crate::report::suppress::THRESHOLD;
use crate::state::{AppState, blocking};
use crate::storage::Storage;

/// An `io::Write` that sends what is written to an HTTP body in chunks.
struct ChunkSink {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Bytes>,
}

const CHUNK: usize = 64 * 1024;

impl std::io::Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn responses(
    State(state): State<AppState>,
    who: AuthUser,
    Query(params): Params,
) -> Result<Response, ApiError> {
    who.require(Role::Administrator)?;
    let form = required(&params, "form")?;
    let full = match params
        .iter()
        .find(|(k, _)| k == "detail")
        .map(|(_, v)| v.as_str())
    {
        None | Some("" | "anonymous") => false,
        Some("full") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "detail is 'anonymous' or 'full', not '{other}'"
            )));
        }
    };
    let reason = params
        .iter()
        .find(|(k, _)| k == "reason")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    if full && reason.chars().count() < 10 {
        return Err(ApiError::BadRequest(
            "an unrestricted export needs a reason: say what it is for (at least 10 characters)"
                .into(),
        ));
    }
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let with_text = who.user.free_text;
    let (versions, questions) = {
        let storage = storage.clone();
        let area_id = area_id.clone();
        let form = form.clone();
        let detail = query_string(&params);
        let who = who.clone();
        blocking(move || {
            let versions = form_versions(storage.as_ref(), &area_id, &form)?;
            // Columns: every question of every version, in order of first
            // appearance; free text only for users allowed it; no notes,
            // which take no answer.
            let mut questions: Vec<String> = Vec::new();
            for f in &versions {
                for q in &f.questions {
                    let text = matches!(q.kind, QuestionKind::FreeText { .. });
                    if q.kind.takes_answer() && (with_text || !text) && !questions.contains(&q.id) {
                        questions.push(q.id.clone());
                    }
                }
            }
            let action = if full {
                "responses.export.full"
            } else {
                "responses.export"
            };
            audit(storage.as_ref(), &who, action, detail)?;
            Ok((versions.len(), questions))
        })
        .await?
    };
    tracing::info!(versions, columns = questions.len(), "row-level export");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let name = format!("{form}-responses.csv");
    tokio::task::spawn_blocking(move || {
        let sink = ChunkSink {
            buf: Vec::with_capacity(CHUNK),
            tx,
        };
        let result = write_export(
            sink,
            storage.as_ref(),
            &area_id,
            &form,
            with_text,
            full,
            &questions,
        );
        if let Err(e) = result {
            tracing::warn!(error = %e, "export stopped");
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|c| c.map(Ok::<_, Infallible>))
    });
    Ok(csv_response(&name, Body::from_stream(stream)))
}

/// Writes the export: the header, then every response's row (see the
/// module header for what the default export does to them).
fn write_export(
    sink: ChunkSink,
    storage: &dyn Storage,
    area_id: &str,
    form: &str,
    with_text: bool,
    full: bool,
    questions: &[String],
) -> Result<()> {
    let mut w = csv::Writer::from_writer(sink);
    let forms = [form.to_owned()];
    let published = if full {
        None
    } else {
        let mut rows = Vec::new();
        storage.export_responses(area_id, &forms, false, &mut |rec| {
            rows.push(quasi(&rec));
            Ok(())
        })?;
        let k = usize::try_from(THRESHOLD).unwrap_or(usize::MAX);
        Some(anonymise(&rows, k))
    };
    let period = if full { "month" } else { "quarter" };
    let mut header: Vec<String> = [
        "form",
        "version",
        period,
        "setting",
        "age_phase",
        "need",
        "pathway",
        "kiosk",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(questions.iter().cloned());
    w.write_record(&header)?;
    let column: BTreeMap<&str, usize> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.as_str(), i))
        .collect();
    // The default export's rows, already written as CSV, one after
    // another, and where each ends: shuffled as spans, not as strings.
    let mut held = csv::Writer::from_writer(Vec::new());
    let mut ends: Vec<usize> = Vec::new();
    storage.export_responses(area_id, &forms, with_text, &mut |rec| {
        let mut cells: Vec<String> = vec![String::new(); column.len()];
        for (q, text, num) in &rec.answers {
            if let Some(&i) = column.get(q.as_str()) {
                match (text, num) {
                    (Some(t), _) => cells[i].clone_from(t),
                    (None, Some(n)) => cells[i] = n.to_string(),
                    (None, None) => {}
                }
            }
        }
        let ids: [String; 5] = match &published {
            Some(map) => map
                .get(&quasi(&rec))
                .cloned()
                .unwrap_or_else(|| [ANY; 5].map(str::to_owned)),
            None => {
                let v = |x: &Option<String>| x.clone().unwrap_or_default();
                [
                    rec.month.clone(),
                    v(&rec.setting),
                    v(&rec.age_phase),
                    v(&rec.need),
                    v(&rec.pathway),
                ]
            }
        };
        let row: Vec<String> = [rec.form_id.clone(), rec.form_version.clone()]
            .into_iter()
            .chain(ids)
            .chain([if rec.kiosk { "true" } else { "false" }.to_owned()])
            .chain(cells)
            .map(|c| csv_cell(&c).into_owned())
            .collect();
        if published.is_some() {
            held.write_record(&row)?;
            held.flush()?;
            ends.push(held.get_ref().len());
            Ok(())
        } else {
            w.write_record(&row).map_err(Error::from)
        }
    })?;
    let held = held.into_inner().map_err(|e| Error::from(e.into_error()))?;
    let mut spans: Vec<(usize, usize)> = ends
        .iter()
        .scan(0, |start, &end| Some((std::mem::replace(start, end), end)))
        .collect();
    spans.shuffle(&mut rand::rng());
    let mut sink = w.into_inner().map_err(|e| Error::from(e.into_error()))?;
    for (start, end) in spans {
        sink.write_all(&held[start..end])?;
    }
    sink.flush()?;
    Ok(())
}
