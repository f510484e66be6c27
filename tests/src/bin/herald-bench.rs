//! `cargo xtask bench`: the release `herald` binary and Prometheus
//! Alertmanager (Debian's `prometheus-alertmanager`, the peer), each against
//! its own fake Slack on loopback with the same load: one channel, one
//! `chat.postMessage` per alert, Herald's pacing off and Alertmanager
//! grouping nothing. Each measure is taken in two rounds, the order of the
//! two swapped in the second, and the median printed beside the other's
//! with the ratio: delivered messages a second through a burst, CPU per
//! message, peak memory, ingest→Slack latency at a steady rate. Then
//! Herald's own figures (ingest, the console's size) and the delivery
//! figures on PostgreSQL with one replica and with two (on the server
//! `HERALD_TEST_DATABASE_URL` names), and the fake Slack's own ceiling.
//!
//! Usage: herald-bench <path to the herald binary> [dist folder]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_server::store::postgres::scratch;
use herald_tests::FakeSlack;
use herald_tests::alertmanager::{self, Alertmanager};
use herald_tests::fake_slack::defaults;
use herald_tests::fixtures::{With, slack_bot};
use serde_json::{Value, json};

const BURST: usize = 10_000;
/// Alerts per request in the burst.
const BURST_BATCH: usize = 1_000;
const STEADY_RATE: u32 = 200;
const STEADY_SECS: u32 = 10;
/// The pause before a steady stream.
const SETTLE: Duration = Duration::from_secs(2);
/// Rounds of each measure; the order of Herald and Alertmanager swaps each round.
const ROUNDS: usize = 2;

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

    fn usage(&self) -> (f64, f64, f64) {
        usage(self.child.id())
    }
}

/// A process's (CPU seconds used so far, resident MB now, peak resident MB).
fn usage(pid: u32) -> (f64, f64, f64) {
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
    let mut command = Command::new(binary);
    // Profiling: the runtime's worker threads (tokio reads this).
    if let Ok(threads) = std::env::var("HERALD_BENCH_WORKER_THREADS") {
        command.env("TOKIO_WORKER_THREADS", threads);
    }
    let child = command
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
/// an API token and the one destination (its channel takes every message).
struct Run {
    slack: FakeSlack,
    replicas: Vec<Herald>,
    token: String,
    destination: String,
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
        let channel = slack.add_channel("bench", false);
        let draft = herald.admin(reqwest::Method::POST, "/api/destinations", json!({"kind": "SLACK_BOT"})).await;
        let destination = draft["id"].as_str().unwrap().to_owned();
        let form = slack_bot("Bench", &channel).with(|s| s.timezone = "Europe/Berlin".to_owned());
        herald.admin(reqwest::Method::PUT, &format!("/api/destinations/{destination}"), serde_json::to_value(form).unwrap()).await;
        herald.admin(reqwest::Method::POST, &format!("/api/destinations/{destination}/finish"), json!({})).await;
        slack.go_lean();
        tokio::time::sleep(Duration::from_secs(1)).await;
        Run { slack, replicas: started, token, destination, _postgres: scratch, _dir: dir }
    }

    /// CPU seconds of every replica so far, and the highest peak RSS (MB).
    fn usage(&self) -> (f64, f64) {
        let all: Vec<(f64, f64, f64)> = self.replicas.iter().map(Herald::usage).collect();
        (all.iter().map(|u| u.0).sum(), all.iter().map(|u| u.2).fold(0.0, f64::max))
    }

    /// The burst, its batches sent to the replicas in turn.
    async fn burst(&self, round: usize) -> Burst {
        let requests = (0..BURST / BURST_BATCH)
            .map(|b| {
                let herald = &self.replicas[b % self.replicas.len()];
                let alerts: Vec<Value> =
                    (0..BURST_BATCH).map(|i| alert(format!("burst {round}-{b}-{i}"), vec![self.destination.as_str()])).collect();
                herald.http.post(herald.url("/api/alerts")).bearer_auth(&self.token).json(&json!({"alerts": alerts}))
            })
            .collect();
        let pids: Vec<u32> = self.replicas.iter().map(|h| h.child.id()).collect();
        let burst = burst(&self.slack, &pids, requests, self.replicas.len()).await;
        Burst { peak_rss: self.usage().1, ..burst }
    }

    /// A steady stream round the replicas: the ingest answer times and the
    /// ingest→Slack latencies, each sorted.
    async fn steady(&self, round: usize) -> (Vec<Duration>, Vec<Duration>) {
        steady(&self.slack, |n| {
            let herald = &self.replicas[n % self.replicas.len()];
            let body = alert(format!("steady {n} of round {round}"), vec![self.destination.as_str()]);
            herald.http.post(herald.url("/api/alerts")).bearer_auth(&self.token).json(&body)
        })
        .await
    }
}

