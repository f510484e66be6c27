//! The setup wizard's server side: the Slack app manifest.

use herald_tests::database::{Backend, backend};
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
    assert!(yaml["text"].as_str().unwrap().contains("request_url: \"https://herald.acme.example/slack/events\""), "{yaml}");
    assert_eq!(yaml["botDisplayName"], "herald");
    assert!(yaml.get("warning").is_none());

    let json: Value = admin.get("/api/slack/manifest?format=json&name=Acme%20SecOps&enterpriseGrid=true").await.json().await.unwrap();
    let manifest: Value = serde_json::from_str(json["text"].as_str().unwrap()).unwrap();
    assert_eq!(manifest["display_information"]["name"], "Acme SecOps");
    assert_eq!(manifest["settings"]["org_deploy_enabled"], true);
    assert_eq!(json["botDisplayName"], "acme-secops");

    // A name Slack would not take is changed, and the wizard says so.
    let cut: Value = admin.get(&format!("/api/slack/manifest?name={}", "x".repeat(40))).await.json().await.unwrap();
    assert!(cut["warning"].as_str().unwrap().contains("at most 35 characters"), "{cut}");
}

#[tokio::test]
async fn a_plain_http_public_url_comes_with_a_warning() {
    let (_slack, _herald, admin) = signed_in().await;
    let response = admin.get("/api/slack/manifest").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["warning"].as_str().unwrap().contains("HERALD_PUBLIC_URL"), "{body}");
}

use herald_model::destination::{AlertKind, Severity, SlackBotForm};
use herald_tests::Session;
use herald_tests::fake_slack::defaults;
use herald_tests::fixtures::{With, slack_bot};
use serde_json::json;

const CLIENT_SECRET: &str = defaults::CLIENT_SECRET;
const SIGNING_SECRET: &str = defaults::SIGNING_SECRET;
const BOT_TOKEN: &str = defaults::BOT_TOKEN;

fn form(name: &str, channel: &str) -> SlackBotForm {
    slack_bot(name, channel).with(|s| {
        s.severities = vec![Severity::High, Severity::Critical];
        s.alert_kinds = vec![AlertKind::Alerts, AlertKind::SystemErrors];
        s.log_types = vec!["AWS.CloudTrail".to_owned(), "Okta.SystemLog".to_owned()];
        s.timezone = "Europe/Berlin".to_owned();
    })
}

/// Herald with a signed-in admin.
async fn signed_in() -> (FakeSlack, Herald, Session) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    (slack, herald, admin)
}

