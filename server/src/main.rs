//! The `herald` binary: parses settings, sets up logging, and serves until
//! SIGINT or SIGTERM.

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
            tracing::error!("{err:#}");
            eprintln!("herald: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &Settings) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(settings.log.clone())
        .init();
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind).await.map_err(|err| {
        anyhow::anyhow!("cannot listen on {} (HERALD_BIND or --bind): {err}", settings.bind)
    })?;
    herald_server::run(listener, settings, shutdown_signal()).await
}

/// Completes on Ctrl-C or SIGTERM; the server then stops taking requests and
/// finishes the ones in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