/// Alertmanager posting to its own fake Slack with a bot token, as its
/// users set it up for Slack.
struct Peer {
    slack: FakeSlack,
    am: Alertmanager,
    http: reqwest::Client,
}

impl Peer {
    async fn start() -> Peer {
        let slack = FakeSlack::start().await;
        let channel = slack.add_channel("bench", false);
        let am = Alertmanager::start_slack(&slack.api_url(), &channel, defaults::BOT_TOKEN).await;
        slack.go_lean();
        Peer { slack, am, http: reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap() }
    }

    async fn burst(&self, round: usize) -> Burst {
        let now = jiff::Timestamp::now().to_string();
        let requests = (0..BURST / BURST_BATCH)
            .map(|b| {
                let alerts: Vec<Value> = (0..BURST_BATCH).map(|i| am_alert(format!("burst {round}-{b}-{i}"), &now)).collect();
                self.http.post(self.am.alerts_url()).json(&alerts)
            })
            .collect();
        let burst = burst(&self.slack, &[self.am.pid()], requests, 1).await;
        Burst { peak_rss: usage(self.am.pid()).2, ..burst }
    }

    async fn steady(&self, round: usize) -> (Vec<Duration>, Vec<Duration>) {
        steady(&self.slack, |n| {
            self.http
                .post(self.am.alerts_url())
                .json(&[am_alert(format!("steady {n} of round {round}"), &jiff::Timestamp::now().to_string())])
        })
        .await
    }
}

/// An alert as Prometheus posts it to Alertmanager: its own group (the
/// name differs), the `summary` becomes the Slack text.
fn am_alert(title: String, starts_at: &str) -> Value {
    json!({
        "labels": {"alertname": title, "severity": "high", "detection": "AWS.Console.LoginWithoutMFA", "log_type": "AWS.CloudTrail"},
        "annotations": {"summary": title, "description": "A console login without MFA from 203.0.113.7."},
        "startsAt": starts_at,
    })
}

/// What a burst showed: messages a second, CPU ms per message (ingest
/// included), the highest peak resident memory (MB).
#[derive(Clone, Copy, Default)]
struct Burst {
    rate: f64,
    cpu_ms: f64,
    peak_rss: f64,
}

/// Sends `requests` (`concurrency` at once) and waits for every message of
/// the burst at Slack.
async fn burst(slack: &FakeSlack, pids: &[u32], requests: Vec<reqwest::RequestBuilder>, concurrency: usize) -> Burst {
    let cpu = || pids.iter().map(|pid| usage(*pid).0).sum::<f64>();
    let cpu_before = cpu();
    let started = Instant::now();
    post_all(requests, concurrency).await;
    wait_for_arrivals(slack, BURST).await;
    let took = started.elapsed();
    let cpu_after = cpu();
    slack.take_arrivals();
    Burst { rate: BURST as f64 / took.as_secs_f64(), cpu_ms: (cpu_after - cpu_before) / BURST as f64 * 1_000.0, peak_rss: 0.0 }
}

