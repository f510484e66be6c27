//! The setup wizard's server side: the Slack app manifest.

use herald_tests::{FakeSlack, Herald};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn the_manifest_comes_as_yaml_or_json_for_herald_s_public_url() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.public_url = Some("https://herald.acme.example".parse().unwrap())).await;
    let admin = herald.sign_in_as_admin().await;

    let yaml: Value = admin.get("/api/slack/manifest").await.json().await.unwrap();
    assert_eq!(yaml["format"], "yaml");
    assert!(yaml["text"].as_str().unwrap().contains("request_url: https://herald.acme.example/slack/events"), "{yaml}");
    assert_eq!(yaml["botDisplayName"], "herald");
    assert!(yaml.get("warning").is_none());

    let json: Value = admin.get("/api/slack/manifest?format=json&name=Acme%20SecOps&enterpriseGrid=true").await.json().await.unwrap();
    let manifest: Value = serde_json::from_str(json["text"].as_str().unwrap()).unwrap();
    assert_eq!(manifest["display_information"]["name"], "Acme SecOps");
    assert_eq!(manifest["settings"]["org_deploy_enabled"], true);
    assert_eq!(json["botDisplayName"], "acme-secops");
}

#[tokio::test]
async fn a_plain_http_public_url_comes_with_a_warning() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let response = admin.get("/api/slack/manifest").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["warning"].as_str().unwrap().contains("HERALD_PUBLIC_URL"), "{body}");
}
