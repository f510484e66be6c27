//! Starts the real Herald server (the same `run` the binary calls) on port 0,
//! with the secret key (and SQLite) in a fresh temporary folder, or on a
//! scratch PostgreSQL database when the run tests PostgreSQL, and the Slack
//! URLs pointing at a fake Slack.

use std::path::PathBuf;

use herald_model::destination::SlackBotForm;
use herald_server::settings::{DatabaseUrl, Settings};
use herald_server::store::postgres::scratch;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::database::{self, Backend, Database};
use crate::fake_slack::FakeSlack;
use crate::poll;

/// The admin every test server starts with (through HERALD_ADMIN_EMAIL and
/// HERALD_ADMIN_PASSWORD_FILE, as an unattended install would).
pub const ADMIN_EMAIL: &str = "admin@acme.example";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct Herald {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    /// Holds the database and the key; removed when the test ends.
    pub data_dir: TempDir,
    pub http: reqwest::Client,
    settings: Settings,
    /// The PostgreSQL database it runs on, when the run tests PostgreSQL.
    scratch: Option<std::sync::Arc<scratch::Database>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Herald {
    /// Herald with default settings, talking to `slack`.
    pub async fn start(slack: &FakeSlack) -> Herald {
        Self::start_with(slack, |_| {}).await
    }

    /// Herald with settings adjusted by `adjust` before it starts.
    pub async fn start_with(slack: &FakeSlack, adjust: impl FnOnce(&mut Settings)) -> Herald {
        crate::init_logging();
        let data_dir = tempfile::tempdir().expect("a temporary folder");
        let mut settings = settings_for(&data_dir, slack);
        let scratch = match database::backend() {
            Backend::Sqlite => None,
            Backend::Postgres => Some(std::sync::Arc::new(database::scratch_postgres().await)),
        };
        if let Some(scratch) = &scratch {
            settings.database = DatabaseUrl::Postgres(scratch.url.clone());
        }
        adjust(&mut settings);
        Self::start_in(data_dir, scratch, settings).await
    }

    /// Another Herald on the same database and key, as a second replica
    /// would be (its own address); PostgreSQL only.
    pub async fn replica(&self) -> Herald {
        assert_eq!(database::backend(), Backend::Postgres, "replicas share a PostgreSQL database");
        let mut settings = self.settings.clone();
        settings.bind = "127.0.0.1:0".parse().unwrap();
        Self::start_in(tempfile::tempdir().unwrap(), self.scratch.clone(), settings).await
    }

    async fn start_in(data_dir: TempDir, scratch: Option<std::sync::Arc<scratch::Database>>, settings: Settings) -> Herald {
        // Bound before the server task starts, so requests queue instead of failing.
        let listener = TcpListener::bind(settings.bind).await.expect("binding a loopback port");
        let mut settings = settings;
        settings.bind = listener.local_addr().unwrap();
        let base_url = format!("http://{}", settings.bind);
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(herald_server::run(listener, settings.clone(), async {
            let _ = rx.await;
        }));
        let herald = Herald { base_url, data_dir, http: client(), settings, scratch, shutdown: Some(tx), server: Some(server) };
        herald.wait_until_healthy().await;
        herald
    }

    /// Stops the server as SIGTERM does, keeping its address and data for [`Herald::resume`].
    pub async fn pause(&mut self) {
        self.shutdown_and_wait().await.expect("a clean stop");
    }

    /// Starts a paused server again on the same address with the same data.
    pub async fn resume(&mut self) {
        assert!(self.server.is_none(), "resume after pause");
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().unwrap());
        let fresh = Self::start_in(data_dir, self.scratch.take(), self.settings.clone()).await;
        *self = fresh;
    }

    async fn shutdown_and_wait(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("the server task"),
            None => Ok(()),
        }
    }

    async fn wait_until_healthy(&self) {
        let url = self.url("/healthz");
        poll::until("Herald to answer /healthz", || async {
            if self.server.as_ref().is_some_and(|s| s.is_finished()) {
                panic!("Herald stopped during start-up (its log is above)");
            }
            match self.http.get(&url).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// A connection to the database it runs on.
    pub async fn database(&self) -> Database {
        Database::connect(&self.settings.database).await
    }

    /// The settings it runs with (its address and database among them).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// `path` (starting with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET to Herald")
    }

    /// Signs in through the API; panics unless it works.
    pub async fn sign_in(&self, email: &str, password: &str) -> Session {
        let response = self.try_sign_in(email, password).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK, "signing in as {email}");
        Session::from_response(self, &response)
    }

    pub async fn sign_in_as_admin(&self) -> Session {
        self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// `POST /api/session` as Herald's sign-in page sends it.
    pub async fn try_sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/session"))
            .header("X-Requested-With", "Herald")
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST /api/session")
    }

    /// Stops the server as a crash (`kill -9`) would: no shutdown, nothing
    /// finished; the data stays for [`Herald::resume`].
    pub async fn crash(&mut self) {
        self.shutdown.take();
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// `POST /api/alerts` as a detection pipeline sends it.
    pub async fn send_alerts(&self, api_token: &str, body: &serde_json::Value) -> reqwest::Response {
        self.send_to("/api/alerts", api_token, body).await
    }

    /// A JSON body posted with the API token: `/api/alerts`, or a webhook
    /// such as `/api/ingest/alertmanager`.
    pub async fn send_to(&self, path: &str, api_token: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http.post(self.url(path)).bearer_auth(api_token).json(body).send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown_and_wait().await
    }
}

impl Drop for Herald {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// A signed-in browser, minus the browser: sends the session cookie and the
/// header Herald's pages send.
#[derive(Clone)]
pub struct Session {
    pub base_url: String,
    pub cookie: String,
    http: reqwest::Client,
}

impl Session {
    pub fn from_response(herald: &Herald, response: &reqwest::Response) -> Session {
        Session::from_response_at(&herald.base_url, &herald.http, response)
    }

    /// The session a sign-in at `base_url` answered with.
    pub fn from_response_at(base_url: &str, http: &reqwest::Client, response: &reqwest::Response) -> Session {
        let set_cookie = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        Session { base_url: base_url.to_owned(), cookie, http: http.clone() }
    }

    /// The same session on another server of the deployment (a replica).
    pub fn at(&self, base_url: &str) -> Session {
        Session { base_url: base_url.to_owned(), ..self.clone() }
    }

    /// A request with the cookie and the CSRF header.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base_url)).header("cookie", &self.cookie).header("X-Requested-With", "Herald")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path).json(&body).send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, path).json(&body).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path).send().await.unwrap()
    }

    /// A new Slack Bot draft; its ID.
    pub async fn add_draft(&self) -> String {
        let draft: serde_json::Value = self.post("/api/destinations", serde_json::json!({"kind": "SLACK_BOT"})).await.json().await.unwrap();
        draft["id"].as_str().expect("a draft's id").to_owned()
    }

    /// Saves the destination's settings, which must pass.
    pub async fn save_settings(&self, id: &str, form: &SlackBotForm) {
        let saved = self.request(reqwest::Method::PUT, &format!("/api/destinations/{id}")).json(form).send().await.unwrap();
        assert_eq!(saved.status(), reqwest::StatusCode::OK, "saving {form:?}: {}", saved.text().await.unwrap());
    }

    /// A finished, active Slack Bot destination with these settings; its ID.
    pub async fn add_destination(&self, form: &SlackBotForm) -> String {
        let id = self.add_draft().await;
        self.save_settings(&id, form).await;
        let finished = self.post(&format!("/api/destinations/{id}/finish"), serde_json::json!({})).await;
        assert_eq!(finished.status(), reqwest::StatusCode::OK, "finishing setup");
        id
    }

    /// "SecOps": an active destination on `channel` through the fake Slack's
    /// app (its credentials and bot token), for HIGH alerts; its ID.
    pub async fn add_secops(&self, channel: &str, timezone: &str) -> String {
        use crate::fixtures::With;
        self.add_destination(&crate::fixtures::slack_bot("SecOps", channel).with(|s| s.timezone = timezone.to_owned())).await
    }

    /// A Herald user, e.g. for a Slack user's email (`ANALYST`, `VIEWER`, …).
    pub async fn add_user(&self, email: &str, name: &str, role: &str) {
        let user = serde_json::json!({"email": email, "displayName": name, "role": role, "password": "a long enough password"});
        let created = self.post("/api/users", user).await;
        assert_eq!(created.status(), reqwest::StatusCode::CREATED, "{}", created.text().await.unwrap());
    }

    /// A new API token for sending alerts.
    pub async fn api_token(&self) -> String {
        let created: serde_json::Value = self.post("/api/tokens", serde_json::json!({"name": "pipeline"})).await.json().await.unwrap();
        created["secret"].as_str().expect("the new token").to_owned()
    }
}

/// The settings a test server runs with: everything under `data_dir`, Slack
/// at the fake, the web app from `HERALD_TEST_DIST_DIR` (set by
/// `cargo xtask test`) or the workspace's `dist/`.
pub fn settings_for(data_dir: &TempDir, slack: &FakeSlack) -> Settings {
    let db = data_dir.path().join("herald.db");
    let key = data_dir.path().join("secret.key");
    let admin_password = data_dir.path().join("admin-password");
    std::fs::write(&admin_password, format!("{ADMIN_PASSWORD}\n")).unwrap();
    let flags = [
        "--bind=127.0.0.1:0".to_owned(),
        format!("--database-url=sqlite://{}", db.display()),
        format!("--secret-key-file={}", key.display()),
        format!("--slack-api-url={}", slack.api_url()),
        format!("--slack-authorize-url={}", slack.authorize_url()),
        format!("--dist-dir={}", dist_dir().display()),
        format!("--admin-email={ADMIN_EMAIL}"),
        format!("--admin-password-file={}", admin_password.display()),
    ];
    Settings::from_flags(flags).expect("test settings parse")
}

pub fn dist_dir() -> PathBuf {
    std::env::var_os("HERALD_TEST_DIST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"))
}

/// The tests' HTTP client. Herald closes a connection that sends no
/// request within `HERALD_HEADER_TIMEOUT` (10 s): a pooled connection idle
/// that long may be closed just as a request goes out on it (hyper's
/// `IncompleteMessage`), so the pool lets idle connections go sooner.
fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_idle_timeout(std::time::Duration::from_secs(5)).build().expect("an HTTP client")
}
