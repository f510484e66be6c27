//! `cargo xtask bench`: the release `herald` binary against the fake Slack
//! on loopback. Prints a table of ingest throughput, end-to-end delivery
//! throughput across 100 channels, ingest→Slack latency at a steady rate,
//! CPU per delivered message and memory, each beside its target; then the
//! delivery figures on PostgreSQL with one replica and with two (on the
//! server `HERALD_TEST_DATABASE_URL` names).
//!
//! Usage: herald-bench <path to the herald binary>

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_server::store::postgres::scratch;
use herald_tests::FakeSlack;
use herald_tests::fixtures::{With, slack_bot};
use serde_json::{Value, json};

const CHANNELS: usize = 100;
const BURST: usize = 10_000;
const STEADY_RATE: u32 = 200;
const STEADY_SECS: u32 = 10;

struct Herald {
    child: Child,
    base: String,
    http: reqwest::Client,
    cookie: String,
}

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Herald {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, self.url(path))
            .header("cookie", &self.cookie)
            .header("X-Requested-With", "Herald")
            .json(&body)
            .send()
            .await
            .expect("Herald answers");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// (CPU seconds used so far, resident MB now, peak resident MB).
    fn usage(&self) -> (f64, f64, f64) {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime is 14th overall, stime 15th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let cpu = (ticks(11) + ticks(12)) / 100.0;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (cpu, kib("VmRSS:") * 1024.0 / 1e6, kib("VmHWM:") * 1024.0 / 1e6)
    }
}

/// Where a run keeps its data: a SQLite file in the run's folder, or a
/// scratch database on the PostgreSQL server `HERALD_TEST_DATABASE_URL`
/// names (`cargo xtask bench` starts one).
fn database_url(dir: &Path, postgres: Option<&scratch::Database>) -> String {
    match postgres {
        Some(database) => database.url.clone(),
        None => format!("sqlite://{}", dir.join("herald.db").display()),
    }
}

