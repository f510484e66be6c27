//! Slack's Events API: only verified requests are read, the URL check is
//! answered, and uninstalls or revoked tokens show on the destination.

use herald_tests::fake_slack::{defaults, unix_now};
use herald_tests::fixtures::slack_bot;
use herald_tests::{FakeSlack, Herald, Session};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn herald_with_app() -> (FakeSlack, Herald, Session, String) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let id = admin.add_draft().await;
    admin.save_settings(&id, &slack_bot("Alerts", "#general")).await;
    (slack, herald, admin, id)
}

#[tokio::test]
async fn the_url_check_is_answered_with_the_challenge() {
    let (slack, herald, _admin, _id) = herald_with_app().await;
    let response = slack
        .verify_url(&herald.url("/slack/events"), defaults::SIGNING_SECRET, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["challenge"], "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
}

#[tokio::test]
async fn unsigned_tampered_stale_future_and_foreign_requests_are_refused() {
    let (slack, herald, _admin, _id) = herald_with_app().await;
    let url = herald.url("/slack/events");
    let body = json!({"type": "url_verification", "challenge": "x"}).to_string();

    let unsigned = herald.http.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let timestamp = unix_now().to_string();
    let signature = herald_tests::fake_slack::sign(defaults::SIGNING_SECRET, &timestamp, body.as_bytes());
    let tampered = herald
        .http
        .post(&url)
        .header("X-Slack-Request-Timestamp", &timestamp)
        .header("X-Slack-Signature", &signature)
        .body(body.replace("\"x\"", "\"y\""))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), StatusCode::UNAUTHORIZED);

    for skew in [-301i64, 301] {
        let at = (unix_now() as i64 + skew) as u64;
        let response = slack.post_signed_at(&url, defaults::SIGNING_SECRET, "application/json", body.clone(), None, at).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "skew {skew}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"]["message"].as_str().unwrap().contains("five minutes"), "{error}");
    }
    let at_edge = slack.post_signed_at(&url, defaults::SIGNING_SECRET, "application/json", body.clone(), None, unix_now() - 290).await;
    assert_eq!(at_edge.status(), StatusCode::OK, "within the window");

    let foreign = slack.post_signed(&url, "0000000000000000000000000000000f", "application/json", body, None).await;
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_uninstalled_app_shows_on_its_destination_and_a_retry_changes_nothing() {
    let (slack, herald, admin, id) = herald_with_app().await;
    let url = herald.url("/slack/events");
    let (_event_id, body, response) = slack.send_event(&url, defaults::SIGNING_SECRET, json!({"type": "app_uninstalled"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = admin.get("/api/destinations").await.json().await.unwrap();
    let problem = list["destinations"][0]["problem"].as_str().unwrap().to_owned();
    assert!(problem.starts_with("Disconnected") && problem.contains("Reinstall"), "{problem}");
    // Herald's own problem, raised as a system error alert.
    let system_errors = || async {
        let alerts: Value = admin.get("/api/alerts?severity=CRITICAL").await.json().await.unwrap();
        alerts["alerts"].as_array().unwrap().iter().filter(|a| a["type"] == "SYSTEM_ERROR").cloned().collect::<Vec<_>>()
    };
    let raised = system_errors().await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert!(raised[0]["title"].as_str().unwrap().contains("disconnected"), "{raised:?}");

    // Reinstalled: a new token is saved, and the problem goes.
    let saved = admin
        .request(reqwest::Method::PUT, &format!("/api/destinations/{id}"))
        .json(&slack_bot("Alerts", "#general"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(saved.json::<Value>().await.unwrap().get("problem").is_none());

    // Slack retries the old event: acknowledged, and nothing changes.
    let retry = slack.resend_event(&url, defaults::SIGNING_SECRET, body, 1).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let list: Value = admin.get("/api/destinations").await.json().await.unwrap();
    assert!(list["destinations"][0].get("problem").is_none(), "{list}");

    let (_, _, revoked) = slack
        .send_event(&url, defaults::SIGNING_SECRET, json!({"type": "tokens_revoked", "tokens": {"bot": [defaults::BOT_USER_ID]}}))
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let view: Value = admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    assert!(view["problem"].as_str().unwrap().contains("revoked"), "{view}");
    assert_eq!(system_errors().await.len(), 2, "a new cause, raised once more");
    let (_, _, again) = slack
        .send_event(&url, defaults::SIGNING_SECRET, json!({"type": "tokens_revoked", "tokens": {"bot": [defaults::BOT_USER_ID]}}))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(system_errors().await.len(), 2, "the same cause is not raised again");
}

#[tokio::test]
async fn with_a_pasted_token_news_from_another_workspace_or_about_another_bot_changes_nothing() {
    // The token was pasted in the form, not installed through OAuth.
    let (slack, herald, admin, id) = herald_with_app().await;
    let url = herald.url("/slack/events");
    let (_, _, uninstalled) = slack.send_event_from("T0EVIL001", &url, defaults::SIGNING_SECRET, json!({"type": "app_uninstalled"})).await;
    assert_eq!(uninstalled.status(), StatusCode::OK, "acknowledged, so Slack does not retry");
    let revoked_other = json!({"type": "tokens_revoked", "tokens": {"bot": ["U0SOMEBOT9"]}});
    let (_, _, revoked) = slack.send_event(&url, defaults::SIGNING_SECRET, revoked_other).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let view: Value = admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    assert!(view.get("problem").is_none_or(Value::is_null), "nothing changed: {view}");

    // The same news from the token's own workspace is believed.
    let (_, _, ours) = slack.send_event(&url, defaults::SIGNING_SECRET, json!({"type": "app_uninstalled"})).await;
    assert_eq!(ours.status(), StatusCode::OK);
    let view: Value = admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    assert!(view["problem"].as_str().is_some_and(|p| p.starts_with("Disconnected")), "{view}");
}

#[tokio::test]
async fn unsigned_slack_traffic_is_logged_at_most_once_a_minute() {
    let (_slack, herald, _admin, _id) = herald_with_app().await;
    for _ in 0..20 {
        let response = herald.http.post(herald.url("/slack/events")).body("{}").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let logs = herald_tests::logs();
    let warnings = logs.matches("refused a request claiming to come from Slack (this warning comes at most once a minute)").count();
    // This test binary runs well within a minute, whatever else it sends.
    assert_eq!(warnings, 1, "one warning for a flood, not one a request");
}

#[tokio::test]
async fn a_bot_joining_a_channel_is_acknowledged() {
    let (slack, herald, _admin, _id) = herald_with_app().await;
    let response =
        slack.join_and_notify(&herald.url("/slack/events"), defaults::SIGNING_SECRET, defaults::SEC_ALERTS, defaults::BOT_USER_ID).await;
    assert_eq!(response.status(), StatusCode::OK);
}
