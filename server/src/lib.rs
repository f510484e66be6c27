//! Herald's server as a library: the `herald` binary and the tests both start
//! it through [`run`], so tests exercise exactly what operators run.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod delivery;
pub mod destinations;
pub mod error;
pub mod routes;
pub mod secret_key;
pub mod settings;
pub mod slack;
pub mod store;
pub mod triage;
pub mod web;

use std::future::{Future, IntoFuture as _};

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
    let router = routes::router(state.clone());
    let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(delivery::worker::run(state.clone(), worker_stop));
    // Should this future be dropped (a crash, in tests), the worker goes with it.
    let worker_guard = AbortOnDrop(worker.abort_handle());

    let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let serving = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    });
    // Requests in flight get a grace period, not forever.
    let deadline = async move {
        let _ = stopping.wait_for(|&stopping| stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving.into_future() => served.context("serving HTTP")?,
        () = deadline => tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running after the grace period; stopping anyway"),
    }
    let _ = stop_worker.send(true);
    let _ = worker.await;
    drop(worker_guard);
    state.store.close().await;
    tracing::info!("herald stopped");
    Ok(())
}

/// How long requests in flight may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Aborts a spawned task when dropped, so it cannot outlive its owner.
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
