//! Installs what the tests need, or says exactly how to.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// rust-toolchain.toml names the wasm32 target, but rustup adds it only when
/// it installs the toolchain: a toolchain that was already there (set up
/// before, a CI image, installed another way) lacks it, and the wasm build
/// then fails with "can't find crate for core". Every command that builds
/// the app calls this first.
pub fn wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == "wasm32-unknown-unknown") => Ok(()),
        Ok(_) => {
            println!("Adding the wasm32-unknown-unknown target to the pinned toolchain (rustup target add)…");
            run("rustup", &["target", "add", "wasm32-unknown-unknown"])
        }
        Err(_) => {
            // No rustup: the build will tell whether the target is there.
            Ok(())
        }
    }
}

/// The standard library's source (rustup's `rust-src` component), which
/// the app's build compiles for its own size (see `dist.rs`); added when
/// missing, like the target. `false`: rustup cannot say or add it, and the
/// build uses the prebuilt standard library instead.
pub fn rust_src() -> bool {
    let installed = Command::new("rustup").args(["component", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim().starts_with("rust-src")) => true,
        Ok(_) => {
            println!("Adding the standard library's source to the pinned toolchain (rustup component add rust-src)…");
            run("rustup", &["component", "add", "rust-src"]).is_ok()
        }
        Err(_) => false,
    }
}

/// A component of the pinned toolchain the tests need, with the cargo
/// subcommand it brings (`rustfmt`: `cargo fmt`; `clippy`: `cargo
/// clippy`): added with rustup when cargo lacks it, or the command to add
/// it is said.
pub fn component(name: &str, subcommand: &str) -> anyhow::Result<()> {
    let works = || Command::new(crate::cargo_bin()).args([subcommand, "--version"]).output().is_ok_and(|o| o.status.success());
    if works() {
        return Ok(());
    }
    println!("Adding {name} to the pinned toolchain (rustup component add {name})…");
    if run("rustup", &["component", "add", name]).is_ok() && works() {
        return Ok(());
    }
    bail!("the tests check the code with {name}, which the pinned toolchain lacks: run `rustup component add {name}` in this folder")
}

/// The manifest test reads the YAML as a YAML 1.1 parser would (Python's
/// PyYAML): installs Debian's python3-yaml when it is missing and we are
/// root, else says how.
pub fn yaml_1_1_reader() -> anyhow::Result<()> {
    let has = || Command::new("python3").args(["-c", "import yaml"]).output().is_ok_and(|o| o.status.success());
    if has() {
        return Ok(());
    }
    if apt_install("python3-yaml for the manifest's YAML 1.1 test", &["python3", "python3-yaml"])? && has() {
        return Ok(());
    }
    bail!(
        "the manifest test reads the YAML as a YAML 1.1 parser does, with Python's PyYAML.\n\
         On Debian or Ubuntu: sudo apt-get install python3-yaml\n\
         Elsewhere: pip install pyyaml"
    )
}

/// The benchmark's peer, Prometheus Alertmanager: installs Debian's
/// package when it is missing and we are root; `false` (having said how to
/// get it) when it stays missing, and the benchmark leaves its column empty.
pub fn alertmanager() -> anyhow::Result<bool> {
    let has = || Path::new("/usr/bin/prometheus-alertmanager").is_file() || Path::new("/usr/local/bin/alertmanager").is_file();
    if has() || (apt_install("Prometheus Alertmanager, the benchmark's peer", &["prometheus-alertmanager"])? && has()) {
        return Ok(true);
    }
    println!(
        "The benchmark compares Herald with Prometheus Alertmanager, which is not installed: its figures are left out.\n\
         On Debian or Ubuntu: sudo apt-get install prometheus-alertmanager (or put an `alertmanager` binary in /usr/local/bin)."
    );
    Ok(false)
}

/// Installs Debian packages when we are root on a machine with apt-get;
/// `false` when we cannot (the caller then says how).
fn apt_install(what: &str, packages: &[&str]) -> anyhow::Result<bool> {
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    if !is_root || !Path::new("/usr/bin/apt-get").exists() {
        return Ok(false);
    }
    println!("Installing {what} (apt-get)…");
    run("apt-get", &["update", "-qq"])?;
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", packages.join(" "));
    }
    Ok(true)
}

pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Finds Chromium and ChromeDriver, installing Debian's packages when they
/// are missing and we are root.
pub fn browser() -> anyhow::Result<Browser> {
    if let Some(found) = find_browser() {
        return Ok(found);
    }
    if apt_install("Chromium and ChromeDriver for the browser tests", &["chromium", "chromium-driver"])?
        && let Some(found) = find_browser()
    {
        return Ok(found);
    }
    bail!(
        "the browser tests need Chromium and ChromeDriver of the same version.\n\
         On Debian or Ubuntu: sudo apt-get install chromium chromium-driver\n\
         Elsewhere: install both, then set HERALD_TEST_CHROMIUM and HERALD_TEST_CHROMEDRIVER to their paths."
    )
}

