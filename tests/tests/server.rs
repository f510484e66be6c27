//! The server over real HTTP: health, the web app and its fallback rules,
//! API errors, headers, shutdown.

use herald_tests::database::{Backend, backend};
use herald_tests::{FakeSlack, Herald};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use serde_json::Value;

async fn herald() -> (FakeSlack, Herald) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    (slack, herald)
}

#[tokio::test]
async fn healthz_answers_ok_when_the_database_answers() {
    let (_slack, herald) = herald().await;
    let response = herald.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

/// One SQLite file takes one server; one PostgreSQL database takes several.
#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_is_refused_and_the_first_keeps_serving() {
    let (_slack, herald) = herald().await;
    if backend() == Backend::Postgres {
        let replica = herald.replica().await;
        assert_eq!(replica.get("/healthz").await.status(), StatusCode::OK, "a second replica on the same database serves");
        assert_eq!(herald.get("/healthz").await.status(), StatusCode::OK);
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error = herald_server::run(listener, herald.settings().clone(), std::future::pending()).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("Another Herald server is already using the database"), "{message}");
    assert!(message.contains(&format!("(process {})", std::process::id())) && message.contains("PostgreSQL"), "{message}");
    assert_eq!(herald.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_first_start_creates_the_database_and_the_secret_key() {
    let (_slack, herald) = herald().await;
    assert!(herald.data_dir.path().join("secret.key").is_file());
    if backend() == Backend::Postgres {
        let database = herald.database().await;
        assert_eq!(database.count("SELECT count(*) FROM settings WHERE name = 'key_check'").await, 1, "migrated, and the key checked in");
        return;
    }
    assert!(herald.data_dir.path().join("herald.db").is_file());
    // WAL mode keeps a -wal file beside the database while it is open.
    assert!(herald.data_dir.path().join("herald.db-wal").is_file());
}

#[tokio::test]
async fn a_wrong_method_on_an_api_route_is_a_json_405() {
    let (_slack, herald) = herald().await;
    let response = herald.sign_in_as_admin().await.delete("/api/destinations").await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn a_query_string_that_does_not_parse_is_refused_in_the_api_error_shape() {
    let (_slack, herald) = herald().await;
    let response = herald.sign_in_as_admin().await.get("/api/alerts?limit=many").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_query");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("The query string is not valid: ") && message.contains("limit"), "{message}");
}

#[tokio::test]
async fn app_routes_get_index_html_so_deep_links_and_reloads_work() {
    let (_slack, herald) = herald().await;
    let index = std::fs::read_to_string(herald_tests::herald::dist_dir().join("index.html")).unwrap();
    for path in ["/", "/destinations", "/destinations/new", "/alerts/b90c19e6"] {
        let response = herald.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{path}");
        assert_eq!(response.text().await.unwrap(), index, "{path}");
    }
}

#[tokio::test]
async fn the_api_lists_no_destinations_on_a_new_database() {
    let (_slack, herald) = herald().await;
    let admin = herald.sign_in_as_admin().await;
    let body: Value = admin.get("/api/destinations").await.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"destinations": []}));
}

/// The hashed files index.html points at.
fn hashed_assets() -> Vec<String> {
    let names: Vec<String> = std::fs::read_dir(herald_tests::herald::dist_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| herald_model::assets::is_hashed_name(n) && !n.ends_with(".br") && !n.ends_with(".gz"))
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".wasm")), "no .wasm in dist: {names:?}");
    names
}

