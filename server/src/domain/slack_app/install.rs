//! "Add to Slack", Herald's side of it: the code Slack sent back exchanged
//! for the bot token, and the token stored with where the app is installed.

use super::SlackApps;
use crate::slack::client::SlackError;
use crate::store::{Installation, SlackAppRecord};
use secrecy::ExposeSecret as _;

#[derive(Debug)]
pub enum InstallError {
    /// Slack refused the exchange or could not be asked: the person
    /// starts again (the error says why).
    Refused(SlackError),
    /// Herald's own trouble (a missing secret, the database).
    Broken(String),
}

impl SlackApps {
    /// Exchanges the code (`oauth.v2.access`), asks Slack who the token is
    /// (`auth.test`) and stores both in one write. `now`: Unix seconds.
    pub async fn install(&self, app: &SlackAppRecord, code: &str, redirect_uri: &str, now: i64) -> Result<Installation, InstallError> {
        let sealed = app.client_secret.as_ref().ok_or_else(|| InstallError::Broken("the Slack app has no client secret".to_owned()))?;
        let client_secret = self.open(&app.client_id, "client_secret", sealed).map_err(|e| InstallError::Broken(e.to_string()))?;
        let access = self
            .slack
            .oauth_access(&app.client_id, client_secret.expose_secret(), code, redirect_uri)
            .await
            .map_err(InstallError::Refused)?;
        let me = self.slack.auth_test(&access.access_token).await.map_err(InstallError::Refused)?;
        let seal = |field: &str, secret: &str| self.seal(&app.client_id, field, secret);
        let installation = Installation {
            team_id: access.team.as_ref().map(|t| t.id.clone()).or(me.team_id.clone()),
            team_name: access.team.as_ref().and_then(|t| t.name.clone()),
            enterprise_id: access.enterprise.as_ref().map(|e| e.id.clone()),
            is_enterprise_install: access.is_enterprise_install,
            bot_user_id: access.bot_user_id.clone(),
            app_id: access.app_id.clone(),
            scopes: access.scope.clone(),
            refresh_token: access.refresh_token.as_deref().map(|t| seal("refresh_token", t)),
            token_expires_at: access.expires_in.map(|secs| now + secs),
        };
        self.store
            .save_installation(&app.client_id, &seal("bot_token", &access.access_token), &installation)
            .await
            .map_err(|e| InstallError::Broken(e.to_string()))?;
        self.tokens_changed();
        Ok(installation)
    }
}