async fn new_draft(admin: &Session) -> Value {
    let response = admin.post("/api/destinations", json!({"kind": "SLACK_BOT"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in [CLIENT_SECRET, SIGNING_SECRET, BOT_TOKEN] {
        assert!(!text.contains(secret), "{what} contains a secret");
    }
}

#[tokio::test]
async fn a_draft_keeps_its_step_and_values_as_typed() {
    let (_slack, _herald, admin) = signed_in().await;
    let draft = new_draft(&admin).await;
    assert_eq!((draft["status"].as_str(), draft["wizardStep"].as_u64()), (Some("DRAFT"), Some(1)));
    assert_eq!(draft["timezone"], "UTC");
    let id = draft["id"].as_str().unwrap();

    let half_typed = json!({"step": 5, "form": {"displayName": "Sec", "channel": "#Sec Al", "clientSecret": CLIENT_SECRET}});
    let saved: Value = admin.patch(&format!("/api/destinations/{id}/draft"), half_typed).await.json().await.unwrap();
    assert_eq!(saved["wizardStep"], 5);

    let again: Value = admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    assert_eq!((again["displayName"].as_str(), again["channel"].as_str()), (Some("Sec"), Some("#Sec Al")), "kept as typed");
    assert_eq!(again["wizardStep"], 5);
    assert_eq!(again["clientSecret"]["set"], false, "a draft save never stores secrets");

    let listed: Value = admin.get("/api/destinations").await.json().await.unwrap();
    assert_eq!(listed["destinations"][0]["status"], "DRAFT");
    assert_eq!(listed["destinations"][0]["wizardStep"], 5);

    let bad_step = admin.patch(&format!("/api/destinations/{id}/draft"), json!({"step": 9, "form": {}})).await;
    assert_eq!(bad_step.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn settings_are_checked_field_by_field_and_secrets_come_back_only_as_hints() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/destinations/{id}");

    let mut wrong = form("Security alerts", "#Sec Alerts");
    wrong.settings.timezone = "Mars/Olympus".to_owned();
    let response = admin.request(reqwest::Method::PUT, &path).json(&wrong).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert_no_secret(&body, "an error answer");
    let error: Value = serde_json::from_str::<Value>(&body).unwrap()["error"].clone();
    let fields: Vec<&str> = error["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["channel", "timezone"]);
    assert!(error["fields"][0]["message"].as_str().unwrap().contains("#sec-alerts"), "{error}");

    // Nothing was stored but the draft's values as typed; the secrets wait
    // in the form until the whole save works.
    let kept: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(kept["channel"], "#Sec Alerts");
    assert_eq!(kept["botToken"]["set"], false);
    let fixed = form("Security alerts", "#sec-alerts");
    let response = admin.request(reqwest::Method::PUT, &path).json(&fixed).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert_no_secret(&body, "the saved destination");
    let saved: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(saved["wizardStep"], 6, "next: invite the bot");
    assert_eq!(saved["severities"], json!(["HIGH", "CRITICAL"]));
    assert_eq!(saved["clientSecret"]["hint"], format!("••••{}", &CLIENT_SECRET[28..]));

    let finished: Value = admin.post(&format!("{path}/finish"), json!({})).await.json().await.unwrap();
    assert_eq!(finished["status"], "ACTIVE");
    let listed = admin.get("/api/destinations").await.text().await.unwrap();
    assert_no_secret(&listed, "the list");
    assert_no_secret(&herald_tests::logs(), "the log");
}

#[tokio::test]
async fn a_value_of_the_wrong_kind_is_refused_with_its_field_named() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let body = json!({"displayName": "Security alerts", "severities": ["HIGH", "URGENT"]});
    let response = admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json::<Value>().await.unwrap()["error"].clone();
    assert_eq!(error["code"], "invalid_body");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("severities[1]") && message.contains("URGENT"), "{message}");
}

#[tokio::test]
async fn channel_names_are_what_slack_allows_and_a_name_must_show_something() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/destinations/{id}");
    for channel in ["*", "#sec\u{0}alerts", "#\u{202e}strela", "#sec+alerts", "#a:b"] {
        let response = admin.request(reqwest::Method::PUT, &path).json(&form("Security alerts", channel)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{channel:?}");
        let error: Value = response.json::<Value>().await.unwrap()["error"].clone();
        assert_eq!(error["field"], "channel", "{channel:?}: {error}");
        assert!(error["message"].as_str().unwrap().contains("lower-case letters, numbers, - and _"), "{error}");
    }
    for name in ["\u{200b}", "\u{200c}\u{200d}", " \u{2060}\u{feff} "] {
        let response = admin.request(reqwest::Method::PUT, &path).json(&form(name, "#sec-alerts")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let error: Value = response.json::<Value>().await.unwrap()["error"].clone();
        assert_eq!(error["field"], "displayName", "{name:?}: {error}");
    }
    let fine = admin.request(reqwest::Method::PUT, &path).json(&form("Sécurité", "#sécurité_1-a")).send().await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK, "letters of any script, digits, - and _");
}

#[tokio::test]
async fn a_second_destination_reuses_the_stored_slack_app() {
    let (_slack, _herald, admin) = signed_in().await;
    let first = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let response = admin
        .request(reqwest::Method::PUT, &format!("/api/destinations/{first}"))
        .json(&form("First", "#sec-alerts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let second = new_draft(&admin).await;
    assert_eq!(second["clientId"], defaults::CLIENT_ID, "pre-filled from the stored app");
    for secret in ["clientSecret", "signingSecret", "botToken"] {
        assert_eq!(second[secret]["set"], true, "{secret}");
    }
    let app: Value = admin.get("/api/slack/app").await.json().await.unwrap();
    assert_eq!(app["clientId"], defaults::CLIENT_ID);

    let only_name_and_channel = json!({
        "displayName": "Second", "channel": "C0GENERAL1", "clientId": defaults::CLIENT_ID,
        "severities": ["CRITICAL"], "alertKinds": ["ALERTS"], "timezone": "UTC",
    });
    let id = second["id"].as_str().unwrap();
    let response =
        admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}")).json(&only_name_and_channel).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let saved: Value = response.json().await.unwrap();
    assert_eq!(saved["signingSecret"]["hint"], format!("••••{}", &SIGNING_SECRET[28..]), "the shared secrets, kept");
    let first_now: Value = admin.get(&format!("/api/destinations/{first}")).await.json().await.unwrap();
    assert_eq!((first_now["displayName"].as_str(), first_now["channel"].as_str()), (Some("First"), Some("#sec-alerts")));
}

#[tokio::test]
async fn a_failed_edit_leaves_a_live_destination_as_it_was() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/destinations/{id}");
    admin.request(reqwest::Method::PUT, &path).json(&form("Alerts", "#sec-alerts")).send().await.unwrap();
    assert_eq!(admin.post(&format!("{path}/finish"), json!({})).await.status(), StatusCode::OK);

    let mut broken = form("", "#Bad Name");
    broken.bot_token = Some("xoxb-a-new-token-typed-during-a-failed-edit".to_owned());
    let response = admin.request(reqwest::Method::PUT, &path).json(&broken).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let after: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!((after["displayName"].as_str(), after["channel"].as_str()), (Some("Alerts"), Some("#sec-alerts")));
    assert_eq!(after["botToken"]["hint"], format!("••••{}", &BOT_TOKEN[BOT_TOKEN.len() - 4..]), "the shared token is unchanged");
    assert_eq!(after["status"], "ACTIVE");

    let late_autosave = admin.patch(&format!("{path}/draft"), json!({"step": 5, "form": {"displayName": "x"}})).await;
    let (status, body) = (late_autosave.status(), late_autosave.json::<Value>().await.unwrap());
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_a_draft")));
}

#[tokio::test]
async fn a_draft_s_step_only_moves_forward_and_never_keeps_a_pasted_secret() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let draft = format!("/api/destinations/{id}/draft");
    admin.patch(&draft, json!({"step": 6, "form": {}})).await;
    let back: Value = admin.patch(&draft, json!({"step": 5, "form": {"displayName": "Later"}})).await.json().await.unwrap();
    assert_eq!((back["wizardStep"].as_u64(), back["displayName"].as_str()), (Some(6), Some("Later")), "resume at the furthest step");

    let pasted = admin.patch(&draft, json!({"step": 5, "form": {"channel": BOT_TOKEN}})).await;
    let (status, body) = (pasted.status(), pasted.json::<Value>().await.unwrap());
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("channel")));
    assert_no_secret(&admin.get(&format!("/api/destinations/{id}")).await.text().await.unwrap(), "the draft");
}

