//! `POST /slack/interactivity`: clicks on Herald's messages and submitted
//! modals. The signature is checked on the raw body first; a replayed
//! request is refused; then Slack gets its answer at once and the work
//! (which calls Slack) goes on after it, well within Slack's 3 seconds.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::slack_request::signing_app;
use crate::AppState;
use crate::domain::interactions;
use crate::domain::slack_app::installation;

fn bad(reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_payload", format!("Not an interaction Herald can handle: {reason}."))
}

pub async fn interactivity(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let app = signing_app(&state, &headers, &body).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !interactions::first_time(&*state.store, header("x-slack-signature")).await? {
        tracing::warn!("refused a replayed Slack interaction");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "replayed", "This request was received before; it is not acted on twice."));
    }
    let payload = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "payload")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| bad("the form has no payload field"))?;
    let payload: Value = serde_json::from_str(&payload).map_err(|_| bad("the payload is not JSON"))?;
    // Only from the workspace (or org) the app is installed in, whichever
    // way it was installed.
    let Some(installation) = state.apps.installation(&app).await else {
        tracing::warn!(slack.client_id = %app.client_id, "refused a Slack interaction: the app's workspace is not known yet");
        return Err(bad("Herald does not know yet which workspace this app is installed in; save the bot token again"));
    };
    if !installation::is_from(&installation, payload["team"]["id"].as_str(), payload["enterprise"]["id"].as_str()) {
        tracing::warn!(
            slack.team_id = payload["team"]["id"].as_str().unwrap_or_default(),
            "refused a Slack interaction from another workspace"
        );
        return Err(bad("it comes from a workspace this app is not installed in"));
    }
    let app = crate::store::SlackAppRecord { installation: Some(installation), ..app };
    match payload["type"].as_str() {
        Some("block_actions") => {
            let click = interactions::read_click(&payload).map_err(bad)?;
            tracing::info!(slack.action = %click.action_id, alert.id = %click.alert_id, "Slack click");
            state.tasks.spawn(interactions::click(state.interactions(), app, click));
            Ok(StatusCode::OK.into_response())
        }
        Some("view_submission") => match interactions::read_submission(&payload).map_err(bad)? {
            // Shown in the modal, which stays open.
            Err(errors) => Ok(Json(json!({"response_action": "errors", "errors": errors})).into_response()),
            Ok(submission) => {
                state.tasks.spawn(interactions::submit(state.interactions(), app, submission));
                Ok(StatusCode::OK.into_response())
            }
        },
        // A modal closed without submitting: nothing to do.
        Some("view_closed") => Ok(StatusCode::OK.into_response()),
        Some(other) => Err(bad(format!("type {other:?}"))),
        None => Err(bad("the payload has no type")),
    }
}
