//! The `herald` binary: parses settings, sets up logging, and serves until
//! SIGINT or SIGTERM.

use std::future::Future;
use std::process::ExitCode;

use clap::Parser as _;
use herald_model::account::{NewUser, Role};
use herald_server::settings::{Cli, Command, Settings, UserCommand};
use tokio::net::TcpListener;

/// mimalloc: each thread allocates from a heap of its own. glibc's arenas
/// are shared under a lock and merge their free lists as they go, which
/// took a quarter of the sender's time in a burst (`perf`); mimalloc
/// delivered 10–20% more messages a second, each for less CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Options, by their place in mimalloc.h's `mi_option_e` (mimalloc 3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ARENA_MAX_OBJECT_SIZE: libmimalloc_sys::mi_option_t = 45;

fn main() -> ExitCode {
    tune_allocator();
    // A runtime thread per core (`TOKIO_WORKER_THREADS` decides when set):
    // with mimalloc, two on two cores delivered a burst 17% faster than
    // one, for 3% more CPU a message (ten alternating pairs).
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("starting the async runtime").block_on(run())
}

/// Freed pages go back to the system 5 ms after they were last used, not
/// mimalloc's 10: a burst's peak stayed about 15 MB lower for the same
/// rate. Blocks of 1 MiB and more are the system's own, returned when
/// freed: a password hash's 19 MiB are not kept.
fn tune_allocator() {
    // SAFETY: sets two of mimalloc's tunables, before any other thread
    // exists; no allocation depends on them.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 5);
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_MAX_OBJECT_SIZE, 1024);
    }
}

async fn run() -> ExitCode {
    // Bad settings end here, with clap's message naming the variable.
    let cli = Cli::parse();
    init_logging(&cli.settings);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await,
        Command::User(UserCommand::Create { email, role, name, password_file }) => {
            create_user(&cli.settings, email, role, name, password_file).await
        }
        Command::MigrateDb { from, to } => migrate_db(&from, &to).await,
        Command::Manifest { name, format, enterprise_grid, socket_mode, user_groups } => {
            let public_url = cli.settings.public_url_or(cli.settings.bind);
            let options = herald_model::manifest::ManifestOptions {
                public_url: public_url.to_string(),
                app_name: name,
                enterprise_grid,
                socket_mode,
                user_groups,
            };
            let manifest = herald_server::slack::manifest::manifest_text(&options, format);
            if let Some(warning) = &manifest.warning {
                eprintln!("herald: {warning}");
            }
            print!("{}", manifest.text);
            Ok(())
        }
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
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())))
        .with(settings.log.clone())
        .init();
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {} (HERALD_BIND or --bind): {err}", settings.bind))?;
    let shutdown = shutdown_signal().map_err(|err| anyhow::anyhow!("cannot listen for SIGINT/SIGTERM: {err}"))?;
    herald_server::run(listener, settings, shutdown).await
}

/// `herald migrate-db`: SQLite to PostgreSQL, counted on both sides.
async fn migrate_db(from: &herald_server::settings::DatabaseUrl, to: &herald_server::settings::DatabaseUrl) -> anyhow::Result<()> {
    use herald_server::settings::DatabaseUrl;
    let (DatabaseUrl::Sqlite(from), DatabaseUrl::Postgres(to)) = (from, to) else {
        anyhow::bail!("herald migrate-db copies a SQLite database into PostgreSQL: --from sqlite://… --to postgres://…");
    };
    // The source must not change under the copy.
    let _claim = herald_server::store::claim_for_server(&DatabaseUrl::Sqlite(from.clone()))
        .map_err(|e| anyhow::anyhow!("--from: stop the Herald server using it first ({e:#})"))?;
    let copied = herald_server::store::copy::sqlite_to_postgres(from, to).await?;
    println!("Copied, and counted the same on both sides:");
    for (table, rows) in &copied {
        println!("  {table:<15} {rows:>9}");
    }
    println!("Start Herald with HERALD_DATABASE_URL set to the PostgreSQL database and the same HERALD_SECRET_KEY_FILE.");
    Ok(())
}

/// `herald user create`: the way to the first admin, and a way to add users
/// without the web app.
async fn create_user(
    settings: &Settings,
    email: String,
    role: Role,
    name: Option<String>,
    password_file: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let password = match password_file {
        Some(path) => herald_server::domain::accounts::read_password_file(&path, "--password-file")?,
        None => {
            let first = rpassword::prompt_password(format!("Password for {email}: "))?;
            let again = rpassword::prompt_password("The same password again: ")?;
            anyhow::ensure!(first == again, "the two passwords differ; nothing was created");
            first
        }
    };
    let store = herald_server::store::open(&settings.database).await?;
    let display_name = name.unwrap_or_else(|| herald_server::domain::accounts::default_display_name(&email));
    let created = herald_server::domain::accounts::create_user(store.as_ref(), NewUser { email, display_name, role, password }).await;
    store.close().await;
    let user = created?;
    println!(
        "Created {} {} ({}). They sign in at {}sign-in",
        user.role.label().to_lowercase(),
        user.email,
        user.display_name,
        settings.public_url_or(settings.bind)
    );
    Ok(())
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
