//! The bot token to call Slack with, refreshed first when token rotation
//! is on and it is about to expire (or Slack said it has).

use secrecy::{ExposeSecret as _, SecretString};

use super::SlackApps;
use crate::domain::error::Error;
use crate::domain::time::now_ms;
use crate::slack::client::SlackError;
use crate::store::SlackAppRecord;

/// Refresh this long before the token expires.
const REFRESH_AHEAD_SECS: i64 = 300;
/// How long one replica's refresh may hold the others off: longer than
/// Slack's answer and every try at storing the new pair.
const REFRESH_LEASE_MS: i64 = 120_000;
/// Tries at storing a renewed token pair (about a minute in all).
const WRITE_TRIES: u32 = 16;

impl SlackApps {
    /// The app's bot token, refreshed first when it expires within five
    /// minutes. `expired`: the token Slack just answered `token_expired` for.
    pub async fn bot_token(&self, app: &SlackAppRecord, expired: Option<&str>) -> Result<SecretString, Error> {
        let rotating = app.installation.as_ref().filter(|i| i.refresh_token.is_some());
        let due = rotating.and_then(|i| i.token_expires_at).is_some_and(|at| at - jiff::Timestamp::now().as_second() <= REFRESH_AHEAD_SECS);
        if rotating.is_some() && (due || expired.is_some()) {
            return self.refresh(&app.client_id, expired).await;
        }
        self.stored_bot_token(Some(app))
    }

    /// Calls Slack with the app's bot token; when Slack says the token has
    /// expired, renews it and calls once more. Every call someone waits on
    /// goes through here (the worker has its own, with the outbox's retries).
    /// The token used last comes back with the answer.
    pub async fn renewing<T, F, Fut>(&self, app: &SlackAppRecord, mut call: F) -> Result<(SecretString, Result<T, SlackError>), Error>
    where
        F: FnMut(SecretString) -> Fut,
        Fut: std::future::Future<Output = Result<T, SlackError>>,
    {
        let token = self.bot_token(app, None).await?;
        let answer = call(token.clone()).await;
        if matches!(&answer, Err(SlackError::Api(code)) if code == "token_expired") {
            let renewed = self.bot_token(app, Some(token.expose_secret())).await?;
            let answer = call(renewed.clone()).await;
            return Ok((renewed, answer));
        }
        Ok((token, answer))
    }

    async fn refresh(&self, client_id: &str, expired: Option<&str>) -> Result<SecretString, Error> {
        // One refresh per app at a time: in this process, then across
        // replicas (a refresh token works once).
        let _one_here = self.refresh.lock().await;
        let lease = format!("refresh:{client_id}");
        let holder = crate::store::new_id();
        let waited = std::time::Instant::now();
        while !self.store.take_lease(&lease, &holder, now_ms(), REFRESH_LEASE_MS).await? {
            if waited.elapsed() > std::time::Duration::from_millis(REFRESH_LEASE_MS as u64) {
                return Err(Error::SlackUnreachable);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let renewed = self.refresh_holding_the_lease(client_id, expired).await;
        if let Err(error) = self.store.drop_lease(&lease, &holder).await {
            tracing::warn!(%error, "could not give the refresh lease up; it lapses by itself");
        }
        renewed
    }

    async fn refresh_holding_the_lease(&self, client_id: &str, expired: Option<&str>) -> Result<SecretString, Error> {
        // Read again under the lock: another request may have renewed it already.
        let app = self.store.slack_app(client_id).await?.ok_or_else(|| Error::NotFound("There is no such Slack app.".to_owned()))?;
        let installation = app.installation.as_ref().ok_or_else(|| Error::broken("refreshing a token with no installation"))?;
        let now = jiff::Timestamp::now().as_second();
        let current = self.stored_bot_token(Some(&app))?;
        let renewed_meanwhile = match expired {
            Some(expired) => current.expose_secret() != expired,
            None => installation.token_expires_at.is_some_and(|at| at - now > REFRESH_AHEAD_SECS),
        };
        if renewed_meanwhile {
            return Ok(current);
        }
        // A token pasted meanwhile replaced the rotating pair: nothing to renew.
        let Some(old_refresh) = installation.refresh_token.as_ref() else { return Ok(current) };
        let refresh_token = self.open(client_id, "refresh_token", old_refresh)?;
        let client_secret =
            self.open(client_id, "client_secret", app.client_secret.as_ref().ok_or_else(|| Error::broken("no client secret"))?)?;
        let access =
            self.slack.refresh_token(client_id, client_secret.expose_secret(), refresh_token.expose_secret()).await.map_err(|error| {
                tracing::warn!(slack.error = %error, "token refresh failed");
                match error {
                    SlackError::Api(_) => Error::RefreshRefused,
                    _ => Error::SlackUnreachable,
                }
            })?;
        let new_refresh = access.refresh_token.as_deref().ok_or_else(|| Error::broken("Slack sent no new refresh token"))?;
        let expires_at = now + access.expires_in.unwrap_or(43_200);
        let new_bot = self.seal(client_id, "bot_token", &access.access_token);
        let new_refresh = self.seal(client_id, "refresh_token", new_refresh);
        // Slack has spent the old refresh token: the new pair must be kept,
        // so a failed write is tried again (for a minute) before giving up.
        let mut tries = 0;
        let stored = loop {
            match self.store.rotate_tokens(client_id, &old_refresh.sealed, &new_bot, &new_refresh, expires_at).await {
                Ok(stored) => break stored,
                Err(error) if tries < WRITE_TRIES => {
                    tries += 1;
                    tracing::warn!(%error, tries, "could not store the renewed bot token; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(250 << tries.min(4))).await;
                }
                Err(error) => {
                    tracing::error!(%error, "could not store the renewed bot token; reinstall the app if Slack refuses the old one");
                    return Err(error.into());
                }
            }
        };
        self.tokens_changed();
        if !stored {
            // A new install replaced the pair while this refresh ran; keep it.
            let app = self.store.slack_app(client_id).await?;
            return self.stored_bot_token(app.as_ref());
        }
        tracing::info!(slack.client_id = client_id, "bot token renewed");
        Ok(access.access_token.into())
    }
}
