//! An administrator's view of the area's dashboard users: list and create.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::{audit, json_body};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::model::Role;
use crate::state::{AppState, blocking};

#[derive(Serialize)]
pub(crate) struct UserSummary {
    username: String,
    role: Role,
    free_text: bool,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<UserSummary>>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let users = blocking(move || storage.users(&area_id)).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| UserSummary {
                username: u.username,
                role: u.role,
                free_text: u.free_text,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
    password: String,
    role: Role,
    #[serde(default)]
    free_text: bool,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<UserSummary>), ApiError> {
    who.require(Role::Administrator)?;
    let body: NewUser = json_body(
        &headers,
        &body,
        "{\"username\", \"password\", \"role\": \"leader\"|\"administrator\", \"free_text\"}",
    )?;
    let storage = state.storage.clone();
    let user = blocking(move || {
        let user = crate::users::create_user(
            storage.as_ref(),
            &who.area.name,
            &body.username,
            &body.password,
            body.role,
            body.free_text,
        )?;
        audit(
            storage.as_ref(),
            &who,
            "user.create",
            format!("{} ({})", user.username, user.role.as_str()),
        )?;
        Ok(user)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserSummary {
            username: user.username,
            role: user.role,
            free_text: user.free_text,
        }),
    ))
}
