//! The application state every handler shares.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use url::Url;

use crate::delivery::worker::{self, Worker};
use crate::domain::accounts::limits::SignInLimits;
use crate::domain::interactions::Interactions;
use crate::domain::outbox::Outbox;
use crate::domain::secret_key::SecretKey;
use crate::domain::slack_app::SlackApps;
use crate::domain::triage::Triage;
use crate::settings::Settings;
use crate::slack::client::SlackClient;
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
    /// The Slack app: its secrets, tokens, installation and Slack's API.
    pub apps: Arc<SlackApps>,
    /// The delivery worker's wake-up call and its metrics.
    pub outbox: Arc<Outbox>,
    /// Sign-in attempts per account and per address.
    pub sign_in_limits: SignInLimits,
    /// Work that goes on after its request was answered (a click's effect
    /// in Slack): a stopping server lets it finish.
    pub tasks: tokio_util::task::TaskTracker,
}

impl AppState {
    /// Opens the store and loads the key: everything that can fail at start-up.
    pub async fn start(settings: Settings, local_addr: SocketAddr) -> anyhow::Result<Self> {
        let store = store::connect(&settings.database, settings.database_pool).await?;
        let secret_key = check_secret_key(store.as_ref(), &settings.secret_key_file).await?;
        crate::domain::accounts::bootstrap(store.as_ref(), settings.admin_email.as_deref(), settings.admin_password_file.as_deref())
            .await?;
        crate::domain::accounts::password::warm_up().await;
        let public_url = settings.public_url_or(local_addr);
        let slack = SlackClient::new(settings.slack_api_url.clone());
        let apps = Arc::new(SlackApps::new(store.clone(), slack, secret_key));
        Ok(AppState(Arc::new(App {
            settings,
            public_url,
            store,
            apps,
            outbox: Default::default(),
            sign_in_limits: SignInLimits::default(),
            tasks: tokio_util::task::TaskTracker::new(),
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
            let kept = store.set_key_check(&key.seal(CHECK, CONTEXT)).await?;
            if key.open(&kept, CONTEXT).is_err() {
                anyhow::bail!(
                    "HERALD_SECRET_KEY_FILE {}: another replica started on this new database at the same moment with another key. \
                     Every replica needs the same key file: copy that replica's key here",
                    path.display()
                );
            }
            Ok(key)
        }
    }
}

impl App {
    /// What the delivery worker works with.
    pub fn worker(&self) -> Worker {
        let s = &self.settings;
        Worker {
            store: self.store.clone(),
            apps: self.apps.clone(),
            outbox: self.outbox.clone(),
            public_url: self.public_url.clone(),
            config: worker::Config {
                channel_rate: s.slack_pacing.then_some(s.slack_channel_rate),
                priority_max_wait: s.priority_max_wait,
                delivery_attempts: s.delivery_attempts,
                delivery_retry_base: s.delivery_retry_base,
                reminder_minute: s.reminder_minute,
            },
        }
    }

    /// What answering people in Slack works with.
    pub fn interactions(&self) -> Interactions {
        Interactions {
            store: self.store.clone(),
            apps: self.apps.clone(),
            outbox: self.outbox.clone(),
            public_url: self.public_url.clone(),
            allow_guests: self.settings.slack_allow_guests,
        }
    }

    /// The pair every change of an alert needs.
    pub fn triage(&self) -> Triage<'_> {
        Triage { store: &*self.store, outbox: &self.outbox }
    }

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
