//! Data problems for administrators: what merged documents held that the
//! form would not accept as is, and how it was counted (see
//! `validate.rs`), counted per form, version, question and kind — never a
//! response one by one.

use axum::Json;
use axum::extract::State;

use super::audit;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::model::Role;
use crate::state::{AppState, blocking};
use crate::storage::ProblemCount;

#[tracing::instrument(skip_all, fields(user = %who.user.username))]
pub(crate) async fn list(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<ProblemCount>>, ApiError> {
    who.require(Role::Administrator)?;
    let storage = state.storage.clone();
    let problems = blocking(move || {
        let problems = storage.problems(&who.area.id)?;
        audit(storage.as_ref(), &who, "problems.read", String::new())?;
        Ok(problems)
    })
    .await?;
    Ok(Json(problems))
}
