//! `/api/users`: who may sign in, and with which role (Manage Users).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_model::account::{NewUser, UserList, UserPatch, UserView, parse_display_name};

use super::Body;
use crate::AppState;
use crate::domain::accounts::{self, CreateUserError};
use crate::http::auth::{Authorized, need};
use crate::http::error::ApiError;

pub async fn list(_: Authorized<need::ManageUsers>, State(state): State<AppState>) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList { users: state.store.list_users().await? }))
}

pub async fn create(
    admin: Authorized<need::ManageUsers>,
    State(state): State<AppState>,
    Body(new): Body<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = accounts::create_user(state.store.as_ref(), new).await.map_err(|err| match err {
        CreateUserError::Invalid(fields) => ApiError::invalid(fields),
        CreateUserError::Store(err) => err.into(),
        CreateUserError::Hashing(err) => ApiError::internal(err),
    })?;
    tracing::info!(user.id = %user.id, by = %admin.user.id, role = user.role.as_str(), "user created");
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn update(
    admin: Authorized<need::ManageUsers>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(mut patch): Body<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    if let Some(name) = &patch.display_name {
        patch.display_name = Some(parse_display_name("displayName", name)?);
    }
    let user = state.store.update_user(&id, &patch).await?;
    tracing::info!(user.id = %user.id, by = %admin.user.id, role = user.role.as_str(), enabled = user.enabled, "user changed");
    Ok(Json(user))
}