fn find_browser() -> Option<Browser> {
    let pick = |var: &str, candidates: &[&str]| -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(var) {
            return Some(PathBuf::from(path));
        }
        candidates.iter().map(PathBuf::from).find(|p| p.is_file())
    };
    Some(Browser {
        chromium: pick("HERALD_TEST_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"])?,
        chromedriver: pick("HERALD_TEST_CHROMEDRIVER", &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])?,
    })
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(program).args(args).status().with_context(|| format!("running {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// A throwaway PostgreSQL for one test run: its own cluster in a temporary
/// folder, on a free loopback port, stopped and removed when dropped (the
/// tests failing included). `HERALD_TEST_DATABASE_URL` names an existing
/// server instead, and then nothing is started.
pub struct Postgres {
    /// `postgres://herald@127.0.0.1:<port>/postgres`: the tests make a
    /// database of their own in it.
    pub url: String,
    cluster: Option<Cluster>,
}

struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    /// The unprivileged account it runs as, when we are root (initdb
    /// refuses to run as root).
    run_as: Option<&'static str>,
    /// The server, in the foreground of this process group: Ctrl-C stops
    /// it with the tests.
    server: Option<std::process::Child>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let Some(mut cluster) = self.cluster.take() else { return };
        if let Some(mut server) = cluster.server.take() {
            let data = cluster.dir.join("data");
            let pg_ctl = cluster.bin.join("pg_ctl");
            let stopped = cluster
                .command(&pg_ctl, &["stop", "--silent", "--wait", "--mode", "immediate", "-D", &data.to_string_lossy()])
                .status()
                .is_ok_and(|s| s.success());
            if !stopped {
                let _ = server.kill();
            }
            let _ = server.wait();
        }
        let _ = std::fs::remove_dir_all(&cluster.dir);
    }
}

impl Cluster {
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        // The unprivileged account may not enter the current folder.
        command.args(args).current_dir("/");
        command
    }
}

/// `durable`: commits wait for the disk, as in production (the benchmark);
/// otherwise not, as the tests do not test durability.
pub fn postgres(durable: bool) -> anyhow::Result<Postgres> {
    if let Ok(url) = std::env::var("HERALD_TEST_DATABASE_URL") {
        println!("Testing PostgreSQL on the server HERALD_TEST_DATABASE_URL names.");
        return Ok(Postgres { url, cluster: None });
    }
    let bin = match postgres_bin() {
        Some(bin) => bin,
        None if apt_install("PostgreSQL for the PostgreSQL tests", &["postgresql"])? => postgres_bin().context(
            "apt-get installed postgresql, yet initdb, pg_ctl, postgres and pg_isready were not found under /usr/lib/postgresql",
        )?,
        None => bail!(
            "the tests run Herald on PostgreSQL too, and start a throwaway server for it: they need PostgreSQL's initdb, pg_ctl, postgres and pg_isready.\n\
             On Debian or Ubuntu: sudo apt-get install postgresql\n\
             Elsewhere: install PostgreSQL and put its bin folder on PATH, or point the tests at a server you run:\n\
             HERALD_TEST_DATABASE_URL=postgres://user:password@host:port/postgres (a user that may create databases)"
        ),
    };
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    let run_as = is_root.then_some("postgres");
    let dir = std::env::temp_dir().join(format!("herald-test-postgres-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(user) = run_as {
        run("chown", &[user, &dir.to_string_lossy()]).with_context(|| format!("giving {} to the {user} account", dir.display()))?;
    }
    // From here on, dropping the guard removes what was made.
    let mut postgres = Postgres { url: String::new(), cluster: Some(Cluster { bin, dir, run_as, server: None }) };
    let cluster = postgres.cluster.as_mut().expect("just made");
    let data = cluster.dir.join("data").to_string_lossy().into_owned();
    let dir = cluster.dir.to_string_lossy().into_owned();
    let started = std::time::Instant::now();
    let initdb = cluster.bin.join("initdb");
    let out = cluster
        .command(
            &initdb,
            &["--pgdata", &data, "--username", "herald", "--auth", "trust", "--encoding", "UTF8", "--no-sync", "--no-instructions"],
        )
        .output()
        .context("running initdb")?;
    if !out.status.success() {
        bail!("initdb failed ({}):\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).context("finding a free port")?.port();
    let log_path = cluster.dir.join("server.log");
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    // A small footprint, and room for the connection pools of tests
    // running side by side.
    let port_setting = format!("port={port}");
    let sockets = format!("unix_socket_directories={dir}");
    let mut args = vec!["-D", &data, "-c", &port_setting, "-c", "listen_addresses=127.0.0.1", "-c", &sockets];
    for setting in ["max_connections=300", "shared_buffers=128MB"] {
        args.extend(["-c", setting]);
    }
    if !durable {
        for setting in ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] {
            args.extend(["-c", setting]);
        }
    }
    let server = cluster
        .command(&cluster.bin.join("postgres"), &args)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting postgres")?;
    cluster.server = Some(server);
    let ready = cluster.bin.join("pg_isready");
    let port = port.to_string();
    loop {
        let answers = Command::new(&ready).args(["--quiet", "--host", "127.0.0.1", "--port", &port]).status().is_ok_and(|s| s.success());
        if answers {
            break;
        }
        let exited = cluster.server.as_mut().and_then(|s| s.try_wait().ok().flatten());
        if exited.is_some() || started.elapsed() > std::time::Duration::from_secs(30) {
            let server_log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("PostgreSQL did not start (its log follows):\n{server_log}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    postgres.url = format!("postgres://herald@127.0.0.1:{port}/postgres");
    println!(
        "Started a throwaway PostgreSQL on 127.0.0.1:{port} in {:.1} s (stopped when the tests end).",
        started.elapsed().as_secs_f64()
    );
    Ok(postgres)
}

/// PostgreSQL's programs: Debian keeps them under /usr/lib/postgresql/<n>/bin
/// (the newest is taken), elsewhere they are on PATH.
fn postgres_bin() -> Option<PathBuf> {
    let has_tools = |dir: &Path| ["initdb", "pg_ctl", "postgres", "pg_isready"].iter().all(|tool| dir.join(tool).is_file());
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| has_tools(bin))
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).find(|dir| has_tools(dir)))
}
