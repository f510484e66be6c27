//! The `herald` binary: parses settings, sets up logging, and serves until
//! SIGINT or SIGTERM.

use std::future::Future;
use std::process::ExitCode;

use clap::Parser as _;
use herald_server::settings::{Cli, Command, Settings};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    // Bad settings end here, with clap's message naming the variable.
    let cli = Cli::parse();
    init_logging(&cli.settings);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "herald stopped on an error");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &Settings) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(settings.log.clone())
        .init();
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind).await.map_err(|err| {
        anyhow::anyhow!("cannot listen on {} (HERALD_BIND or --bind): {err}", settings.bind)
    })?;
    let shutdown = shutdown_signal().map_err(|err| anyhow::anyhow!("cannot listen for SIGINT/SIGTERM: {err}"))?;
    herald_server::run(listener, settings, shutdown).await
}

/// Completes on Ctrl-C or SIGTERM; the server then stops taking requests and
/// finishes the ones in flight. The handlers are installed here, before the
/// server starts, so a signal that comes early still stops it cleanly.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
}
