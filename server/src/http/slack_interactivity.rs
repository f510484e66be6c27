//! `POST /slack/interactivity`: clicks on Herald's messages and submitted
//! modals. The signature is checked on the raw body first; a replayed
//! request is refused; then Slack gets its answer at once and the work
//! (which calls Slack) goes on after it, well within Slack's 3 seconds.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::slack_request::signing_app;
use crate::AppState;
use crate::domain::error::Error;
use crate::domain::{inbound, interactions};

pub async fn interactivity(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let app = signing_app(&state, &headers, &body).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !interactions::first_time(&*state.store, &format!("request {}", header("x-slack-signature"))).await? {
        tracing::warn!("refused a replayed Slack interaction");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "replayed", "This request was received before; it is not acted on twice."));
    }
    let bad = |reason: &str| Error::BadSlackPayload(reason.to_owned());
    let payload = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "payload")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| bad("the form has no payload field"))?;
    let payload: Value = serde_json::from_str(&payload).map_err(|_| bad("the payload is not JSON"))?;
    Ok(match inbound::interaction(&state.interactions(), &state.tasks, app, &payload).await? {
        Some(reply) => Json(reply).into_response(),
        None => StatusCode::OK.into_response(),
    })
}
