//! The Slack app Herald is installed as: its secrets (sealed at rest), its
//! bot token (refreshed when it rotates), its installation and identity,
//! and what Slack told Herald about it lately. One [`SlackApps`] serves the
//! API, the Slack endpoints and the worker alike.

pub mod cache;
mod events;
pub mod install;
pub mod installation;
pub mod socket_mode;
pub mod tokens;

use std::sync::Arc;

use secrecy::SecretString;
use std::sync::atomic::{AtomicU64, Ordering};

use herald_model::manifest::{DEFAULT_APP_NAME, bot_display_name};

use super::error::Error;
use super::secret_key::SecretKey;
use crate::slack::client::SlackClient;
use crate::store::{SlackAppRecord, SlackAppSecrets, Store, StoredSecret};

pub struct SlackApps {
    store: Arc<dyn Store>,
    /// Slack's Web API (one HTTP client for all calls).
    slack: SlackClient,
    /// Seals the app's secrets at rest.
    key: SecretKey,
    /// One token refresh at a time: a refresh token works once, so two at
    /// once would leave one of them holding a dead pair.
    refresh: tokio::sync::Mutex<()>,
    /// Channel IDs, bot and user names Slack told Herald in the last minute.
    cache: cache::SlackCache,
    /// Grows whenever an app's bot token changes (an install, a pasted
    /// token, a refresh): the worker then reads tokens again at once.
    tokens: AtomicU64,
    /// Rung when an app-level token is saved: the Socket Mode receiver
    /// looks again at once.
    app_tokens: tokio::sync::Notify,
    /// Socket Mode connections, as this replica's receiver says they are.
    socket_mode: socket_mode::Board,
}

impl SlackApps {
    pub fn new(store: Arc<dyn Store>, slack: SlackClient, key: SecretKey) -> Self {
        SlackApps {
            store,
            slack,
            key,
            refresh: tokio::sync::Mutex::new(()),
            cache: Default::default(),
            tokens: AtomicU64::new(0),
            app_tokens: tokio::sync::Notify::new(),
            socket_mode: socket_mode::Board::default(),
        }
    }

    pub fn slack(&self) -> &SlackClient {
        &self.slack
    }

    pub fn cache(&self) -> &cache::SlackCache {
        &self.cache
    }

    pub fn socket_mode(&self) -> &socket_mode::Board {
        &self.socket_mode
    }

    /// Seals one of the app's secrets; the context binds it to its field
    /// and app, so a sealed value cannot be moved to another.
    pub fn seal(&self, client_id: &str, field: &str, secret: &str) -> StoredSecret {
        StoredSecret { sealed: self.key.seal(secret, &context(field, client_id)), last_four: herald_model::destination::last_four(secret) }
    }

    /// The secrets given, sealed for the app (`None` keeps what is stored).
    pub fn seal_secrets(
        &self,
        client_id: &str,
        [client_secret, signing_secret, bot_token, app_token]: [Option<&str>; 4],
    ) -> SlackAppSecrets {
        let seal = |field: &str, secret: Option<&str>| secret.map(|secret| self.seal(client_id, field, secret));
        SlackAppSecrets {
            client_secret: seal("client_secret", client_secret),
            signing_secret: seal("signing_secret", signing_secret),
            bot_token: seal("bot_token", bot_token),
            app_token: seal("app_token", app_token),
        }
    }

    pub fn open(&self, client_id: &str, field: &str, sealed: &StoredSecret) -> Result<SecretString, Error> {
        self.key.open(&sealed.sealed, &context(field, client_id)).map_err(Error::broken)
    }

    /// The stored bot token, unsealed, as it is (see [`SlackApps::bot_token`]
    /// for one renewed when it is about to expire).
    pub fn stored_bot_token(&self, app: Option<&SlackAppRecord>) -> Result<SecretString, Error> {
        let Some((app, sealed)) = app.and_then(|a| a.bot_token.as_ref().map(|t| (a, t))) else {
            return Err(Error::NoToken);
        };
        self.open(&app.client_id, "bot_token", sealed)
    }

    /// An app's bot token changed.
    pub fn tokens_changed(&self) {
        self.tokens.fetch_add(1, Ordering::Release);
    }

    /// An app-level token was saved.
    pub fn app_tokens_changed(&self) {
        self.app_tokens.notify_one();
    }

    /// Until an app-level token is saved (at once if one was since the
    /// last wait).
    pub async fn app_tokens_saved(&self) {
        self.app_tokens.notified().await;
    }

    pub fn tokens_version(&self) -> u64 {
        self.tokens.load(Ordering::Acquire)
    }

    /// The bot's handle, as Slack knows it (the default when Slack won't say).
    pub async fn bot_name(&self, client_id: &str, token: &str) -> String {
        if let Some(name) = self.cache.bot_names.get(&client_id.to_owned()) {
            return name;
        }
        match self.slack.auth_test(token).await {
            Ok(me) => {
                let name = me.user.unwrap_or_else(|| bot_display_name(DEFAULT_APP_NAME));
                self.cache.bot_names.put(client_id.to_owned(), name.clone());
                name
            }
            Err(_) => bot_display_name(DEFAULT_APP_NAME),
        }
    }
}

/// Where each secret is sealed.
fn context(field: &str, client_id: &str) -> String {
    format!("slack_apps.{field}:{client_id}")
}
