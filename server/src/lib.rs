//! Herald's server as a library: the `herald` binary and the tests both start
//! it through [`run`], so tests exercise exactly what operators run.

pub mod app;
pub mod error;
pub mod routes;
pub mod secret_key;
pub mod settings;
pub mod store;
pub mod web;

use std::future::Future;

use anyhow::Context as _;
use tokio::net::TcpListener;

pub use app::AppState;
pub use settings::Settings;

/// Opens the database (creating it and running migrations on first start),
/// loads or creates the secret key, then serves HTTP on `listener` until
/// `shutdown` completes. In-flight requests finish before it returns.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let local_addr = listener.local_addr().context("reading the listener's address")?;
    let state = AppState::start(settings, local_addr).await?;
    web::warn_if_app_missing(&state.settings.dist_dir);
    tracing::info!(
        address = %local_addr,
        public_url = %state.public_url,
        "herald is listening"
    );
    let router = routes::router(state);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
    tracing::info!("herald stopped");
    Ok(())
}
