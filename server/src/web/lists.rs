//! The area's reporting lists (settings, age phases, needs, pathways):
//! every signed-in user reads them; administrators replace one at a time.
//! Devices receive them with their next sync.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hark_core::lists::{AreaLists, ListDim, ListItem, check_list};

use super::{audit, json_body};
use crate::auth::AuthUser;
use crate::error::{ApiError, Error};
use crate::model::Role;
use crate::state::{AppState, blocking};

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn get(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<AreaLists>, ApiError> {
    let storage = state.storage.clone();
    Ok(Json(
        blocking(move || storage.area_lists(&who.area.id)).await?,
    ))
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn put(
    State(state): State<AppState>,
    who: AuthUser,
    Path(dim): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AreaLists>, ApiError> {
    who.require(Role::Administrator)?;
    let dim = ListDim::parse(&dim).ok_or_else(|| {
        ApiError::BadRequest("the lists are setting, age_phase, need and pathway".into())
    })?;
    let items: Vec<ListItem> = json_body(
        &headers,
        &body,
        "[{\"id\": \"clinic\", \"label\": \"Clinic\"}, …]",
    )?;
    check_list(&items).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let storage = state.storage.clone();
    let lists = blocking(move || {
        let lists = storage.set_area_list(&who.area.id, dim, &items)?;
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        audit(
            storage.as_ref(),
            &who,
            "lists.write",
            format!("{}: {}", dim.as_str(), ids.join(", ")),
        )?;
        Ok::<_, Error>(lists)
    })
    .await?;
    Ok(Json(lists))
}
