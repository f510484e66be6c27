//! `/api/tokens`: API tokens for programs that send alerts (Manage API
//! Tokens), and `/api/token`, where a program checks its own token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_model::account::{ApiTokenList, ApiTokenView, CreatedApiToken, NewApiToken};

use super::Body;
use crate::AppState;
use crate::domain::accounts::secrets;
use crate::http::auth::{ApiCaller, Authorized, need};
use crate::http::error::ApiError;
use crate::store::NewApiTokenRecord;

pub async fn list(_: Authorized<need::ManageApiTokens>, State(state): State<AppState>) -> Result<Json<ApiTokenList>, ApiError> {
    Ok(Json(ApiTokenList { tokens: state.store.list_api_tokens().await? }))
}

/// The answer is the only time the token is ever shown.
pub async fn create(
    admin: Authorized<need::ManageApiTokens>,
    State(state): State<AppState>,
    Body(new): Body<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    let name = new.validate()?;
    let secret = secrets::generate(secrets::API_TOKEN_PREFIX);
    let token = state
        .store
        .create_api_token(NewApiTokenRecord {
            name,
            token_hash: secrets::hash(&secret),
            hint: secrets::hint(&secret),
            created_by: Some(admin.user.id.clone()),
        })
        .await?;
    tracing::info!(token.id = %token.id, by = %admin.user.id, "API token created");
    Ok((StatusCode::CREATED, Json(CreatedApiToken { token, secret })))
}

pub async fn revoke(
    admin: Authorized<need::ManageApiTokens>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ApiTokenView>, ApiError> {
    let token = state.store.revoke_api_token(&id).await?;
    tracing::info!(token.id = %token.id, by = %admin.user.id, "API token revoked");
    Ok(Json(token))
}

/// `GET /api/token`: lets a pipeline check its token before sending alerts.
pub async fn current(caller: ApiCaller) -> Json<ApiTokenView> {
    Json(caller.token)
}
