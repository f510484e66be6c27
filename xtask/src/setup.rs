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
