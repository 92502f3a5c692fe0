//! The row-level export for administrators: one CSV row per submitted
//! response (month, setting, age phase, need, pathway and the answers; no
//! ids, devices or practitioners; free text only for users allowed it),
//! streamed from a blocking reader through a bounded channel, so memory
//! stays flat however many responses there are.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::Response;
use hark_core::form::QuestionKind;

use super::{Params, audit, csv_cell, csv_response, form_versions, query_string, required};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error};
use crate::model::Role;
use crate::state::{AppState, blocking};

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
            // appearance; free text only for users allowed it.
            let mut questions: Vec<String> = Vec::new();
            for f in &versions {
                for q in &f.questions {
                    let text = matches!(q.kind, QuestionKind::FreeText { .. });
                    if (with_text || !text) && !questions.contains(&q.id) {
                        questions.push(q.id.clone());
                    }
                }
            }
            audit(storage.as_ref(), &who, "responses.export", detail)?;
            Ok((versions.len(), questions))
        })
        .await?
    };
    tracing::info!(versions, columns = questions.len(), "row-level export");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let name = format!("{form}-responses.csv");
    tokio::task::spawn_blocking(move || {
        let mut w = csv::Writer::from_writer(ChunkSink {
            buf: Vec::with_capacity(CHUNK),
            tx,
        });
        let mut header: Vec<String> = [
            "form",
            "version",
            "month",
            "setting",
            "age_phase",
            "need",
            "pathway",
            "kiosk",
        ]
        .map(str::to_owned)
        .to_vec();
        header.extend(questions.iter().cloned());
        let column: BTreeMap<&str, usize> = questions
            .iter()
            .enumerate()
            .map(|(i, q)| (q.as_str(), i))
            .collect();
        let result = w.write_record(&header).map_err(Error::from).and_then(|()| {
            let mut cells: Vec<String> = vec![String::new(); column.len()];
            storage.export_responses(
                &area_id,
                std::slice::from_ref(&form),
                with_text,
                &mut |rec| {
                    for cell in &mut cells {
                        cell.clear();
                    }
                    for (q, text, num) in rec.answers {
                        if let Some(&i) = column.get(q.as_str()) {
                            match (text, num) {
                                (Some(t), _) => cells[i] = t,
                                (None, Some(n)) => cells[i] = n.to_string(),
                                (None, None) => {}
                            }
                        }
                    }
                    let fixed = [
                        rec.form_id.as_str(),
                        rec.form_version.as_str(),
                        rec.month.as_str(),
                        rec.setting.as_deref().unwrap_or_default(),
                        rec.age_phase.as_deref().unwrap_or_default(),
                        rec.need.as_deref().unwrap_or_default(),
                        rec.pathway.as_deref().unwrap_or_default(),
                        if rec.kiosk { "true" } else { "false" },
                    ];
                    w.write_record(
                        fixed
                            .iter()
                            .copied()
                            .chain(cells.iter().map(String::as_str))
                            .map(|c| csv_cell(c).into_owned()),
                    )
                    .map_err(Error::from)
                },
            )
        });
        let result = result.and_then(|()| w.flush().map_err(Error::from));
        if let Err(e) = result {
            tracing::warn!(error = %e, "export stopped");
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|c| c.map(Ok::<_, Infallible>))
    });
    Ok(csv_response(&name, Body::from_stream(stream)))
}
