//! The `herald` binary as an operator runs it: settings from the
//! environment, first start in an empty folder, SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn herald(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command.current_dir(dir).env("NO_COLOR", "1");
    // The developer's own settings must not leak into these runs.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HERALD_") {
            command.env_remove(name);
        }
    }
    command
}

#[test]
fn a_bad_environment_variable_is_refused_with_its_name_and_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("HERALD_BIND", "localhost"),
        ("HERALD_PUBLIC_URL", "herald.example.com"),
        ("HERALD_DATABASE_URL", "mysql://db/herald"),
        ("HERALD_SLACK_API_URL", "slack"),
        ("HERALD_SLACK_AUTHORIZE_URL", "slack"),
        ("HERALD_LOG", "herald=loud"),
    ] {
        let out = herald(dir.path()).env(var, value).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(stderr.contains(var), "{var}={value}: {stderr}");
        if var != "HERALD_DATABASE_URL" {
            assert!(stderr.contains(value), "{var}={value}: {stderr}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a refused start writes nothing");
}

/// A PostgreSQL server that does not answer stops the start with a
/// sentence naming where it was looked for, and never the password.
#[test]
fn an_unreachable_postgres_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://herald:hunter2@127.0.0.1:{port}/herald");
    let out = herald(dir.path()).env("HERALD_DATABASE_URL", &url).env("HERALD_BIND", "127.0.0.1:0").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("connecting to PostgreSQL at 127.0.0.1:{port}/herald")), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password is never printed: {stderr}");
}

/// Reads stderr lines on a thread so the test can wait with a deadline.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no log line with {needle:?}; saw:\n{}", seen.join("\n"));
}

/// Starts `herald` in `dir` on a free port; returns it and its log lines.
fn serve(dir: &std::path::Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = herald(dir).env("HERALD_BIND", "127.0.0.1:0").stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let lines = stderr_lines(&mut child);
    (child, lines)
}

#[test]
fn the_first_start_creates_data_and_sigterm_stops_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = serve(dir.path());
    let listening = wait_for_line(&lines, "herald is listening");
    assert!(listening.contains("127.0.0.1:"), "{listening}");

    let data = dir.path().join("data");
    assert!(data.join("herald.db").is_file());
    let key = std::fs::read_to_string(data.join("secret.key")).unwrap();
    assert_eq!(key.trim().len(), 64);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    wait_for_line(&lines, "herald stopped");
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_first_start_says_how_to_create_the_first_admin_and_the_command_does_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines) = serve(dir.path());
    let hint = wait_for_line(&lines, "no users yet");
    assert!(hint.contains("herald user create --email you@example.com --role admin"), "{hint}");
    assert!(hint.contains("HERALD_ADMIN_EMAIL") && hint.contains("HERALD_ADMIN_PASSWORD_FILE"), "{hint}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();

    std::fs::write(dir.path().join("pw"), "a long enough password\n").unwrap();
    let create = |email: &str| {
        herald(dir.path()).args(["user", "create", "--email", email, "--role", "admin", "--password-file", "pw"]).output().unwrap()
    };
    let out = create("ana@acme.example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Created admin ana@acme.example (ana)"), "{stdout}");
    assert!(stdout.contains("http://127.0.0.1:8080/sign-in"), "{stdout}");

    let again = create("ANA@acme.example");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"), "{}", String::from_utf8_lossy(&again.stderr));

    std::fs::write(dir.path().join("pw"), "short\n").unwrap();
    let weak = create("raj@acme.example");
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password: Use at least 12 characters"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );
}

#[test]
fn half_of_the_unattended_admin_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = herald(dir.path()).env("HERALD_BIND", "127.0.0.1:0").env("HERALD_ADMIN_EMAIL", "ana@acme.example").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HERALD_ADMIN_EMAIL needs HERALD_ADMIN_PASSWORD_FILE"));
}

#[test]
fn the_manifest_command_prints_a_manifest_for_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        herald(dir.path()).args(["manifest", "--public-url", "https://herald.acme.example", "--name", "Acme Alerts"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(yaml.contains("name: \"Acme Alerts\""), "{yaml}");
    assert!(yaml.contains("display_name: \"acme-alerts\""), "{yaml}");
    assert!(yaml.contains("- \"https://herald.acme.example/slack/oauth/callback\""), "{yaml}");
    assert!(String::from_utf8_lossy(&out.stderr).is_empty(), "no warning for an https URL");

    // A name Slack would not take is changed, and the change is said.
    let out = herald(dir.path())
        .args(["manifest", "--public-url", "https://herald.acme.example", "--name", &"Acme ".repeat(10)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at most 35 characters"), "{stderr}");
    let out = herald(dir.path()).args(["manifest", "--public-url", "https://herald.acme.example", "--name", "yes"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("name: \"yes\""), "a YAML 1.1 reader keeps it a name");

    let out = herald(dir.path()).args(["manifest", "--format", "json", "--enterprise-grid"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["settings"]["org_deploy_enabled"], true);
    assert_eq!(json["settings"]["interactivity"]["request_url"], "http://127.0.0.1:8080/slack/interactivity");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Slack only calls https URLs"));

    // Socket Mode: no Request URLs, and an internal http URL is no problem.
    let out = herald(dir.path())
        .args(["manifest", "--format", "json", "--socket-mode", "--public-url", "http://herald.internal"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["settings"]["socket_mode_enabled"], true);
    assert_eq!(json["settings"]["interactivity"], serde_json::json!({"is_enabled": true}));
    assert!(json["settings"]["event_subscriptions"].get("request_url").is_none());
    assert_eq!(json["oauth_config"]["redirect_urls"][0], "http://herald.internal/slack/oauth/callback");
    assert!(String::from_utf8_lossy(&out.stderr).is_empty(), "no https warning in Socket Mode");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "printing a manifest touches no data");
}
