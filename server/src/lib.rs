//! Herald's server as a library: the `herald` binary and the tests both start
//! it through [`run`], so tests exercise exactly what operators run.

pub mod app;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod settings;
pub mod slack;
pub mod socket_mode;
pub mod store;

use std::future::Future;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::task::AbortOnDropHandle;

pub use app::AppState;
pub use settings::Settings;

/// Opens the database (creating it and running migrations on first start),
/// loads or creates the secret key, then serves HTTP on `listener` until
/// `shutdown` completes. In-flight requests finish before it returns.
pub async fn run(listener: TcpListener, settings: Settings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let local_addr = listener.local_addr().context("reading the listener's address")?;
    // Held until this server stops.
    let claim = store::claim_for_server(&settings.database)?;
    // A single server names itself the same at every start, so a restart
    // renews its own delivery lease at once; replicas pick a name each.
    let holder = if claim.is_some() { "the server of this SQLite file".to_owned() } else { store::new_id() };
    let state = AppState::start(settings, local_addr).await?;
    http::web::warn_if_app_missing(&state.settings.dist_dir);
    tracing::info!(
        address = %local_addr,
        public_url = %state.public_url,
        "herald is listening"
    );
    let router = http::router(state.clone());
    let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
    // Should this future be dropped (a crash, in tests), the tasks go with it.
    let worker = AbortOnDropHandle::new(tokio::spawn(delivery::worker::run(state.worker(), holder, worker_stop)));
    let retention = delivery::retention::run(state.store.clone(), state.settings.retention.0, stop_worker.subscribe());
    let _retention = AbortOnDropHandle::new(tokio::spawn(retention));
    let (stop_socket_mode, socket_mode_stop) = tokio::sync::watch::channel(false);
    let inbound = socket_mode::Inbound {
        interactions: state.interactions(),
        tasks: state.tasks.clone(),
        alert_after: state.settings.socket_mode_alert_after,
    };
    let socket_mode = AbortOnDropHandle::new(tokio::spawn(socket_mode::run(inbound, socket_mode_stop)));

    serve(listener, router, &state.settings, shutdown).await;
    // No new clicks from Slack either; the ones being handled are
    // acknowledged first.
    let _ = stop_socket_mode.send(true);
    let _ = socket_mode.await;
    // Clicks answered but not yet acted on finish (a rolling restart loses none).
    state.tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, state.tasks.wait()).await.is_err() {
        tracing::warn!(left = state.tasks.len(), "work on Slack clicks still running after the grace period; stopping anyway");
    }
    tracing::info!("requests finished; letting the messages in flight to Slack finish");
    let _ = stop_worker.send(true);
    let _ = worker.await;
    state.store.close().await;
    drop(claim);
    tracing::info!("herald stopped");
    Ok(())
}

/// Accepts connections until `shutdown`, each served by hyper with the
/// settings' header-read timeout, at most `max_connections` at once (the
/// rest wait in the listen queue); then lets requests in flight finish
/// within [`SHUTDOWN_GRACE`].
async fn serve(listener: TcpListener, router: axum::Router, settings: &Settings, shutdown: impl Future<Output = ()>) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(settings.max_connections));
    let mut full_since_warned = false;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        if slots.available_permits() == 0 && !full_since_warned {
            tracing::warn!(max = settings.max_connections, "every connection slot is taken; new connections wait (HERALD_MAX_CONNECTIONS)");
            full_since_warned = true;
        }
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pass, then go on.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if slots.available_permits() > 0 {
            full_since_warned = false;
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running after the grace period; stopping anyway");
        }
    }
}

/// How long requests in flight may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);
