//! The application state every handler shares.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use url::Url;

use crate::auth::limits::SignInLimits;
use crate::secret_key::SecretKey;
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
}

impl AppState {
    /// Opens the store and loads the key: everything that can fail at start-up.
    pub async fn start(settings: Settings, local_addr: SocketAddr) -> anyhow::Result<Self> {
        let store = store::open(&settings.database).await?;
        let secret_key = SecretKey::load_or_create(&settings.secret_key_file)?;
        crate::accounts::bootstrap(store.as_ref(), &settings).await?;
        crate::auth::password::warm_up().await;
        let public_url = settings.public_url_or(local_addr);
        let sign_in_limits = SignInLimits::default();
        Ok(AppState(Arc::new(App { settings, public_url, store, secret_key, sign_in_limits })))
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
