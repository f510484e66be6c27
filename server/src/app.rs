//! The application state every handler shares.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use url::Url;

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
}

impl AppState {
    /// Opens the store and loads the key: everything that can fail at start-up.
    pub async fn start(settings: Settings, local_addr: SocketAddr) -> anyhow::Result<Self> {
        let store = store::open(&settings.database).await?;
        let secret_key = SecretKey::load_or_create(&settings.secret_key_file)?;
        let public_url = settings.public_url_or(local_addr);
        Ok(AppState(Arc::new(App { settings, public_url, store, secret_key })))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
