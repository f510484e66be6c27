//! The router's rules, without a network or a built web app: which paths
//! get the app, which get JSON, and how long each may be cached.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use herald_server::settings::Settings;
use herald_server::{AppState, http};
use tower::ServiceExt as _;

const INDEX: &str = "<!doctype html><title>Herald test app</title>";

struct Fixture {
    _data: tempfile::TempDir,
    dist: tempfile::TempDir,
    state: AppState,
}

async fn fixture() -> Fixture {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), INDEX).unwrap();
    std::fs::write(dist.path().join("app-0123456789abcdef.js"), "export {}").unwrap();
    std::fs::write(dist.path().join("favicon.svg"), "<svg/>").unwrap();
    let settings = Settings::from_flags([
        format!("--database-url=sqlite://{}", data.path().join("h.db").display()),
        format!("--secret-key-file={}", data.path().join("k").display()),
        format!("--dist-dir={}", dist.path().display()),
    ])
    .unwrap();
    let state = AppState::start(settings, "127.0.0.1:8080".parse().unwrap()).await.unwrap();
    Fixture { _data: data, dist, state }
}

async fn get(state: &AppState, path: &str) -> (Response, String) {
    let response = http::router(state.clone()).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let text = String::from_utf8(to_bytes(body, usize::MAX).await.unwrap().to_vec()).unwrap();
    (Response::from_parts(parts, Body::empty()), text)
}

#[tokio::test]
async fn api_and_slack_paths_never_fall_back_to_the_app() {
    let f = fixture().await;
    for path in ["/api/unknown", "/api", "/slack/unknown"] {
        let (response, body) = get(&f.state, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json", "{path}");
        assert!(body.contains(r#""code":"not_found""#), "{path}: {body}");
    }
}

#[tokio::test]
async fn app_routes_get_index_html_and_are_revalidated() {
    let f = fixture().await;
    for path in ["/", "/destinations", "/destinations/new", "/destinations/new/slack-bot/step/5"] {
        let (response, body) = get(&f.state, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(body, INDEX, "{path}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache", "{path}");
    }
}

#[tokio::test]
async fn files_are_served_and_missing_files_are_404s() {
    let f = fixture().await;
    let (hashed, body) = get(&f.state, "/app-0123456789abcdef.js").await;
    assert_eq!(body, "export {}");
    assert_eq!(hashed.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    let (plain, _) = get(&f.state, "/favicon.svg").await;
    assert_eq!(plain.headers()[header::CACHE_CONTROL], "no-cache");
    let (missing, body) = get(&f.state, "/app-fedcba9876543210.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(!body.contains(INDEX));
}

#[tokio::test]
async fn without_a_built_app_the_page_says_how_to_build_it() {
    let f = fixture().await;
    std::fs::remove_file(f.dist.path().join("index.html")).unwrap();
    let (response, body) = get(&f.state, "/destinations").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("cargo xtask build") && body.contains("HERALD_DIST_DIR"), "{body}");
}

#[tokio::test]
async fn a_missing_or_different_secret_key_is_refused_at_start_up() {
    let f = fixture().await;
    let settings = f.state.settings.clone();
    drop(f.state);
    let addr = "127.0.0.1:8080".parse().unwrap();

    std::fs::remove_file(&settings.secret_key_file).unwrap();
    let err = format!("{:#}", AppState::start(settings.clone(), addr).await.err().expect("refused"));
    assert!(err.contains("is missing") && err.contains("restore the key file"), "{err}");
    assert!(!settings.secret_key_file.exists(), "no new key replaces the lost one");

    std::fs::write(&settings.secret_key_file, "ab".repeat(32)).unwrap();
    let err = format!("{:#}", AppState::start(settings, addr).await.err().expect("refused"));
    assert!(err.contains("not the key the database's secrets were sealed with"), "{err}");
}