#[tokio::test]
async fn hashed_files_are_cached_for_a_year_and_served_precompressed() {
    let (_slack, herald) = herald().await;
    for name in hashed_assets() {
        let path = format!("/{name}");
        let plain = herald.http.get(herald.url(&path)).header("accept-encoding", "identity").send().await.unwrap();
        assert_eq!(plain.status(), StatusCode::OK, "{path}");
        assert_eq!(plain.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable", "{path}");
        let plain_len = plain.bytes().await.unwrap().len();

        let brotli = herald.http.get(herald.url(&path)).header("accept-encoding", "br").send().await.unwrap();
        assert_eq!(brotli.status(), StatusCode::OK, "{path}");
        assert_eq!(brotli.headers()[CONTENT_ENCODING], "br", "{path}");
        assert!(brotli.bytes().await.unwrap().len() < plain_len, "{path}");

        let gzip = herald.http.get(herald.url(&path)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip", "{path}");
    }
    let wasm = hashed_assets().into_iter().find(|n| n.ends_with(".wasm")).unwrap();
    let response = herald.get(&format!("/{wasm}")).await;
    assert_eq!(response.headers()[CONTENT_TYPE], "application/wasm");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (_slack, herald) = herald().await;
    for path in ["/", "/healthz", "/api/destinations", "/api/unknown"] {
        let response = herald.get(path).await;
        let headers = response.headers();
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        if path != "/" {
            assert_eq!(headers[CACHE_CONTROL], "no-store", "{path}: API answers are never cached");
        }
    }
}

#[tokio::test]
async fn index_html_has_no_inline_script_or_style_for_the_csp_to_block() {
    let (_slack, herald) = herald().await;
    let html = herald.get("/").await.text().await.unwrap();
    assert!(!html.contains("<style"), "{html}");
    for script in html.split("<script").skip(1) {
        let tag_end = script.find('>').unwrap();
        assert!(script[..tag_end].contains("src="), "inline script in {html}");
        assert!(script[tag_end + 1..].trim_start().starts_with("</script>"), "inline script in {html}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let (_slack, herald) = herald().await;
    let big = vec![b'x'; herald_server::http::BODY_LIMIT + 1];
    let response = herald.http.post(herald.url("/api/destinations")).body(big).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("2 MiB"), "{body}");
}

#[tokio::test]
async fn shutting_down_finishes_cleanly() {
    let (_slack, herald) = herald().await;
    let url = herald.url("/healthz");
    let http = herald.http.clone();
    herald.stop().await.expect("a clean stop");
    assert!(http.get(url).send().await.is_err(), "still answering after shutdown");
}

#[tokio::test]
async fn the_app_icon_is_a_square_png_of_at_least_512_pixels() {
    let (_slack, herald) = herald().await;
    let response = herald.get("/herald-icon.png").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/png");
    let png = response.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(width, height);
    assert!(width >= 512, "{width}");
}

#[tokio::test]
async fn idle_and_trickling_connections_do_not_stop_an_ingest_request_from_answering() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.header_timeout = std::time::Duration::from_secs(1)).await;
    let admin = herald.sign_in_as_admin().await;
    let token = admin.api_token().await;
    let address = herald.base_url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..500 {
        let mut connection = tokio::net::TcpStream::connect(&address).await.expect("a connection");
        if i % 2 == 1 {
            // A slow client: the headers begin, and never end.
            connection.write_all(b"POST /api/alerts HTTP/1.1\r\nHost: herald\r\nContent-Type: app").await.unwrap();
        }
        held.push(connection);
    }
    let answered = herald.send_alerts(&token, &serde_json::json!({"title": "Still heard", "severity": "HIGH"})).await;
    assert_eq!(answered.status(), StatusCode::ACCEPTED, "an ingest request answers while 500 others hang");

    // The header timeout closes a slow client's connection (with a 408 or
    // without a word), rather than holding it forever.
    let mut slow = held.swap_remove(1);
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closed the slow connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn slack_s_endpoints_read_at_most_64_kib() {
    let (_slack, herald) = herald().await;
    let big = "x".repeat(65 * 1024);
    let response = herald.http.post(herald.url("/slack/events")).body(big).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let small = herald.http.post(herald.url("/slack/events")).body("{}").send().await.unwrap();
    assert_eq!(small.status(), StatusCode::UNAUTHORIZED, "a small unsigned body is read, and refused for its signature");
}

#[tokio::test]
async fn metrics_can_ask_for_a_token_and_https_sites_ask_browsers_to_stay_on_https() {
    let slack = FakeSlack::start().await;
    let token = herald_server::settings::MetricsToken("scrape-0123456789abcdef".into());
    let herald = Herald::start_with(&slack, |s| {
        s.metrics_token = Some(token);
        s.public_url = Some("https://herald.acme.example".parse().unwrap());
    })
    .await;
    assert_eq!(herald.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let wrong = herald.http.get(herald.url("/metrics")).bearer_auth("scrape-wrong").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scraped = herald.http.get(herald.url("/metrics")).bearer_auth("scrape-0123456789abcdef").send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("herald_delivery_queue_depth"));
    let page = herald.get("/healthz").await;
    assert_eq!(page.headers()["strict-transport-security"], "max-age=31536000");

    let (_slack, plain) = self::herald().await;
    assert!(plain.get("/healthz").await.headers().get("strict-transport-security").is_none(), "not over plain http");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_the_key_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_slack, herald) = herald().await;
    let files: &[&str] = if backend() == Backend::Sqlite { &["herald.db", "secret.key"] } else { &["secret.key"] };
    for file in files {
        let mode = std::fs::metadata(herald.data_dir.path().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: {mode:o}");
    }
}
