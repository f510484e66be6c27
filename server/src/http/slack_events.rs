//! `POST /slack/events`: Slack's Events API. Every request is verified
//! against the signing secret of a stored app before its body is read;
//! retries of an event already handled change nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::slack_request::signing_app;
use crate::AppState;
use crate::domain::inbound;

pub async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let app = signing_app(&state, &headers, &body).await?;
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "The event is not valid JSON."))?;
    Ok(match inbound::event(&state.interactions(), &app, &payload).await? {
        Some(reply) => Json(reply).into_response(),
        None => StatusCode::OK.into_response(),
    })
}