#[tokio::test]
async fn setup_cannot_finish_before_the_settings_are_complete() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let response = admin.post(&format!("/api/destinations/{id}/finish"), json!({})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json::<Value>().await.unwrap()["error"].clone();
    assert!(error["message"].as_str().unwrap().starts_with("Setup is not complete yet"), "{error}");
    let conflict = admin.post(&format!("/api/destinations/{id}/disable"), json!({})).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_finished_destination_can_be_disabled_enabled_and_deleted() {
    let (_slack, _herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/destinations/{id}");
    admin.request(reqwest::Method::PUT, &path).json(&form("Alerts", "#sec-alerts")).send().await.unwrap();
    admin.post(&format!("{path}/finish"), json!({})).await;

    let disabled: Value = admin.post(&format!("{path}/disable"), json!({})).await.json().await.unwrap();
    assert_eq!(disabled["status"], "DISABLED");
    let enabled: Value = admin.post(&format!("{path}/enable"), json!({})).await.json().await.unwrap();
    assert_eq!(enabled["status"], "ACTIVE");
    assert_eq!(admin.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.delete(&path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_database_never_holds_a_secret_in_plain_text() {
    let (_slack, herald, admin) = signed_in().await;
    let id = new_draft(&admin).await["id"].as_str().unwrap().to_owned();
    // Secrets arrive every way they can: in a draft save (ignored), in a
    // failed save, in a good one.
    let with_secrets = json!({"step": 5, "form": form("Alerts", "#sec-alerts")});
    assert_eq!(admin.patch(&format!("/api/destinations/{id}/draft"), with_secrets).await.status(), StatusCode::OK);
    let failing =
        admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}")).json(&form("Alerts", "#Bad Name")).send().await.unwrap();
    assert_eq!(failing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response =
        admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}")).json(&form("Alerts", "#sec-alerts")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token =
        admin.post("/api/tokens", json!({"name": "pipeline"})).await.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();

    // SQLite: the database file and its write-ahead log, byte for byte
    // (deleted rows included). PostgreSQL: every row of every table.
    let mut bytes = Vec::new();
    if backend() == Backend::Sqlite {
        for file in ["herald.db", "herald.db-wal"] {
            if let Ok(content) = std::fs::read(herald.data_dir.path().join(file)) {
                bytes.extend(content);
            }
        }
    } else {
        let database = herald.database().await;
        bytes = database.every_row().await.into_bytes();
        database.close().await;
    }
    assert!(bytes.len() > 1000, "read the database");
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for secret in [CLIENT_SECRET, SIGNING_SECRET, BOT_TOKEN, token.as_str(), herald_tests::herald::ADMIN_PASSWORD] {
        assert!(!contains(secret), "the database holds a secret in plain text");
    }
    assert!(contains(defaults::CLIENT_ID), "(the check does see plain values)");
}

#[tokio::test]
async fn the_time_zone_list_is_the_iana_database() {
    let (_slack, _herald, admin) = signed_in().await;
    let list: Value = admin.get("/api/timezones").await.json().await.unwrap();
    let zones: Vec<&str> = list["timezones"].as_array().unwrap().iter().map(|z| z.as_str().unwrap()).collect();
    for zone in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"] {
        assert!(zones.contains(&zone), "{zone}");
    }
    assert!(zones.len() > 300);
}
