//! `POST /slack/events`: Slack's Events API. Every request is verified
//! against the signing secret of a stored app before its body is read;
//! retries of an event already handled change nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::domain::destinations::context;
use crate::http::error::ApiError;
use crate::slack::signature::{self, SignatureError};
use crate::store::SlackAppRecord;

fn refused(reason: SignatureError) -> ApiError {
    warn_at_most_once_a_minute(&reason);
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", format!("Not a verified Slack request: {reason}."))
}

/// Unsigned traffic to `/slack/*` (scanners, a wrong signing secret) is
/// logged once a minute with a count, not once a request: a flood cannot
/// fill the log.
fn warn_at_most_once_a_minute(reason: &SignatureError) {
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
    static LAST_WARNED: AtomicI64 = AtomicI64::new(i64::MIN);
    static SINCE: AtomicU64 = AtomicU64::new(0);
    let now = jiff::Timestamp::now().as_second();
    let last = LAST_WARNED.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 60 && LAST_WARNED.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        let more = SINCE.swap(0, Ordering::Relaxed);
        tracing::warn!(reason = %reason, refused_since_last_warning = more, "refused a request claiming to come from Slack (this warning comes at most once a minute)");
    } else {
        SINCE.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(reason = %reason, "refused a request claiming to come from Slack");
    }
}

/// The stored app whose signing secret signed this request.
pub(super) async fn signing_app(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<SlackAppRecord, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(timestamp), Some(sent)) = (header("x-slack-request-timestamp"), header("x-slack-signature")) else {
        return Err(refused(SignatureError::Missing));
    };
    let now = jiff::Timestamp::now().as_second();
    let mut last = SignatureError::Mismatch;
    for app in state.store.list_slack_apps().await? {
        let Some(sealed) = &app.signing_secret else { continue };
        let secret = state.secret_key.open(&sealed.sealed, &context("signing_secret", &app.client_id)).map_err(ApiError::internal)?;
        match signature::verify(&secret, timestamp, body, sent, now) {
            Ok(()) => return Ok(app),
            Err(err @ (SignatureError::Stale | SignatureError::BadTimestamp)) => return Err(refused(err)),
            Err(err) => last = err,
        }
    }
    Err(refused(last))
}

pub async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let app = signing_app(&state, &headers, &body).await?;
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "The event is not valid JSON."))?;
    match payload["type"].as_str() {
        Some("url_verification") => {
            let challenge = payload["challenge"].as_str().unwrap_or_default();
            return Ok(Json(json!({"challenge": challenge})).into_response());
        }
        Some("event_callback") => {}
        _ => return Ok(StatusCode::OK.into_response()),
    }
    let event_id = payload["event_id"].as_str().unwrap_or_default();
    if event_id.is_empty() || !state.store.record_slack_event(event_id).await? {
        tracing::debug!(slack.event_id = event_id, "event handled before; ignoring the retry");
        return Ok(StatusCode::OK.into_response());
    }
    let handled = handle(&state, &app, &payload).await;
    if handled.is_err() {
        // Not handled after all: let Slack's retry try again.
        let _ = state.store.forget_slack_event(event_id).await;
    }
    handled.map(|()| StatusCode::OK.into_response())
}

async fn handle(state: &AppState, app: &SlackAppRecord, payload: &Value) -> Result<(), ApiError> {
    let event = &payload["event"];
    let kind = event["type"].as_str().unwrap_or_default();
    tracing::info!(slack.event_id = payload["event_id"].as_str().unwrap_or_default(), slack.event = kind, "Slack event");
    // Only news about this app's own installation counts, whichever way
    // it was installed; an unknown installation believes nothing.
    let installation = crate::domain::slack_app::installation::known(state, app).await;
    let same_team = installation.as_ref().is_some_and(|i| {
        crate::domain::slack_app::installation::is_from(i, payload["team_id"].as_str(), payload["enterprise_id"].as_str())
    });
    let our_bot = |list: &Value| {
        installation.as_ref().is_some_and(|i| list.as_array().is_some_and(|bots| bots.iter().any(|b| b.as_str() == Some(i.bot_user_id.as_str()))))
    };
    let problem = match kind {
        "app_uninstalled" if same_team => Some("Disconnected: the app was uninstalled from Slack. Reinstall it and save the new bot token."),
        "tokens_revoked" if same_team && our_bot(&event["tokens"]["bot"]) => {
            Some("Disconnected: Slack revoked the app's tokens. Reinstall the app and save the new bot token.")
        }
        // The channel check asks Slack itself; the event needs no state.
        _ => None,
    };
    if let Some(problem) = problem {
        let news = app.problem.as_deref() != Some(problem);
        state.store.set_slack_app_problem(&app.client_id, Some(problem)).await?;
        if news {
            crate::domain::system::app_disconnected(state, &app.client_id, problem).await?;
        }
    }
    Ok(())
}
