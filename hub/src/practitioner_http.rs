//! Practitioner mode's HTTP handlers (the route table is
//! `app::practitioner_router`) and the guard in front of all of them: only
//! this machine may use practitioner mode, so a request from any other
//! address — or naming another host, as a page on another site pointed at
//! this machine would — is refused before any handler runs. Errors are
//! `HubError`'s one mapping (`http.rs`). Store work runs on the blocking
//! pool, and each answer is answered only once it is durable.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hark_core::response::{Consent, Status};
use serde::{Deserialize, Serialize};

use super::context::ContextChoice;
use super::event::HubError;
use super::http::{
    blocking, form_field, from_this_machine, html, html_headers, sync_message, sync_store,
};
use super::practitioner::Desk;
use super::practitioner_pages as pages;

/// Refuses every request that is not from this machine, to this machine.
pub async fn this_machine(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !from_this_machine(peer, request.headers()) {
        return HubError::NotThisMachine.page();
    }
    next.run(request).await
}

/// `GET /`: forms, drafts, sync status (and what the last Sync now said).
pub async fn start_page(State(desk): State<Desk>) -> Response {
    let message = sync_message(desk.syncing());
    match blocking(move || Ok((desk.offered()?, desk.drafts()?, desk.sync_status()?))).await {
        Ok((forms, drafts, status)) => {
            html(pages::start(&forms, &drafts, &status, message.as_deref()))
        }
        Err(e) => e.page(),
    }
}

/// `POST /sync`: Sync now, then back to the start page, which says what
/// happened (a reload does not sync again).
pub async fn sync(State(desk): State<Desk>) -> Response {
    sync_store(desk.store(), desk.syncing()).await;
    Redirect::to("/").into_response()
}

/// `GET /new/{form}`: the context page.
pub async fn context_page(State(desk): State<Desk>, Path(form): Path<String>) -> Response {
    match blocking(move || Ok((desk.offered_form(&form)?, desk.lists()?))).await {
        Ok((form, lists)) => html(pages::context(&form, lists.as_ref(), None)),
        Err(e) => e.page(),
    }
}

/// `POST /new/{form}`: starts a draft with the context chosen, then opens it.
pub async fn start(State(desk): State<Desk>, Path(form): Path<String>, body: Bytes) -> Response {
    let field = |name: &str| form_field(&body, name).unwrap_or_default();
    let choice = ContextChoice {
        setting: field("setting"),
        age_phase: field("age_phase"),
        need: field("need"),
        pathway: field("pathway"),
        occasion: field("occasion"),
    };
    let d = desk.clone();
    let f = form.clone();
    match blocking(move || d.start(&f, &choice)).await {
        Ok(id) => Redirect::to(&format!("/responses/{id}")).into_response(),
        Err(e @ HubError::Context(_)) => {
            let (status, _) = e.parts();
            let message = e.public_message();
            match blocking(move || Ok((desk.offered_form(&form)?, desk.lists()?))).await {
                Ok((form, lists)) => (
                    status,
                    html_headers(),
                    pages::context(&form, lists.as_ref(), Some(&message)),
                )
                    .into_response(),
                Err(e) => e.page(),
            }
        }
        Err(e) => e.page(),
    }
}

/// `GET /responses/{id}`: a draft in the web form (a submitted one goes on
/// to what the practitioner is shown).
pub async fn response_page(State(desk): State<Desk>, Path(id): Path<String>) -> Response {
    let i = id.clone();
    match blocking(move || desk.status(&i)).await {
        Ok(Status::Draft) => html(pages::form_shell(&id)),
        Ok(Status::Submitted) => Redirect::to(&format!("/responses/{id}/done")).into_response(),
        Err(e) => e.page(),
    }
}

/// `GET /responses/{id}/done`: the form's safeguarding guidance for what
/// the submit raised, for the practitioner once the tablet is handed back.
pub async fn done_page(State(desk): State<Desk>, Path(id): Path<String>) -> Response {
    let i = id.clone();
    match blocking(move || desk.outcome(&i)).await {
        Ok(outcome) => html(pages::outcome(&id, &outcome)),
        Err(e) => e.page(),
    }
}

/// `POST /responses/{id}/discard`: deletes a draft.
pub async fn discard(State(desk): State<Desk>, Path(id): Path<String>) -> Response {
    match blocking(move || desk.discard(&id)).await {
        Ok(()) => html(pages::notice(
            "Draft deleted",
            "The draft and its answers are deleted from this device.",
        )),
        Err(e) => e.page(),
    }
}

/// `GET /api/practitioner/responses/{id}`: a draft for the web form.
pub async fn resume(
    State(desk): State<Desk>,
    Path(id): Path<String>,
) -> Result<Response, HubError> {
    let resume = blocking(move || desk.resume(&id)).await?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(resume),
    )
        .into_response())
}

/// One answer as the web form sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Question id.
    pub question: String,
    /// The core's JSON answer format; `null` clears.
    pub value: serde_json::Value,
}

/// What an answer changed.
#[derive(Debug, Serialize)]
pub struct Answered {
    /// Always "stored".
    pub status: &'static str,
    /// Later answers the core cleared (skip logic no longer asks them).
    pub cleared: Vec<String>,
}

fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, HubError> {
    serde_json::from_slice(body)
        .map_err(|e| HubError::BadSubmission(format!("not understood: {e}")))
}

/// `POST /api/practitioner/responses/{id}/answers`: one answer, durable
/// before the reply.
pub async fn answer(
    State(desk): State<Desk>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Answered>, HubError> {
    let a: AnswerBody = json_body(&body)?;
    let cleared = blocking(move || desk.answer(&id, &a.question, &a.value)).await?;
    Ok(Json(Answered {
        status: "stored",
        cleared,
    }))
}

/// `POST /api/practitioner/responses/{id}/consent`: consent and assent.
pub async fn consent(
    State(desk): State<Desk>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Answered>, HubError> {
    let c: Consent = json_body(&body)?;
    blocking(move || desk.consent(&id, c)).await?;
    Ok(Json(Answered {
        status: "stored",
        cleared: Vec::new(),
    }))
}

/// The submit as the web form sends it.
#[derive(Debug, Deserialize)]
pub struct SubmitBody {
    /// The language the form was answered in.
    pub language: String,
}

/// Submitted: where the practitioner goes next.
#[derive(Debug, Serialize)]
pub struct Submitted {
    /// Always "stored".
    pub status: &'static str,
    /// The page the practitioner is shown after the hand-back.
    pub next: String,
}

/// `POST /api/practitioner/responses/{id}/submit`: submits through the
/// core, durably.
pub async fn submit(
    State(desk): State<Desk>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Submitted>, HubError> {
    let s: SubmitBody = json_body(&body)?;
    let i = id.clone();
    blocking(move || desk.submit(&i, &s.language)).await?;
    Ok(Json(Submitted {
        status: "stored",
        next: format!("/responses/{id}/done"),
    }))
}
