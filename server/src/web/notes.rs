//! "You said, we did" notes: leaders write them per theme; devices fetch
//! them after every sync (`crate::devices::notes`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hark_core::doc::now_ms;
use serde::Deserialize;

use super::{audit, json_body};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::model::{Note, Role};
use crate::state::{AppState, blocking};

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<Note>>, ApiError> {
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    Ok(Json(blocking(move || storage.notes(&area_id)).await?))
}

#[derive(Deserialize)]
pub(crate) struct NoteBody {
    #[serde(default)]
    id: Option<String>,
    theme: hark_core::form::Theme,
    you_said: String,
    we_did: String,
}

/// Longest "you said" or "we did" text.
const MAX_NOTE: usize = 2000;

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn put(
    State(state): State<AppState>,
    who: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Note>, ApiError> {
    who.require(Role::Leader)?;
    let body: NoteBody = json_body(&headers, &body, "{\"theme\", \"you_said\", \"we_did\"}")?;
    let (you_said, we_did) = (
        body.you_said.trim().to_owned(),
        body.we_did.trim().to_owned(),
    );
    if you_said.is_empty() || we_did.is_empty() {
        return Err(ApiError::BadRequest(
            "both 'you said' and 'we did' are needed".into(),
        ));
    }
    if you_said.chars().count() > MAX_NOTE || we_did.chars().count() > MAX_NOTE {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_NOTE} characters each"
        )));
    }
    let theme = serde_json::to_value(body.theme)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let note = Note {
        id: body.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        area_id: who.area.id.clone(),
        theme,
        you_said,
        we_did,
        author: who.user.username.clone(),
        updated_at: now_ms(),
    };
    let storage = state.storage.clone();
    let saved = note.clone();
    blocking(move || {
        storage.put_note(&saved)?;
        audit(storage.as_ref(), &who, "note.write", saved.id.clone())
    })
    .await?;
    Ok(Json(note))
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Leader)?;
    let storage = state.storage.clone();
    let found = blocking(move || {
        let found = storage.delete_note(&who.area.id, &id)?;
        if found {
            audit(storage.as_ref(), &who, "note.delete", id)?;
        }
        Ok(found)
    })
    .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
