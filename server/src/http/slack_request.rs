//! Whether a request to `/slack/*` comes from Slack: signed with the
//! signing secret of a stored app, recently. Events and interactivity both
//! ask here before reading a body.

use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret as _;

use super::error::ApiError;
use crate::AppState;
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
pub async fn signing_app(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<SlackAppRecord, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(timestamp), Some(sent)) = (header("x-slack-request-timestamp"), header("x-slack-signature")) else {
        return Err(refused(SignatureError::Missing));
    };
    let now = jiff::Timestamp::now().as_second();
    let mut last = SignatureError::Mismatch;
    for app in state.store.list_slack_apps().await? {
        let Some(sealed) = &app.signing_secret else { continue };
        let secret = state.apps.open(&app.client_id, "signing_secret", sealed)?;
        match signature::verify(secret.expose_secret(), timestamp, body, sent, now) {
            Ok(()) => return Ok(app),
            Err(err @ (SignatureError::Stale | SignatureError::BadTimestamp)) => return Err(refused(err)),
            Err(err) => last = err,
        }
    }
    Err(refused(last))
}
