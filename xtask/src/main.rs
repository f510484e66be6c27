//! `cargo xtask <command>`: Herald's developer commands, in Rust so a fresh
//! machine needs nothing but cargo.
//!
//! - `build`: the web app into `dist/`, then the server in release mode
//! - `serve [herald flags…]`: build, then run Herald on SQLite under `data/`
//! - `test`: every test, installing what the tests need first
//! - `bench`: the benchmarks, Herald beside Prometheus Alertmanager

mod dist;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = std::env::set_current_dir(workspace_root()).context("entering the workspace folder").and_then(|()| match command {
        "build" => build(),
        "build-app" => dist::build_app().map(|_| ()),
        "serve" => serve(rest),
        "test" => test(rest),
        "bench" => bench(),
        "help" | "--help" | "-h" => {
            println!("{}", USAGE);
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown command {other:?}\n\n{USAGE}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <command>

  build             build the web app into dist/, then the server (release)
  build-app         build only the web app into dist/
  serve [FLAGS…]    build, then run Herald (FLAGS go to `herald`, e.g. --bind 0.0.0.0:8080)
  test [ARGS…]      run every test, installing what they need (ARGS go to cargo test)
  bench             run the benchmarks and print a table";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn build() -> anyhow::Result<()> {
    dist::build_app()?;
    cargo(&["build", "--release", "--package", "herald-server", "--bin", "herald"])
}

fn serve(herald_args: &[String]) -> anyhow::Result<()> {
    build()?;
    let herald = Path::new("target/release/herald");
    println!("Starting Herald; stop it with Ctrl-C.");
    let status = Command::new(herald).args(herald_args).status().with_context(|| format!("running {}", herald.display()))?;
    // Ctrl-C reaches Herald too; its clean exit is not an xtask failure.
    if !status.success() && status.code().is_some() {
        bail!("herald exited with {status}");
    }
    Ok(())
}

/// The packages tested on the host. The web app is not among them: built for
/// the host with the server's features merged in, Leptos would be a different
/// program; it is built for wasm32 and tested through the browser instead.
const HOST_PACKAGES: &[&str] = &["herald-model", "herald-server", "herald-tests", "xtask"];

fn test(cargo_test_args: &[String]) -> anyhow::Result<()> {
    lint()?;
    let browser = setup::browser()?;
    setup::yaml_1_1_reader()?;
    let dist = dist::build_app()?;
    let postgres = setup::postgres(false)?;
    // The replica tests run the binary itself, as operators do.
    cargo(&["build", "--package", "herald-server", "--bin", "herald"])?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let binary = target_dir.join("debug/herald");
    let mut args: Vec<String> = vec!["test".into()];
    for package in HOST_PACKAGES {
        args.extend(["--package".into(), (*package).into()]);
    }
    args.extend(cargo_test_args.iter().cloned());
    let run = |args: &[String], backend: &str| {
        Command::new(cargo_bin())
            .args(args)
            .env("HERALD_TEST_DIST_DIR", &dist)
            .env("HERALD_TEST_CHROMIUM", &browser.chromium)
            .env("HERALD_TEST_CHROMEDRIVER", &browser.chromedriver)
            .env("HERALD_TEST_DATABASE_URL", &postgres.url)
            .env("HERALD_TEST_BACKEND", backend)
            .env("HERALD_TEST_BINARY", &binary)
            .status()
            .context("running cargo test")
    };
    // Everything, the end-to-end tests on SQLite (the store's contract
    // runs on both backends here); then the end-to-end tests again, with
    // Herald on PostgreSQL. Both run, whatever the first gives.
    let all = run(&args, "sqlite")?;
    println!("\nThe end-to-end tests again, with Herald on PostgreSQL:");
    let mut end_to_end: Vec<String> = vec!["test".into(), "--package".into(), "herald-tests".into()];
    end_to_end.extend(cargo_test_args.iter().cloned());
    // The replica and migrate-db tests choose their databases: once is enough.
    if !end_to_end.iter().any(|a| a == "--") {
        end_to_end.push("--".into());
    }
    end_to_end.extend(["--skip".into(), "two_replicas".into(), "--skip".into(), "migrate_db".into()]);
    let on_postgres = run(&end_to_end, "postgres")?;
    drop(postgres);
    match (all.success(), on_postgres.success()) {
        (true, true) => Ok(()),
        (false, true) => bail!("tests failed ({all})"),
        (true, false) => bail!("the end-to-end tests failed on PostgreSQL ({on_postgres}); they passed on SQLite"),
        (false, false) => bail!("tests failed ({all}), and the end-to-end tests on PostgreSQL too ({on_postgres})"),
    }
}

/// The formatting (rustfmt.toml), then clippy with every warning an error,
/// on the host packages and on the app for the browser (wasm32).
fn lint() -> anyhow::Result<()> {
    setup::component("rustfmt", "fmt")?;
    setup::component("clippy", "clippy")?;
    let status = Command::new(cargo_bin()).args(["fmt", "--all", "--check"]).status().context("running cargo fmt")?;
    if !status.success() {
        bail!("the code is not formatted as rustfmt.toml says: run `cargo fmt --all`, then look at the diff");
    }
    let mut args: Vec<String> = vec!["clippy".into(), "--all-targets".into()];
    for package in HOST_PACKAGES {
        args.extend(["--package".into(), (*package).into()]);
    }
    args.extend(["--".into(), "-D".into(), "warnings".into()]);
    let status = Command::new(cargo_bin()).args(&args).status().context("running cargo clippy")?;
    if !status.success() {
        bail!("clippy found something (above): fix it, or say in the code why a lint does not apply");
    }
    setup::wasm_target()?;
    let app = ["clippy", "--target", "wasm32-unknown-unknown", "--package", "herald-app", "--", "-D", "warnings"];
    let status = Command::new(cargo_bin()).args(app).status().context("running cargo clippy on the app")?;
    if !status.success() {
        bail!("clippy found something in the app (above): fix it, or say in the code why a lint does not apply");
    }
    Ok(())
}

/// Builds the web app, the release server and the benchmark driver, then
/// runs the driver against the server, Alertmanager (installed when
/// missing, if we may) and the fake Slack; it prints the tables (the
/// console's size among the rows).
fn bench() -> anyhow::Result<()> {
    let dist = dist::build_app()?;
    let status = Command::new(cargo_bin())
        .args(["build", "--release", "--package", "herald-server", "--bin", "herald", "--package", "herald-tests", "--bin", "herald-bench"])
        .status()
        .context("building the benchmark")?;
    if !status.success() {
        bail!("building the benchmark failed ({status})");
    }
    setup::alertmanager()?;
    // Durable, as in production.
    let postgres = setup::postgres(true)?;
    let target = workspace_root().join("target/release");
    let status = Command::new(target.join("herald-bench"))
        .arg(target.join("herald"))
        .arg(&dist)
        .env("HERALD_TEST_DATABASE_URL", &postgres.url)
        .status()
        .context("running the benchmark")?;
    drop(postgres);
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    cargo_with(args, &[])
}

fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<()> {
    let status = Command::new(cargo_bin())
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}
