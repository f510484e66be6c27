//! The bot token to call Slack with, refreshed first when token rotation
//! is on and it is about to expire (or Slack said it has).

use crate::slack::client::SlackError;
use crate::AppState;
use crate::domain::destinations::context;
use crate::http::error::ApiError;
use crate::store::{SlackAppRecord, StoredSecret};

/// The error code of a refresh that could not reach Slack (worth retrying).
pub const SLACK_UNREACHABLE: &str = "slack_unreachable";

/// Refresh this long before the token expires.
const REFRESH_AHEAD_SECS: i64 = 300;

/// The app's bot token, refreshed first when it expires within five
/// minutes. `expired`: the token Slack just answered `token_expired` for.
pub async fn bot_token(state: &AppState, app: &SlackAppRecord, expired: Option<&str>) -> Result<String, ApiError> {
    let rotating = app.installation.as_ref().filter(|i| i.refresh_token.is_some());
    let due = rotating
        .and_then(|i| i.token_expires_at)
        .is_some_and(|at| at - jiff::Timestamp::now().as_second() <= REFRESH_AHEAD_SECS);
    if rotating.is_some() && (due || expired.is_some()) {
        return refresh(state, &app.client_id, expired).await;
    }
    crate::domain::destinations::bot_token(state, Some(app))
}

/// Calls Slack with the app's bot token; when Slack says the token has
/// expired, renews it and calls once more. Every call someone waits on
/// goes through here (the worker has its own, with the outbox's retries).
/// The token used last comes back with the answer.
pub async fn renewing<T, F, Fut>(state: &AppState, app: &SlackAppRecord, mut call: F) -> Result<(String, Result<T, SlackError>), ApiError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, SlackError>>,
{
    let token = bot_token(state, app, None).await?;
    let answer = call(token.clone()).await;
    if matches!(&answer, Err(SlackError::Api(code)) if code == "token_expired") {
        let renewed = bot_token(state, app, Some(&token)).await?;
        let answer = call(renewed.clone()).await;
        return Ok((renewed, answer));
    }
    Ok((token, answer))
}

async fn refresh(state: &AppState, client_id: &str, expired: Option<&str>) -> Result<String, ApiError> {
    let _one_at_a_time = state.token_refresh.lock().await;
    // Read again under the lock: another request may have renewed it already.
    let app = state.store.slack_app(client_id).await?.ok_or_else(|| ApiError::not_found("There is no such Slack app."))?;
    let installation = app.installation.as_ref().ok_or_else(|| ApiError::internal("refreshing a token with no installation"))?;
    let now = jiff::Timestamp::now().as_second();
    let current = crate::domain::destinations::bot_token(state, Some(&app))?;
    let renewed_meanwhile = match expired {
        Some(expired) => current != expired,
        None => installation.token_expires_at.is_some_and(|at| at - now > REFRESH_AHEAD_SECS),
    };
    if renewed_meanwhile {
        return Ok(current);
    }
    // A token pasted meanwhile replaced the rotating pair: nothing to renew.
    let Some(old_refresh) = installation.refresh_token.as_ref() else { return Ok(current) };
    let open = |field: &str, sealed: &StoredSecret| state.secret_key.open(&sealed.sealed, &context(field, client_id)).map_err(ApiError::internal);
    let refresh_token = open("refresh_token", old_refresh)?;
    let client_secret = open("client_secret", app.client_secret.as_ref().ok_or_else(|| ApiError::internal("no client secret"))?)?;
    let access = state.slack.refresh_token(client_id, &client_secret, &refresh_token).await.map_err(|error| {
        tracing::warn!(slack.error = %error, "token refresh failed");
        match error {
            // Slack said no: only a new install mends it.
            SlackError::Api(_) => ApiError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "token_refresh_failed",
                "Slack refused to renew the app's token: reinstall the app with Add to Slack.",
            ),
            // Slack could not be asked: the next try may work.
            _ => ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                SLACK_UNREACHABLE,
                "Slack could not be reached to renew the app's token; Herald tries again.",
            ),
        }
    })?;
    let new_refresh = access.refresh_token.as_deref().ok_or_else(|| ApiError::internal("Slack sent no new refresh token"))?;
    let seal = |field: &str, secret: &str| StoredSecret {
        sealed: state.secret_key.seal(secret, &context(field, client_id)),
        last_four: herald_model::destination::last_four(secret),
    };
    let expires_at = now + access.expires_in.unwrap_or(43_200);
    let new_bot = seal("bot_token", &access.access_token);
    let stored = state.store.rotate_tokens(client_id, &old_refresh.sealed, &new_bot, &seal("refresh_token", new_refresh), expires_at).await?;
    state.delivery.tokens_changed();
    if !stored {
        // A new install replaced the pair while this refresh ran; keep it.
        let app = state.store.slack_app(client_id).await?;
        return crate::domain::destinations::bot_token(state, app.as_ref());
    }
    tracing::info!(slack.client_id = client_id, "bot token renewed");
    Ok(access.access_token)
}
