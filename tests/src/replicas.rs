//! Herald replicas as their own processes: the real `herald` binary,
//! spawned as a child, on one scratch PostgreSQL database with one key
//! file, talking to one fake Slack. The tests that kill a replica kill a
//! real process (`SIGKILL`), or stop it as an orchestrator does (`SIGTERM`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use herald_server::store::postgres::scratch;
use serde_json::Value;
use tempfile::TempDir;

use crate::herald::{ADMIN_EMAIL, ADMIN_PASSWORD, Session, dist_dir};
use crate::{FakeSlack, database, poll};

/// The `herald` binary: `HERALD_TEST_BINARY` (set by `cargo xtask test`,
/// which builds it first), else the one beside the test executables.
pub fn herald_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HERALD_TEST_BINARY") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let beside = exe.parent().and_then(|deps| deps.parent()).map(|dir| dir.join("herald")).filter(|p| p.is_file());
    beside.expect("the herald binary: build it with `cargo build -p herald-server --bin herald` (cargo xtask test does)")
}

/// What every replica of a deployment shares: the database, the key file,
/// Slack, the first admin.
pub struct Deployment {
    pub slack: FakeSlack,
    pub database: scratch::Database,
    dir: TempDir,
    /// Flags every replica starts with (`--bind` aside).
    flags: Vec<String>,
}

impl Deployment {
    /// A new database, key file and fake Slack; `extra` flags go to every
    /// replica (e.g. `--slack-pacing=off`).
    pub async fn new(extra: &[&str]) -> Deployment {
        crate::init_logging();
        let slack = FakeSlack::start().await;
        let database = database::scratch_postgres().await;
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("admin-password");
        std::fs::write(&password, format!("{ADMIN_PASSWORD}\n")).unwrap();
        let mut flags = vec![
            format!("--database-url={}", database.url),
            format!("--secret-key-file={}", dir.path().join("secret.key").display()),
            format!("--slack-api-url={}", slack.api_url()),
            format!("--slack-authorize-url={}", slack.authorize_url()),
            format!("--dist-dir={}", dist_dir().display()),
            format!("--admin-email={ADMIN_EMAIL}"),
            format!("--admin-password-file={}", password.display()),
        ];
        flags.extend(extra.iter().map(|f| (*f).to_owned()));
        Deployment { slack, database, dir, flags }
    }

    /// Starts replica `name` and waits until it answers `/healthz`.
    pub async fn start(&self, name: &str) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log_path = self.dir.path().join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut command = Command::new(herald_binary());
        command.args(&self.flags).arg(format!("--bind=127.0.0.1:{port}")).env("NO_COLOR", "1");
        // The developer's own settings must not leak in.
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("HERALD_") {
                command.env_remove(var);
            }
        }
        let child = command.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log).spawn().expect("starting herald");
        let replica = Replica {
            name: name.to_owned(),
            child: Some(child),
            base_url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(5)).build().unwrap(),
            log_path,
        };
        poll::until_within(Duration::from_secs(30), &format!("replica {name} to answer /healthz"), || async {
            match replica.health().await {
                Some(_) => Ok(()),
                None => Err(replica.log()),
            }
        })
        .await;
        replica
    }
}

/// One `herald` process.
pub struct Replica {
    pub name: String,
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    pub http: reqwest::Client,
    log_path: PathBuf,
}

impl Replica {
    /// `/healthz`, or `None` when it does not answer 200.
    pub async fn health(&self) -> Option<Value> {
        let response = self.http.get(format!("{}/healthz", self.base_url)).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().await.ok()
    }

    /// Whether it says it is the replica delivering.
    pub async fn delivering(&self) -> bool {
        self.health().await.is_some_and(|h| h["delivering"] == true)
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `kill -9`: the process ends at once, finishing nothing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("the killed replica to end");
        }
    }

    /// SIGTERM, as an orchestrator stops a replica in a rolling restart;
    /// waits until it exits, and says whether it exited cleanly.
    pub async fn terminate(&mut self) -> bool {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("running kill");
        assert!(sent.success(), "kill -TERM {}", child.id());
        let status = poll::until_within(Duration::from_secs(60), &format!("replica {} to stop", self.name), || {
            let exited = child.try_wait().expect("waiting for the replica");
            async move { exited.ok_or("still running") }
        })
        .await;
        status.success()
    }

    /// Signs the admin in on this replica.
    pub async fn sign_in_as_admin(&self) -> Session {
        let response = self
            .http
            .post(format!("{}/api/session", self.base_url))
            .header("X-Requested-With", "Herald")
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("POST /api/session");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "signing in on replica {}", self.name);
        Session::from_response_at(&self.base_url, &self.http, &response)
    }

    /// `POST /api/alerts` on this replica.
    pub async fn send_alerts(&self, api_token: &str, body: &Value) -> reqwest::Response {
        self.http.post(format!("{}/api/alerts", self.base_url)).bearer_auth(api_token).json(body).send().await.expect("POST /api/alerts")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}