/// A steady stream at [`STEADY_RATE`] for [`STEADY_SECS`], request `n`
/// made by `request(n)` with the text `steady {n} …` (the rest differs
/// each round: an alert sent again would fold): the answer times and
/// the ingest→Slack latencies, each sorted.
async fn steady(slack: &FakeSlack, request: impl Fn(usize) -> reqwest::RequestBuilder) -> (Vec<Duration>, Vec<Duration>) {
    // The same pause for both: what came before (the burst's last outcomes
    // and checkpoint, the other system's run) is not this measure.
    tokio::time::sleep(SETTLE).await;
    let total = (STEADY_RATE * STEADY_SECS) as usize;
    let mut sent_at = Vec::with_capacity(total);
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / STEADY_RATE);
    let mut posts = tokio::task::JoinSet::new();
    for n in 0..total {
        ticker.tick().await;
        let request = request(n);
        let started = Instant::now();
        sent_at.push(started);
        posts.spawn(async move { request.send().await.map(|r| (n, r.status(), started.elapsed())) });
    }
    let mut answered = vec![Duration::ZERO; total];
    while let Some(posted) = posts.join_next().await {
        let (n, status, took) = posted.unwrap().unwrap();
        assert!(status.is_success(), "{status}");
        answered[n] = took;
    }
    let mut answers = answered.clone();
    answers.sort();
    wait_for_arrivals(slack, total).await;
    let numbered: Vec<(usize, Duration)> = slack
        .take_arrivals()
        .into_iter()
        .filter_map(|(at, text)| {
            let n: usize = text.rsplit_once("steady ")?.1.split_whitespace().next()?.parse().ok()?;
            Some((n, at - sent_at[n]))
        })
        .collect();
    // Looking into the tail: is it one stall or many, and when?
    if std::env::var_os("HERALD_BENCH_TIMELINE").is_some() {
        let mut slowest = numbered.clone();
        slowest.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
        let started = jiff::Timestamp::try_from(std::time::SystemTime::now() - sent_at[0].elapsed()).unwrap_or_default();
        let listed: Vec<String> = slowest
            .iter()
            .take(30)
            .map(|(n, took)| format!("+{} ms: {:.1} ({:.1})", (sent_at[*n] - sent_at[0]).as_millis(), ms(*took), ms(answered[*n])))
            .collect();
        eprintln!("The slowest 30 of the stream started {started} (sent at: ingest→Slack ms (answered in ms)): {}", listed.join(", "));
    }
    let mut latencies: Vec<Duration> = numbered.into_iter().map(|(_, d)| d).collect();
    assert_eq!(latencies.len(), total, "every steady message names its number");
    latencies.sort();
    (answers, latencies)
}

