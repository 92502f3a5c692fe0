//! Where a family answers a survey link, with no app and no account: the
//! page (hark's own web form, `hark_hub::assets`), the form it shows and
//! the answers it posts. The rules are [`crate::links`]'s; this file only
//! speaks HTTP. Answers are throttled per client address; every stored
//! answer is audited (the link, never the person).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::error::ApiError;
use crate::links::{self, LinkError};
use crate::state::{AppState, blocking};
use crate::web::json_body;
use hark_hub::submission::{Stored, Submission};

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Unknown => Self::UnknownLink(e.to_string()),
            LinkError::Closed => Self::Gone(e.to_string()),
            LinkError::Refused(m) => Self::BadRequest(m),
            LinkError::Other(e) => (*e).into(),
        }
    }
}

/// A token as it appears in a link: 40 hex digits. Anything else is not a
/// link (and is not looked up).
fn token_ok(token: &str) -> Result<(), ApiError> {
    if token.len() == 40 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(LinkError::Unknown.into())
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn message_page(title: &str, message: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/form.css\"></head>\
         <body><main><h1>{title}</h1><p>{message}</p></main></body></html>\n"
    )
}

/// `GET /s/{token}`: the survey page, or why it cannot be answered.
pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let closed = || {
        html(
            StatusCode::GONE,
            message_page("This survey has closed", &LinkError::Closed.to_string()),
        )
    };
    let unknown = || {
        html(
            StatusCode::NOT_FOUND,
            message_page("Survey not found", &LinkError::Unknown.to_string()),
        )
    };
    if token_ok(&token).is_err() {
        return unknown();
    }
    let storage = state.storage.clone();
    let t = token.clone();
    match blocking(move || Ok(links::form(storage.as_ref(), &t).map(|_| ()))).await {
        Ok(Ok(())) => html(
            StatusCode::OK,
            hark_hub::form_shell_at(
                &format!("/s/{token}/form"),
                &format!("/s/{token}/answers"),
                &format!("/s/{token}"),
            ),
        ),
        Ok(Err(LinkError::Closed)) => closed(),
        Ok(Err(LinkError::Unknown)) => unknown(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /s/{token}/form`: the form the link shows, as the core's model
/// serialises it, without its safeguarding triggers.
pub(crate) async fn form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    token_ok(&token)?;
    let storage = state.storage.clone();
    let form = blocking(move || Ok(links::form(storage.as_ref(), &token)))
        .await?
        .map_err(ApiError::from)?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(form),
    )
        .into_response())
}

/// `POST /s/{token}/answers`: one family's answers, stored durably (and
/// counted once however often the page retries) before "stored" is sent.
pub(crate) async fn answers(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Stored>, ApiError> {
    token_ok(&token)?;
    if let Some(Extension(ConnectInfo(peer))) = connect {
        if state.link_limiter.check_key(&peer.ip()).is_err() {
            return Err(ApiError::TooMany(
                "too many answers from this network: wait a minute and send again".into(),
            ));
        }
        if state.link_limiter.len() > 100_000 {
            state.link_limiter.retain_recent();
        }
    }
    let submission: Submission = json_body(
        &headers,
        &body,
        "{\"key\", \"form\", \"version\", \"language\", \"consent\", \"answers\"}",
    )?;
    let storage = state.storage.clone();
    let writer = state.writer.clone();
    let stored = blocking(move || {
        Ok(links::submit(
            storage.as_ref(),
            writer.as_ref(),
            &token,
            &submission,
        ))
    })
    .await?
    .map_err(ApiError::from)?;
    Ok(Json(stored))
}
