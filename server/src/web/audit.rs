//! The area's audit log, newest first, for administrators.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::model::{AuditEntry, Role};
use crate::state::{AppState, blocking};

#[derive(Deserialize)]
pub(crate) struct AuditParams {
    before: Option<i64>,
    limit: Option<usize>,
}

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn log(
    State(state): State<AppState>,
    who: AuthUser,
    Query(p): Query<AuditParams>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let area_id = who.area.id.clone();
    let entries = blocking(move || {
        storage.audit_log(
            &area_id,
            p.before.unwrap_or(i64::MAX),
            p.limit.unwrap_or(100).min(1000),
        )
    })
    .await?;
    Ok(Json(entries))
}