async fn start_herald(binary: &Path, slack: &FakeSlack, dir: &Path, dist: Option<&Path>, database: &str) -> Herald {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let password = "bench password for herald";
    std::fs::write(dir.join("admin-password"), password).unwrap();
    let child = Command::new(binary)
        .env("HERALD_BIND", format!("127.0.0.1:{port}"))
        .env("HERALD_DATABASE_URL", database)
        .env("HERALD_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("HERALD_SLACK_API_URL", slack.api_url())
        .env("HERALD_DIST_DIR", dist.map_or_else(|| dir.join("no-app"), Path::to_path_buf))
        .env("HERALD_ADMIN_EMAIL", "bench@acme.example")
        .env("HERALD_ADMIN_PASSWORD_FILE", dir.join("admin-password"))
        .env("HERALD_SLACK_PACING", "off")
        .env("HERALD_LOG", std::env::var("HERALD_BENCH_LOG").unwrap_or_else(|_| "error".into()))
        .stdout(Stdio::null())
        .spawn()
        .expect("starting herald");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "herald did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signed_in = http
        .post(format!("{base}/api/session"))
        .header("X-Requested-With", "Herald")
        .json(&json!({"email": "bench@acme.example", "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    Herald { child, base, http, cookie }
}

/// One deployment under test: its replicas on one database, a fake Slack,
/// an API token and a destination per channel.
struct Run {
    slack: FakeSlack,
    replicas: Vec<Herald>,
    token: String,
    destinations: Vec<String>,
    _postgres: Option<scratch::Database>,
    _dir: tempfile::TempDir,
}

impl Run {
    async fn start(binary: &Path, dist: Option<&Path>, postgres: Option<&str>, replicas: usize) -> Run {
        let slack = FakeSlack::start().await;
        let dir = tempfile::tempdir().unwrap();
        let scratch = match postgres {
            Some(server) => Some(scratch::Database::create(server).await.expect("a scratch database for the benchmark")),
            None => None,
        };
        let url = database_url(dir.path(), scratch.as_ref());
        let mut started = Vec::with_capacity(replicas);
        for _ in 0..replicas {
            started.push(start_herald(binary, &slack, dir.path(), dist, &url).await);
        }
        let herald = &started[0];
        let created = herald.admin(reqwest::Method::POST, "/api/tokens", json!({"name": "bench"})).await;
        let token = created["secret"].as_str().unwrap().to_owned();
        let mut destinations = Vec::with_capacity(CHANNELS);
        for i in 0..CHANNELS {
            let channel = slack.add_channel(&format!("bench-{i}"), false);
            let draft = herald.admin(reqwest::Method::POST, "/api/destinations", json!({"kind": "SLACK_BOT"})).await;
            let id = draft["id"].as_str().unwrap().to_owned();
            let form = slack_bot(&format!("Bench {i}"), &channel).with(|s| s.timezone = "Europe/Berlin".to_owned());
            let settings = serde_json::to_value(form).unwrap();
            herald.admin(reqwest::Method::PUT, &format!("/api/destinations/{id}"), settings).await;
            herald.admin(reqwest::Method::POST, &format!("/api/destinations/{id}/finish"), json!({})).await;
            destinations.push(id);
        }
        slack.go_lean();
        tokio::time::sleep(Duration::from_secs(1)).await;
        Run { slack, replicas: started, token, destinations, _postgres: scratch, _dir: dir }
    }

    /// CPU seconds of every replica so far, and the highest peak RSS (MB).
    fn usage(&self) -> (f64, f64) {
        let all: Vec<(f64, f64, f64)> = self.replicas.iter().map(Herald::usage).collect();
        (all.iter().map(|u| u.0).sum(), all.iter().map(|u| u.2).fold(0.0, f64::max))
    }

    /// The burst across every channel, its batches sent to the replicas
    /// in turn: messages a second, and Herald's CPU ms per message.
    async fn burst(&self) -> (f64, f64) {
        let (cpu_before, _) = self.usage();
        let bodies: Vec<Value> = (0..BURST / 1_000)
            .map(|b| {
                let alerts: Vec<Value> = (0..1_000)
                    .map(|i| alert(format!("burst {b}-{i}"), vec![self.destinations[(b * 1_000 + i) % CHANNELS].as_str()]))
                    .collect();
                json!({"alerts": alerts})
            })
            .collect();
        let started = Instant::now();
        post_all(&self.replicas, &self.token, bodies, self.replicas.len()).await;
        wait_for_arrivals(&self.slack, BURST).await;
        let took = started.elapsed();
        let (cpu_after, _) = self.usage();
        self.slack.take_arrivals();
        (BURST as f64 / took.as_secs_f64(), (cpu_after - cpu_before) / BURST as f64 * 1_000.0)
    }

    /// A steady stream at [`STEADY_RATE`], round the replicas: the ingest
    /// answer times and the ingest→Slack latencies, each sorted.
    async fn steady(&self) -> (Vec<Duration>, Vec<Duration>) {
        let total = (STEADY_RATE * STEADY_SECS) as usize;
        let mut sent_at = Vec::with_capacity(total);
        let mut ticker = tokio::time::interval(Duration::from_secs(1) / STEADY_RATE);
        let mut posts = tokio::task::JoinSet::new();
        for n in 0..total {
            ticker.tick().await;
            let herald = &self.replicas[n % self.replicas.len()];
            let body = alert(format!("steady {n}"), vec![self.destinations[n % CHANNELS].as_str()]);
            let (http, url, token) = (herald.http.clone(), herald.url("/api/alerts"), self.token.clone());
            sent_at.push(Instant::now());
            let started = Instant::now();
            posts.spawn(
                async move { http.post(&url).bearer_auth(&token).json(&body).send().await.map(|r| (r.status(), started.elapsed())) },
            );
        }
        let mut answers = Vec::with_capacity(total);
        while let Some(posted) = posts.join_next().await {
            let (status, took) = posted.unwrap().unwrap();
            assert!(status.is_success());
            answers.push(took);
        }
        answers.sort();
        wait_for_arrivals(&self.slack, total).await;
        let mut latencies: Vec<Duration> = self
            .slack
            .take_arrivals()
            .into_iter()
            .filter_map(|(at, text)| {
                let n: usize = text.rsplit_once("steady ")?.1.split_whitespace().next()?.parse().ok()?;
                Some(at - sent_at[n])
            })
            .collect();
        latencies.sort();
        (answers, latencies)
    }
}

/// Posts `bodies` with `concurrency` requests at once, round the
/// replicas; the time it took.
async fn post_all(replicas: &[Herald], token: &str, bodies: Vec<Value>, concurrency: usize) -> Duration {
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for n in 0..concurrency {
        let herald = &replicas[n % replicas.len()];
        let (queue, http, url, token) = (queue.clone(), herald.http.clone(), herald.url("/api/alerts"), token.to_owned());
        workers.spawn(async move {
            loop {
                let Some(body) = queue.lock().unwrap().pop() else { return };
                let response = http.post(&url).bearer_auth(&token).json(&body).send().await.expect("POST /api/alerts");
                assert!(response.status().is_success(), "{}", response.text().await.unwrap());
            }
        });
    }
    while workers.join_next().await.is_some() {}
    started.elapsed()
}

fn alert(title: String, destinations: Vec<&str>) -> Value {
    json!({
        "title": title, "severity": "HIGH", "detectionId": "AWS.Console.LoginWithoutMFA", "logTypes": ["AWS.CloudTrail"],
        "description": "A console login without MFA from 203.0.113.7.", "destinations": destinations,
    })
}

async fn wait_for_arrivals(slack: &FakeSlack, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while slack.arrival_count() < count {
        assert!(Instant::now() < deadline, "only {} of {count} messages arrived", slack.arrival_count());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let binary = std::env::args().nth(1).expect("usage: herald-bench <path to the herald binary> [dist folder]");
    let binary = Path::new(&binary);
    let dist = std::env::args().nth(2).map(std::path::PathBuf::from);
    let postgres = std::env::var("HERALD_TEST_DATABASE_URL").ok();
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // SQLite, one server: every figure.
    let run = Run::start(binary, dist.as_deref(), None, 1).await;
    let herald = &run.replicas[0];
    let (_, idle_rss, _) = herald.usage();
    // Ingest alone: stored durably, routed nowhere (`"destinations": []`).
    let singles: Vec<Value> = (0..2_000).map(|i| alert(format!("single {i}"), vec![])).collect();
    let took = post_all(&run.replicas, &run.token, singles, 32).await;
    rows.push(("ingest, one alert per request (32 clients)".into(), format!("{:.0} alerts/s", 2_000.0 / took.as_secs_f64()), "—".into()));
    let batches: Vec<Value> =
        (0..20).map(|b| json!({"alerts": (0..1_000).map(|i| alert(format!("batch {b}-{i}"), vec![])).collect::<Vec<_>>()})).collect();
    let took = post_all(&run.replicas, &run.token, batches, 2).await;
    let batched = 20_000.0 / took.as_secs_f64();
    rows.push(("ingest, batches of 1,000".into(), format!("{batched:.0} alerts/s"), mark(batched >= 5_000.0, "≥ 5,000 alerts/s")));
    let (throughput, cpu_per_message) = run.burst().await;
    let (_, _, peak_rss) = herald.usage();
    rows.push((
        format!("delivered, {BURST} alerts over {CHANNELS} channels (pacing off)"),
        format!("{throughput:.0} messages/s"),
        mark(throughput >= 3_500.0, "≥ 3,500 messages/s"),
    ));
    rows.push((
        "Herald CPU per delivered message (burst, incl. ingest)".into(),
        format!("{cpu_per_message:.3} ms"),
        mark(cpu_per_message <= 0.5, "≤ 0.5 ms"),
    ));
    let (answers, latencies) = run.steady().await;
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    rows.push((
        format!("ingest answer (202) p50 / p99 at {STEADY_RATE} alerts/s"),
        format!("{:.1} / {:.1} ms", ms(percentile(&answers, 0.5)), ms(percentile(&answers, 0.99))),
        "—".into(),
    ));
    rows.push((format!("ingest→Slack latency p50 at {STEADY_RATE} alerts/s"), format!("{:.1} ms", ms(p50)), "—".into()));
    rows.push((
        format!("ingest→Slack latency p99 at {STEADY_RATE} alerts/s"),
        format!("{:.1} ms", ms(p99)),
        mark(ms(p99) <= 10.0, "≤ 10 ms"),
    ));
    rows.push(("Herald RSS, idle".into(), format!("{idle_rss:.1} MB"), "—".into()));
    rows.push((
        format!("Herald RSS, peak through the {BURST}-alert burst"),
        format!("{peak_rss:.1} MB"),
        mark(peak_rss <= 60.0, "≤ 60 MB"),
    ));
    rows.push(match console_bytes(herald).await {
        Some(bytes) => {
            let kb = bytes as f64 / 1_000.0;
            ("web console, first visit (every file, brotli)".into(), format!("{kb:.1} KB"), mark(kb <= 200.0, "≤ 200 KB"))
        }
        None => ("web console, first visit".into(), "not measured: no app built (cargo xtask build-app)".into(), "≤ 200 KB".into()),
    });
    drop(run);

    // PostgreSQL, one replica and two: one delivers, both take alerts.
    match &postgres {
        None => rows.push(("PostgreSQL".into(), "not measured: set HERALD_TEST_DATABASE_URL (cargo xtask bench does)".into(), "—".into())),
        Some(server) => {
            for replicas in [1, 2] {
                let run = Run::start(binary, dist.as_deref(), Some(server), replicas).await;
                let label = if replicas == 1 { "PostgreSQL, 1 replica".to_owned() } else { format!("PostgreSQL, {replicas} replicas") };
                let (throughput, _) = run.burst().await;
                let (_, peak_rss) = run.usage();
                let (_, latencies) = run.steady().await;
                rows.push((
                    format!("{label}: delivered, {BURST} alerts over {CHANNELS} channels (pacing off)"),
                    format!("{throughput:.0} messages/s"),
                    "—".into(),
                ));
                rows.push((
                    format!("{label}: ingest→Slack latency p50 / p99 at {STEADY_RATE} alerts/s"),
                    format!("{:.1} / {:.1} ms", ms(percentile(&latencies, 0.5)), ms(percentile(&latencies, 0.99))),
                    "—".into(),
                ));
                rows.push((format!("{label}: RSS per replica, peak through the burst"), format!("{peak_rss:.1} MB"), "—".into()));
            }
        }
    }

    println!("\n| benchmark | result | target |\n|---|---|---|");
    for (what, result, target) in rows {
        println!("| {what} | {result} | {target} |");
    }
}

/// What a first visit downloads from the server, as a browser asks for it
/// (`Accept-Encoding: br`): index.html and every hashed file it names.
async fn console_bytes(herald: &Herald) -> Option<u64> {
    let get = |path: String| {
        let request = herald.http.get(herald.url(&path)).header(reqwest::header::ACCEPT_ENCODING, "br");
        async move { request.send().await.ok()?.error_for_status().ok()?.bytes().await.ok() }
    };
    let html = herald.http.get(herald.url("/")).send().await.ok()?.text().await.ok()?;
    if !html.contains("boot-") {
        return None;
    }
    let mut total = get("/".into()).await?.len() as u64;
    for file in html.split("\"/").skip(1).filter_map(|rest| rest.split('"').next()) {
        if file.starts_with("app-") || file.starts_with("boot-") {
            total += get(format!("/{file}")).await?.len() as u64;
        }
    }
    Some(total)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn mark(met: bool, target: &str) -> String {
    format!("{target} {}", if met { "✓" } else { "✗ (missed)" })
}
