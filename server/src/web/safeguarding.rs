//! The safeguarding lead's list: flagged responses one by one — the one
//! place hark shows individual records — with when, form, trigger, level,
//! setting, occasion, the practitioner's staff code and the answers that
//! raised the flag; status new -> seen -> followed up (who, when, a note).
//! Only the `safeguarding` role sees it (not administrators, not leaders);
//! every view and every change is audited. A feed (`after` an id) serves
//! integrations that poll.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use hark_core::doc::now_ms;
use hark_core::form::Form;
use hark_core::response::ResponseDoc;
use serde::{Deserialize, Serialize};

use super::{area_forms, audit, json_body};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error, Result};
use crate::model::{Flag, FlagStatus, Role};
use crate::state::{AppState, blocking};
use crate::storage::Storage;

/// Flags per page.
const PAGE: usize = 100;

/// Only the safeguarding role, whatever else a user may do.
fn safeguarding_only(who: &AuthUser) -> Result<(), ApiError> {
    if who.user.role == Role::Safeguarding {
        Ok(())
    } else {
        Err(ApiError::Denied(
            "the safeguarding list is only for the safeguarding role".into(),
        ))
    }
}

/// One answer that raised a flag, as read.
#[derive(Serialize)]
pub(crate) struct RaisingAnswer {
    question: String,
    text: String,
    answer: String,
}

/// A flag with what the lead needs to follow it up.
#[derive(Serialize)]
pub(crate) struct FlagView {
    #[serde(flatten)]
    flag: Flag,
    form_title: String,
    guidance: String,
    answers: Vec<RaisingAnswer>,
}

/// The answers the flag's trigger reads, from the stored document.
fn view(storage: &dyn Storage, forms: &[Form], flag: Flag) -> Result<FlagView> {
    let form = forms
        .iter()
        .find(|f| f.id == flag.form && f.version.to_string() == flag.version);
    let lang = form.map_or("en", |f| f.default_language()).to_owned();
    let trigger = form.and_then(|f| f.safeguarding.iter().find(|t| t.id == flag.trigger));
    let mut answers = Vec::new();
    if let (Some(form), Some(trigger), Some(doc)) =
        (form, trigger, storage.load(&flag.response_key)?)
    {
        let response = ResponseDoc::load(&doc.bytes, "server")?;
        let kept = form.walk(&response.answers()?).kept;
        let mut seen = Vec::new();
        for (qid, _) in trigger.when.references() {
            if seen.contains(&qid) {
                continue;
            }
            seen.push(qid);
            if let (Some(q), Some(a)) = (form.question(qid), kept.get(qid)) {
                answers.push(RaisingAnswer {
                    question: q.id.clone(),
                    text: q.text(&lang).to_owned(),
                    answer: q.describe(a, &lang),
                });
            }
        }
    }
    Ok(FlagView {
        form_title: form.map_or_else(
            || flag.form.clone(),
            |f| f.title.get(&lang, &lang).to_owned(),
        ),
        guidance: trigger.map_or_else(String::new, |t| t.guidance.get(&lang, &lang).to_owned()),
        answers,
        flag,
    })
}

fn views(storage: &dyn Storage, area_id: &str, flags: Vec<Flag>) -> Result<Vec<FlagView>> {
    let forms: Vec<Form> = area_forms(storage, area_id)?
        .into_values()
        .flatten()
        .collect();
    flags
        .into_iter()
        .map(|f| view(storage, &forms, f))
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct ListParams {
    status: Option<FlagStatus>,
    before: Option<i64>,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<FlagView>>, ApiError> {
    safeguarding_only(&who)?;
    let storage = state.storage.clone();
    Ok(Json(
        blocking(move || {
            let flags =
                storage.flags(&who.area.id, p.status, p.before.unwrap_or(i64::MAX), PAGE)?;
            let ids: Vec<String> = flags.iter().map(|f| f.id.to_string()).collect();
            audit(storage.as_ref(), &who, "safeguarding.read", ids.join(","))?;
            views(storage.as_ref(), &who.area.id, flags)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
pub(crate) struct FeedParams {
    #[serde(default)]
    after: i64,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn feed(
    State(state): State<AppState>,
    who: AuthUser,
    Query(p): Query<FeedParams>,
) -> Result<Json<Vec<FlagView>>, ApiError> {
    safeguarding_only(&who)?;
    let storage = state.storage.clone();
    Ok(Json(
        blocking(move || {
            let flags = storage.flags_after(&who.area.id, p.after, PAGE)?;
            audit(
                storage.as_ref(),
                &who,
                "safeguarding.feed",
                format!("after={} ({} flags)", p.after, flags.len()),
            )?;
            views(storage.as_ref(), &who.area.id, flags)
        })
        .await?,
    ))
}

/// How many flags wait to be seen.
#[derive(Serialize)]
pub(crate) struct Waiting {
    new: i64,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn count(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Waiting>, ApiError> {
    safeguarding_only(&who)?;
    let storage = state.storage.clone();
    let new = blocking(move || storage.count_flags(&who.area.id, FlagStatus::New)).await?;
    Ok(Json(Waiting { new }))
}

#[derive(Deserialize)]
pub(crate) struct StatusBody {
    status: FlagStatus,
    #[serde(default)]
    note: Option<String>,
}

/// Longest follow-up note.
const MAX_NOTE: usize = 4000;

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<FlagView>, ApiError> {
    safeguarding_only(&who)?;
    let body: StatusBody = json_body(
        &headers,
        &body,
        "{\"status\": \"seen\"|\"followed_up\", \"note\": \"…\"}",
    )?;
    let note = body
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if body.status == FlagStatus::FollowedUp && note.is_none() {
        return Err(ApiError::BadRequest(
            "say what was done: a follow-up needs a note".into(),
        ));
    }
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(ApiError::BadRequest(format!(
            "a note is at most {MAX_NOTE} characters"
        )));
    }
    let storage = state.storage.clone();
    let view = blocking(move || {
        let found = storage.set_flag_status(
            &who.area.id,
            id,
            body.status,
            &who.user.username,
            now_ms(),
            note.as_deref(),
        )?;
        let flag = storage
            .flag(&who.area.id, id)?
            .filter(|_| found)
            .ok_or_else(|| Error::NotFound(format!("flag {id}")))?;
        audit(
            storage.as_ref(),
            &who,
            "safeguarding.status",
            format!("{id}: {}", body.status.as_str()),
        )?;
        let mut views = views(storage.as_ref(), &who.area.id, vec![flag])?;
        Ok(views.remove(0))
    })
    .await?;
    Ok(Json(view))
}
