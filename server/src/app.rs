//! The application state every handler shares.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use url::Url;

use crate::domain::accounts::limits::SignInLimits;
use crate::domain::secret_key::SecretKey;
use crate::slack::client::SlackClient;
use crate::settings::Settings;
use crate::store::{self, Store};

/// One cheap-to-clone handle on everything a request may need.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    /// Settings as given at start-up.
    pub settings: Settings,
    /// The base URL people and Slack reach Herald at: `HERALD_PUBLIC_URL`, or
    /// `http://<listening address>` when unset.
    pub public_url: Url,
    /// Where everything persistent lives.
    pub store: Arc<dyn Store>,
    /// Encrypts secrets at rest.
    pub secret_key: SecretKey,
    /// Sign-in attempts per account and per address.
    pub sign_in_limits: SignInLimits,
    /// Slack's Web API (one HTTP client for all calls).
    pub slack: SlackClient,
    /// One token refresh at a time: a refresh token works once, so two at
    /// once would leave one of them holding a dead pair.
    pub token_refresh: tokio::sync::Mutex<()>,
    /// Channel IDs and bot names Slack told Herald in the last minute.
    pub slack_cache: crate::domain::slack_app::cache::SlackCache,
    /// The delivery worker's wake-up call and its metrics.
    pub delivery: crate::domain::outbox::Delivery,
    /// Slack interactions seen lately, so a replay does not act twice.
    pub slack_replays: crate::slack::signature::ReplayGuard,
}

impl AppState {
    /// Opens the store and loads the key: everything that can fail at start-up.
    pub async fn start(settings: Settings, local_addr: SocketAddr) -> anyhow::Result<Self> {
        let store = store::open(&settings.database).await?;
        let secret_key = check_secret_key(store.as_ref(), &settings.secret_key_file).await?;
        crate::domain::accounts::bootstrap(store.as_ref(), &settings).await?;
        crate::domain::accounts::password::warm_up().await;
        let public_url = settings.public_url_or(local_addr);
        let sign_in_limits = SignInLimits::default();
        let slack = SlackClient::new(settings.slack_api_url.clone());
        let token_refresh = tokio::sync::Mutex::new(());
        let slack_cache = Default::default();
        Ok(AppState(Arc::new(App {
            settings,
            public_url,
            store,
            secret_key,
            sign_in_limits,
            slack,
            token_refresh,
            slack_cache,
            delivery: Default::default(),
            slack_replays: Default::default(),
        })))
    }
}

/// Loads the key and proves it is the one the database's secrets were
/// sealed with; a new database gets a new key and its check value.
async fn check_secret_key(store: &dyn Store, path: &std::path::Path) -> anyhow::Result<SecretKey> {
    const CHECK: &str = "herald key check";
    const CONTEXT: &str = "settings.key_check";
    match store.key_check().await? {
        Some(sealed) => {
            let key = SecretKey::load(path)?;
            if key.open(&sealed, CONTEXT).is_err() {
                anyhow::bail!(
                    "HERALD_SECRET_KEY_FILE {}: this is not the key the database's secrets were sealed with. \
                     Restore the key file backed up with this database",
                    path.display()
                );
            }
            Ok(key)
        }
        None => {
            let key = SecretKey::load_or_create(path)?;
            store.set_key_check(&key.seal(CHECK, CONTEXT)).await?;
            Ok(key)
        }
    }
}

impl App {
    /// Cookies get `Secure` when people reach Herald over https.
    pub fn cookies_secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
