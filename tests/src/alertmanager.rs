//! Debian's `prometheus-alertmanager` as a real sender of webhooks: one
//! receiver pointing at Herald with the API token in a credentials file,
//! no grouping and no waits, alerts posted to its `/api/v2/alerts` as
//! Prometheus would. Stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use tempfile::TempDir;

pub struct Alertmanager {
    child: Child,
    url: String,
    http: reqwest::Client,
    _dir: TempDir,
}

/// Where Debian puts the binary; `None` when the package is missing.
pub fn binary() -> Option<PathBuf> {
    ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager"].into_iter().map(PathBuf::from).find(|p| p.exists())
}

impl Alertmanager {
    /// Starts one that sends every alert, firing and resolved, to `webhook`.
    pub async fn start(webhook: &str, api_token: &str) -> Alertmanager {
        Self::start_with("1s", "herald-token", api_token, |token_file| {
            format!(
                "  - name: herald\n    webhook_configs:\n      - url: {webhook}\n        send_resolved: true\n\
                 \x20       http_config:\n          authorization:\n            type: Bearer\n            credentials_file: {token_file}\n"
            )
        })
        .await
    }

    /// Starts one that posts every firing alert to Slack itself, as its
    /// users do: `chat.postMessage` at `slack_api` into `channel` with a
    /// bot token, the alert's `summary` annotation as the text.
    pub async fn start_slack(slack_api: &str, channel: &str, bot_token: &str) -> Alertmanager {
        // Each alert its own group, sent once: no group to look at again.
        Self::start_with("4h", "slack-token", bot_token, |token_file| {
            format!(
                "  - name: herald\n    slack_configs:\n      - api_url: {slack_api}/chat.postMessage\n        channel: '{channel}'\n\
                 \x20       title: '{{{{ .CommonLabels.alertname }}}}'\n        text: '{{{{ .CommonAnnotations.summary }}}}'\n\
                 \x20       http_config:\n          authorization:\n            type: Bearer\n            credentials_file: {token_file}\n"
            )
        })
        .await
    }

    /// Starts one with no grouping and no waits, one receiver (named
    /// `herald`, written by `receiver` given the file that holds `secret`);
    /// a group's later alerts wait `group_interval`.
    async fn start_with(group_interval: &str, secret_name: &str, secret: &str, receiver: impl FnOnce(&str) -> String) -> Alertmanager {
        let binary = binary().expect("prometheus-alertmanager is not installed: apt-get install prometheus-alertmanager");
        let dir = tempfile::tempdir().unwrap();
        let secret_file = dir.path().join(secret_name);
        std::fs::write(&secret_file, secret).unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: herald\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: {group_interval}\n  repeat_interval: 4h\n\
                 receivers:\n{}",
                receiver(&secret_file.display().to_string())
            ),
        )
        .unwrap();
        let port = crate::browser::free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // One instance: no gossip port.
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting prometheus-alertmanager");
        let am = Alertmanager { child, url: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new(), _dir: dir };
        crate::poll::until("Alertmanager to be ready", || async {
            match am.http.get(format!("{}/-/ready", am.url)).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        am
    }

    /// Posts an alert as Prometheus does; an end now resolves it (the
    /// start stays the first post's).
    async fn post(&self, name: &str, severity: &str, instance: &str, resolved: bool) {
        let now = jiff::Timestamp::now().to_string();
        let mut alert = json!({
            "labels": {"alertname": name, "severity": severity, "instance": instance, "job": "node"},
            "annotations": {"summary": format!("{name} on {instance}")},
            "startsAt": now,
            "generatorURL": "http://prometheus.acme.example:9090/graph",
        });
        if resolved {
            alert["endsAt"] = json!(now);
        }
        let response = self.http.post(format!("{}/api/v2/alerts", self.url)).json(&json!([alert])).send().await.unwrap();
        assert!(response.status().is_success(), "Alertmanager took the alert: {}", response.status());
    }

    /// Where it takes alerts (`POST /api/v2/alerts`, a JSON array).
    pub fn alerts_url(&self) -> String {
        format!("{}/api/v2/alerts", self.url)
    }

    /// Its process, for CPU and memory figures.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn fire(&self, name: &str, severity: &str, instance: &str) {
        self.post(name, severity, instance, false).await;
    }

    pub async fn resolve(&self, name: &str, severity: &str, instance: &str) {
        self.post(name, severity, instance, true).await;
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