/// Sends `requests` with `concurrency` at once; the time it took.
async fn post_all(requests: Vec<reqwest::RequestBuilder>, concurrency: usize) -> Duration {
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let queue = queue.clone();
        workers.spawn(async move {
            loop {
                let Some(request) = queue.lock().unwrap().pop() else { return };
                let response = request.send().await.expect("the request is answered");
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
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The median of the rounds' figures.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}

/// One round's figures for one system.
#[derive(Clone, Copy, Default)]
struct Figures {
    burst: Burst,
    /// Ingest→Slack at the steady rate, ms.
    p50: f64,
    p99: f64,
    /// The ingest's answer at the steady rate, ms.
    answer_p50: f64,
}

impl Figures {
    fn steady(&mut self, (answers, latencies): (Vec<Duration>, Vec<Duration>)) {
        (self.p50, self.p99) = (ms(percentile(&latencies, 0.5)), ms(percentile(&latencies, 0.99)));
        self.answer_p50 = ms(percentile(&answers, 0.5));
    }

    /// The median of each figure over the rounds.
    fn median(rounds: &[Figures]) -> Figures {
        let of = |f: fn(&Figures) -> f64| median(rounds.iter().map(f).collect());
        Figures {
            burst: Burst { rate: of(|f| f.burst.rate), cpu_ms: of(|f| f.burst.cpu_ms), peak_rss: of(|f| f.burst.peak_rss) },
            p50: of(|f| f.p50),
            p99: of(|f| f.p99),
            answer_p50: of(|f| f.answer_p50),
        }
    }
}

/// How many messages a second the fake Slack itself takes, with its client
/// on the same cores: the most any system can deliver through it here.
async fn slack_ceiling() -> f64 {
    const POSTS: usize = 20_000;
    let slack = FakeSlack::start().await;
    let channel = slack.add_channel("ceiling", false);
    slack.go_lean();
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let url = format!("{}/chat.postMessage", slack.api_url());
    let requests = (0..POSTS)
        .map(|n| http.post(&url).bearer_auth(defaults::BOT_TOKEN).json(&json!({"channel": channel, "text": format!("ceiling {n}")})))
        .collect();
    let took = post_all(requests, 64).await;
    assert_eq!(slack.arrival_count(), POSTS);
    POSTS as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let binary = std::env::args().nth(1).expect("usage: herald-bench <path to the herald binary> [dist folder]");
    let binary = Path::new(&binary);
    let dist = std::env::args().nth(2).map(std::path::PathBuf::from);
    let postgres = std::env::var("HERALD_TEST_DATABASE_URL").ok();
    // Profiling Herald: one round of the comparison's load, Herald alone.
    let profiling = std::env::var_os("HERALD_BENCH_PROFILE").is_some();
    let postgres = postgres.filter(|_| !profiling);
    let peer = alertmanager::binary().is_some() && !profiling;
    if !peer {
        eprintln!(
            "Alertmanager is not installed, so its column stays empty: `cargo xtask bench` installs it when run as root, \
             or: sudo apt-get install prometheus-alertmanager"
        );
    }

    // Herald on SQLite and Alertmanager, in rounds, the order swapped each round.
    let mut herald_rounds = Vec::new();
    let mut peer_rounds = Vec::new();
    let mut own: Vec<(String, String, String)> = Vec::new();
    // Only PostgreSQL's figures, when looking into them.
    let postgres_only = std::env::var_os("HERALD_BENCH_POSTGRES_ONLY").is_some();
    for round in 0..if profiling {
        1
    } else if postgres_only {
        0
    } else {
        ROUNDS
    } {
        let run = Run::start(binary, dist.as_deref(), None, 1).await;
        let am = if peer { Some(Peer::start().await) } else { None };
        if round == 0 && !profiling {
            own = herald_only(&run).await;
        }
        let (mut herald, mut other) = (Figures::default(), Figures::default());
        let herald_first = round % 2 == 1;
        for turn in [herald_first, !herald_first] {
            match (turn, &am) {
                (true, _) => herald.burst = run.burst(round).await,
                (false, Some(am)) => other.burst = am.burst(round).await,
                (false, None) => {}
            }
        }
        for turn in [herald_first, !herald_first] {
            match (turn, &am) {
                (true, _) => herald.steady(run.steady(round).await),
                (false, Some(am)) => other.steady(am.steady(round).await),
                (false, None) => {}
            }
        }
        herald_rounds.push(herald);
        peer_rounds.push(other);
    }
    let herald = Figures::median(&herald_rounds);
    let other = peer.then(|| Figures::median(&peer_rounds));

    // PostgreSQL, one replica and two: one delivers, both take alerts.
    let mut replicas_figures = Vec::new();
    if let Some(server) = &postgres {
        for replicas in [1, 2] {
            let run = Run::start(binary, dist.as_deref(), Some(server), replicas).await;
            let mut rounds = Vec::new();
            for round in 0..ROUNDS {
                let mut figures = Figures { burst: run.burst(round).await, ..Figures::default() };
                figures.steady(run.steady(round).await);
                rounds.push(figures);
            }
            replicas_figures.push(Figures::median(&rounds));
        }
    }
    let ceiling = slack_ceiling().await;

    println!(
        "\nHerald against Prometheus Alertmanager {}, each with its own fake Slack on this machine ({} cores): one channel, \
         one message per alert, {BURST}-alert burst in requests of {BURST_BATCH}, steady {STEADY_RATE} alerts/s for {STEADY_SECS} s \
         one per request; the median of {ROUNDS} rounds, the order swapped each round.\n",
        alertmanager_version().unwrap_or_else(|| "(not installed)".into()),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("| measure | Alertmanager | Herald (SQLite) | Herald / AM | target |\n|---|---|---|---|---|");
    let compare = |what: &str, unit: &str, digits: usize, get: fn(&Figures) -> f64, target: &dyn Fn(f64, Option<f64>) -> String| {
        let theirs = other.as_ref().map(get);
        let ours = get(&herald);
        let ratio = theirs.map_or("—".to_owned(), |t| format!("{:.2}", ours / t));
        let theirs = theirs.map_or("not measured".to_owned(), |t| format!("{t:.digits$} {unit}"));
        println!("| {what} | {theirs} | {ours:.digits$} {unit} | {ratio} | {} |", target(ours, other.as_ref().map(get)));
    };
    compare("delivered messages/s, burst", "msgs/s", 0, |f| f.burst.rate, &|ours, theirs| {
        theirs.map_or("≥ 3× Alertmanager".into(), |t| mark(ours >= 3.0 * t, "≥ 3× Alertmanager"))
    });
    compare("CPU per message, burst (ingest included)", "ms", 3, |f| f.burst.cpu_ms, &|ours, theirs| {
        theirs.map_or("≤ 0.33× Alertmanager".into(), |t| mark(ours <= 0.33 * t, "≤ 0.33× Alertmanager"))
    });
    compare("RSS peak, burst", "MB", 1, |f| f.burst.peak_rss, &|ours, _| mark(ours <= 60.0, "≤ 60 MB"));
    compare(&format!("ingest→Slack p50 at {STEADY_RATE} alerts/s"), "ms", 1, |f| f.p50, &|ours, theirs| {
        theirs.map_or("≤ Alertmanager".into(), |t| mark(ours <= t, "≤ Alertmanager"))
    });
    compare(&format!("ingest→Slack p99 at {STEADY_RATE} alerts/s"), "ms", 1, |f| f.p99, &|ours, _| mark(ours <= 10.0, "≤ 10 ms"));
    compare(&format!("ingest answer p50 at {STEADY_RATE} alerts/s (Herald's stored on disk)"), "ms", 1, |f| f.answer_p50, &|_, _| {
        "—".into()
    });
    println!("\nThe fake Slack alone (its client on the same cores) takes {ceiling:.0} msgs/s: the most either could deliver here.");

    println!("\n| Herald alone | result | target |\n|---|---|---|");
    for (what, result, target) in own {
        println!("| {what} | {result} | {target} |");
    }

    println!("\n| PostgreSQL | 1 replica | 2 replicas | 2 / 1 | target |\n|---|---|---|---|---|");
    match replicas_figures.as_slice() {
        [one, two] => {
            let row = |what: &str, unit: &str, get: fn(&Figures) -> f64, target: String| {
                let (a, b) = (get(one), get(two));
                println!("| {what} | {a:.1} {unit} | {b:.1} {unit} | {:.2} | {target} |", b / a);
            };
            let scale = two.burst.rate / one.burst.rate;
            row("delivered messages/s, burst", "msgs/s", |f| f.burst.rate, mark(scale >= 1.6, "2 replicas ≥ 1.6× one"));
            row("CPU per message, burst, every replica", "ms", |f| f.burst.cpu_ms, "—".into());
            row("RSS peak per replica, burst", "MB", |f| f.burst.peak_rss, "≤ 60 MB".into());
            row(&format!("ingest→Slack p50 at {STEADY_RATE} alerts/s"), "ms", |f| f.p50, "—".into());
            row(&format!("ingest→Slack p99 at {STEADY_RATE} alerts/s"), "ms", |f| f.p99, "—".into());
        }
        _ => println!("| not measured: set HERALD_TEST_DATABASE_URL (cargo xtask bench does) | | | | |"),
    }
}

/// Herald's own figures, in a fresh run: ingest (stored durably, routed
/// nowhere), idle memory and the console's size.
async fn herald_only(run: &Run) -> Vec<(String, String, String)> {
    let herald = &run.replicas[0];
    let mut rows = Vec::new();
    let (_, idle_rss, _) = herald.usage();
    let post = |body: &Value| herald.http.post(herald.url("/api/alerts")).bearer_auth(&run.token).json(body);
    let singles = (0..2_000).map(|i| post(&alert(format!("single {i}"), vec![]))).collect();
    let took = post_all(singles, 32).await;
    rows.push(("ingest, one alert per request (32 clients)".into(), format!("{:.0} alerts/s", 2_000.0 / took.as_secs_f64()), "—".into()));
    let batches = (0..20)
        .map(|b| post(&json!({"alerts": (0..1_000).map(|i| alert(format!("batch {b}-{i}"), vec![])).collect::<Vec<_>>()})))
        .collect();
    let took = post_all(batches, 2).await;
    let batched = 20_000.0 / took.as_secs_f64();
    rows.push(("ingest, batches of 1,000".into(), format!("{batched:.0} alerts/s"), mark(batched >= 5_000.0, "≥ 5,000 alerts/s")));
    rows.push(("RSS, idle".into(), format!("{idle_rss:.1} MB"), "—".into()));
    rows.push(match console_bytes(herald).await {
        Some(bytes) => {
            let kb = bytes as f64 / 1_000.0;
            ("web console, first visit (every file, brotli)".into(), format!("{kb:.1} KB"), mark(kb <= 200.0, "≤ 200 KB"))
        }
        None => ("web console, first visit".into(), "not measured: no app built (cargo xtask build-app)".into(), "≤ 200 KB".into()),
    });
    rows
}

/// `prometheus-alertmanager --version`'s number.
fn alertmanager_version() -> Option<String> {
    let out = Command::new(alertmanager::binary()?).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some(text.split_whitespace().skip_while(|w| *w != "version").nth(1)?.to_owned())
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
