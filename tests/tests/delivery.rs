//! Alerts from `POST /api/alerts` to Slack: routing, de-duplication, Slack's
//! rate limits and failures, Herald's own problems raised as system errors,
//! and nothing lost across a crash — against the fake Slack.

use std::time::{Duration, Instant};

use herald_model::destination::{AlertKind, Severity, SlackBotForm};
use herald_tests::fake_slack::{Fault, defaults};
use herald_tests::fixtures::{With, slack_bot};
use herald_tests::poll;
use herald_tests::scene::Scene;
use herald_tests::{FakeSlack, Herald};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECOND_APP: &str = "3333333333.4444444444";
const SECOND_SECRET: &str = "abcdefabcdefabcdefabcdefabcdef12";
const SECOND_TOKEN: &str = "xoxb-3333333333-4444444444-secondbottoken01";

fn settings(name: &str, channel: &str, severities: &[Severity], kinds: &[AlertKind], log_types: &[&str]) -> SlackBotForm {
    slack_bot(name, channel).with(|s| {
        s.severities = severities.to_vec();
        s.alert_kinds = kinds.to_vec();
        s.log_types = log_types.iter().map(|t| (*t).to_owned()).collect();
        s.timezone = "Europe/Berlin".to_owned();
    })
}

/// The same, through a second Slack app with its own bot token.
fn second_app(settings: SlackBotForm) -> SlackBotForm {
    SlackBotForm {
        client_secret: Some(SECOND_SECRET.to_owned()),
        bot_token: Some(SECOND_TOKEN.to_owned()),
        ..settings.with(|s| s.client_id = SECOND_APP.to_owned())
    }
}

async fn scene(adjust: impl FnOnce(&mut herald_server::Settings)) -> Scene {
    let slack = FakeSlack::start().await;
    slack.add_app(SECOND_APP, SECOND_SECRET);
    slack.add_bot_token(SECOND_TOKEN);
    let herald = Herald::start_with(&slack, adjust).await;
    Scene::new(slack, herald).await
}

fn fast_retries(s: &mut herald_server::Settings) {
    s.delivery_retry_base = Duration::from_millis(50);
}

fn alert_id(answer: &Value, i: usize) -> String {
    answer["alerts"][i]["alertId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_alert_reaches_slack_as_an_interactive_message_with_the_time_in_the_destination_s_zone() {
    let s = scene(|_| {}).await;
    s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let (status, answer) = s
        .send(json!({
            "title": "Suspicious <!channel> login", "severity": "high", "detectionId": "AWS.Console.LoginWithoutMFA",
            "logTypes": ["AWS.CloudTrail"], "description": "From 203.0.113.7", "createdAt": "2026-11-29T08:00:00Z",
        }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["alerts"][0]["created"], true);
    assert_eq!(answer["alerts"][0]["deliveries"], 1);
    let id = alert_id(&answer, 0);
    let alert = s.until_delivered(&id, "SENT").await;
    let delivery = &alert["deliveries"][0];
    assert_eq!(delivery["slackChannel"], defaults::GENERAL);
    assert!(delivery["permalink"].as_str().unwrap().contains(defaults::GENERAL));

    let message = &s.slack.messages_in(defaults::GENERAL)[0];
    let text = message.text.as_deref().unwrap();
    assert!(text.contains("Suspicious &lt;!channel&gt; login"), "the fallback escapes the title: {text}");
    let blocks = serde_json::to_string(message.blocks.as_ref().unwrap()).unwrap();
    assert!(blocks.contains("2026-11-29 09:00 CET"), "the time in Europe/Berlin: {blocks}");
    assert!(blocks.contains(&format!("{}/alerts/{id}", s.herald.base_url)), "View in Herald links back: {blocks}");
    for action in ["alert.assign", "alert.status", "alert.resolve", "alert.details", "alert.boomerang"] {
        assert!(blocks.contains(action), "the {action} control: {blocks}");
    }
    // Slack parses nothing bare in the alert's text: every mrkdwn object is verbatim.
    let mrkdwn = blocks.matches("\"type\":\"mrkdwn\"").count();
    assert!(mrkdwn > 0 && blocks.matches("\"verbatim\":true").count() == mrkdwn, "verbatim mrkdwn: {blocks}");
}

#[tokio::test]
async fn a_reference_is_read_as_a_browser_reads_it_and_labelled_with_the_host_it_opens() {
    let s = scene(|_| {}).await;
    s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    // Browsers treat `\` as `/`: this opens evil.example, not docs.acme.example.
    let spoof = "https://evil.example\\@docs.acme.example/x";
    let (status, answer) = s.send(json!({"title": "Spoof", "severity": "HIGH", "reference": spoof})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let alert = s.until_delivered(&alert_id(&answer, 0), "SENT").await;
    assert_eq!(alert["reference"], "https://evil.example/@docs.acme.example/x", "kept as a browser reads it");
    let blocks = serde_json::to_string(s.slack.messages_in(defaults::GENERAL)[0].blocks.as_ref().unwrap()).unwrap();
    assert!(blocks.contains("<https://evil.example/@docs.acme.example/x|evil.example>"), "labelled with the real host: {blocks}");

    for bad in ["https://", "http://[::1", "https://exa mple.com"] {
        let (status, answer) = s.send(json!({"title": "Bad", "severity": "HIGH", "reference": bad})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
        assert!(answer.to_string().contains("reference"), "{bad}: the field is named: {answer}");
    }
}

#[tokio::test]
async fn alerts_go_where_the_filters_say_and_named_destinations_override_them() {
    let s = scene(|_| {}).await;
    let ops = s.slack.add_channel("ops", false);
    let cloud = s.slack.add_channel("cloud", false);
    let errors = s.slack.add_channel("errors", false);
    let off = s.slack.add_channel("off", false);
    s.admin.add_destination(&settings("Critical", "#ops", &[Severity::Critical], &[AlertKind::Alerts], &[])).await;
    let cloud_id = s
        .admin
        .add_destination(&settings(
            "Cloud",
            "#cloud",
            &[Severity::Low, Severity::High, Severity::Critical],
            &[AlertKind::Alerts],
            &["AWS.CloudTrail"],
        ))
        .await;
    s.admin
        .add_destination(&settings(
            "Errors",
            "#errors",
            &[Severity::Low, Severity::Medium, Severity::High, Severity::Critical],
            &[AlertKind::DetectionErrors],
            &[],
        ))
        .await;
    let off_id = s
        .admin
        .add_destination(&settings(
            "Off",
            "#off",
            &[Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical],
            &[AlertKind::Alerts],
            &[],
        ))
        .await;
    assert_eq!(s.admin.post(&format!("/api/destinations/{off_id}/disable"), json!({})).await.status(), StatusCode::OK);

    // (alert, how many destinations it is queued for)
    let table = [
        (json!({"title": "a", "severity": "CRITICAL", "logTypes": ["AWS.CloudTrail"]}), 2),
        (json!({"title": "b", "severity": "HIGH", "logTypes": ["Okta.SystemLog"]}), 0),
        (json!({"title": "c", "severity": "HIGH", "logTypes": ["aws.cloudtrail"]}), 1),
        (json!({"title": "d", "severity": "LOW", "type": "rule_error"}), 1),
        (json!({"title": "e", "severity": "INFO", "destinations": [cloud_id, off_id]}), 1),
    ];
    let (status, answer) = s.send(json!({"alerts": table.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>()})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    for (i, (alert, expected)) in table.iter().enumerate() {
        assert_eq!(answer["alerts"][i]["deliveries"], *expected, "alert {alert}");
    }
    s.until_messages_in(&ops, 1).await;
    s.until_messages_in(&cloud, 3).await;
    s.until_messages_in(&errors, 1).await;
    let titles = |channel: &str| -> Vec<String> {
        let mut t: Vec<String> = s.slack.messages_in(channel).iter().map(|m| m.text.clone().unwrap()).collect();
        t.sort();
        t
    };
    assert_eq!(titles(&ops), ["🔴 [CRITICAL] a"]);
    assert_eq!(titles(&cloud), ["⚪ [INFO] e", "🔴 [CRITICAL] a", "🟠 [HIGH] c"]);
    assert_eq!(titles(&errors), ["🔵 [LOW] d"]);
    assert!(s.slack.messages_in(&off).is_empty(), "a disabled destination receives nothing");
    // The INFO alert starts resolved; the others open.
    let list: Value = s.admin.get("/api/alerts?severity=INFO").await.json().await.unwrap();
    assert_eq!(list["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(list["alerts"][0]["status"], "RESOLVED");
}

#[tokio::test]
async fn a_repeated_alert_id_is_stored_once_and_notifies_once() {
    let s = scene(|_| {}).await;
    s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let alert = json!({"alertId": "b90c19e6", "title": "Login", "severity": "HIGH"});
    let (first, answer) = s.send(alert.clone()).await;
    assert_eq!(first, StatusCode::ACCEPTED);
    s.until_delivered("b90c19e6", "SENT").await;
    let (again, answer_again) = s.send(alert.clone()).await;
    assert_eq!(again, StatusCode::OK, "a repeat is not accepted as new: {answer_again}");
    assert_eq!(answer_again["alerts"][0], json!({"alertId": "b90c19e6", "created": false, "deliveries": 1, "folded": false}));
    // Within one batch too.
    let (batch, answer_batch) = s.send(json!({"alerts": [alert.clone(), {"alertId": "other", "title": "x", "severity": "HIGH"}, {"alertId": "other", "title": "x", "severity": "HIGH"}]})).await;
    assert_eq!(batch, StatusCode::ACCEPTED);
    let created: Vec<bool> = answer_batch["alerts"].as_array().unwrap().iter().map(|a| a["created"].as_bool().unwrap()).collect();
    assert_eq!(created, [false, true, false]);
    s.until_delivered("other", "SENT").await;
    assert_eq!(s.slack.messages_in(defaults::GENERAL).len(), 2, "one message per alert: {answer}");
}

#[tokio::test]
async fn bad_alerts_are_refused_whole_with_every_field_named_and_nothing_stored() {
    let s = scene(|_| {}).await;
    let no_token = s.herald.http.post(s.herald.url("/api/alerts")).json(&json!({"title": "x", "severity": "LOW"})).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);

    let (status, answer) = s
        .send(json!({"alerts": [
            {"title": "fine", "severity": "LOW"},
            {"severity": "URGENT", "title": "t".repeat(1_001)},
            {"title": "x", "severity": "LOW", "destinations": ["no-such-destination"]},
            {"title": "x", "severity": "LOW", "createdAt": "2026-13-45T08:00:00Z"},
            {"title": "x", "severity": "LOW", "createdAt": "2026-11-29T08:00:00+25:00"},
            {"title": "x", "severity": "LOW", "alertId": "."},
            {"title": "x", "severity": "LOW", "alertId": ".."},
            {"title": "x", "severity": "LOW", "alertId": "a/b"},
            {"title": "\u{200b}\u{200d}", "severity": "LOW"},
        ]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let fields: Vec<&str> = answer["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "alerts[1].title",
            "alerts[1].severity",
            "alerts[2].destinations",
            "alerts[3].createdAt",
            "alerts[4].createdAt",
            "alerts[5].alertId",
            "alerts[6].alertId",
            "alerts[7].alertId",
            "alerts[8].title",
        ]
    );
    let messages: Vec<&str> = answer["error"]["fields"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(messages[0].contains("1000"), "{messages:?}");
    assert!(messages[2].contains("no-such-destination"), "{messages:?}");
    let list: Value = s.admin.get("/api/alerts").await.json().await.unwrap();
    assert!(list["alerts"].as_array().unwrap().is_empty(), "a refused batch stores nothing");
}

#[tokio::test]
async fn a_server_error_from_slack_is_retried_until_the_message_gets_through() {
    let s = scene(fast_retries).await;
    s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    s.slack.inject("chat.postMessage", Fault::Status(503));
    s.slack.inject("chat.postMessage", Fault::Status(500));
    let (_, answer) = s.send(json!({"title": "Login", "severity": "HIGH"})).await;
    let alert = s.until_delivered(&alert_id(&answer, 0), "SENT").await;
    assert_eq!(alert["deliveries"][0]["attempts"], 3, "{alert}");
    assert_eq!(s.slack.calls("chat.postMessage").len(), 3);
    assert_eq!(s.slack.messages_in(defaults::GENERAL).len(), 1);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_given_up_after_the_attempt_limit() {
    let s = scene(|settings| {
        fast_retries(settings);
        settings.delivery_attempts = 3;
    })
    .await;
    let id = s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    for _ in 0..3 {
        s.slack.inject("chat.postMessage", Fault::Status(503));
    }
    let (_, answer) = s.send(json!({"title": "Login", "severity": "HIGH"})).await;
    let alert = s.until_delivered(&alert_id(&answer, 0), "FAILED").await;
    let delivery = &alert["deliveries"][0];
    assert_eq!(delivery["attempts"], 3);
    assert!(delivery["lastError"].as_str().unwrap().contains("Gave up on a delivery after 3 attempts"), "{delivery}");
    let list: Value = s.admin.get("/api/destinations").await.json().await.unwrap();
    let destination = list["destinations"].as_array().unwrap().iter().find(|d| d["id"] == id.as_str()).unwrap();
    assert!(destination["problem"].as_str().unwrap().contains("Gave up"), "{destination}");
    assert_eq!(destination["health"]["failures24h"], 1, "{destination}");
}

#[tokio::test]
async fn a_permanent_error_marks_the_destination_and_is_not_retried_until_re_sent() {
    let s = scene(fast_retries).await;
    let id = s.admin.add_destination(&settings("SecOps", "#sec-alerts", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    s.slack.archive_channel(defaults::SEC_ALERTS);
    let (_, answer) = s.send(json!({"title": "Login", "severity": "HIGH"})).await;
    let alert_id = alert_id(&answer, 0);
    let alert = s.until_delivered(&alert_id, "FAILED").await;
    let delivery = &alert["deliveries"][0];
    assert_eq!(delivery["attempts"], 1, "not retried: {delivery}");
    assert!(delivery["lastError"].as_str().unwrap().contains("archived"), "{delivery}");
    assert_eq!(s.slack.calls("chat.postMessage").len(), 1);
    let list: Value = s.admin.get("/api/destinations").await.json().await.unwrap();
    let destination = &list["destinations"][0];
    assert!(destination["problem"].as_str().unwrap().contains("archived"), "the destination shows why: {destination}");
    let single: Value = s.admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    assert_eq!(single["problem"], destination["problem"], "the single view says the same as the list");

    // Fixed in Slack, then re-sent from Herald: delivered, and healthy again.
    s.slack.unarchive_channel(defaults::SEC_ALERTS);
    let resent = s.admin.post(&format!("/api/alerts/{alert_id}/resend"), json!({"destinationId": id})).await;
    assert_eq!(resent.status(), StatusCode::OK);
    s.until_delivered(&alert_id, "SENT").await;
    let list: Value = s.admin.get("/api/destinations").await.json().await.unwrap();
    assert!(list["destinations"][0]["problem"].is_null(), "{}", list["destinations"][0]);
    let single: Value = s.admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    assert!(single["problem"].is_null(), "{single}");
}

#[tokio::test]
async fn a_revoked_token_raises_one_system_error_delivered_to_another_destination() {
    let s = scene(fast_retries).await;
    let broken = s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    s.admin
        .add_destination(&second_app(settings("Herald health", "#sec-alerts", &[Severity::Critical], &[AlertKind::SystemErrors], &[])))
        .await;
    s.slack.revoke_token(defaults::BOT_TOKEN);
    let (_, answer) = s
        .send(json!({"alerts": [
            {"title": "one", "severity": "HIGH"}, {"title": "two", "severity": "HIGH"}, {"title": "three", "severity": "HIGH"},
        ]}))
        .await;
    for i in 0..3 {
        s.until_delivered(&alert_id(&answer, i), "FAILED").await;
    }
    let messages = s.until_messages_in(defaults::SEC_ALERTS, 1).await;
    let text = messages[0].text.clone().unwrap();
    assert!(text.contains("[CRITICAL]") && text.contains("SecOps"), "{text}");

    // Every cause was recorded before its delivery was marked failed, so
    // once the system error is delivered, no other can be pending.
    let list: Value = s.admin.get("/api/alerts?severity=CRITICAL").await.json().await.unwrap();
    let system: Vec<&Value> = list["alerts"].as_array().unwrap().iter().filter(|a| a["type"] == "SYSTEM_ERROR").collect();
    assert_eq!(system.len(), 1, "raised once per cause: {list}");
    let system_alert = s.until_delivered(system[0]["id"].as_str().unwrap(), "SENT").await;
    let routed: Vec<&str> = system_alert["deliveries"].as_array().unwrap().iter().map(|d| d["destinationName"].as_str().unwrap()).collect();
    assert_eq!(routed, ["Herald health"], "never back to the broken destination");
    assert_eq!(s.slack.messages_in(defaults::SEC_ALERTS).len(), 1);
    assert!(s.slack.messages_in(defaults::GENERAL).is_empty());
    let list: Value = s.admin.get("/api/destinations").await.json().await.unwrap();
    let broken = list["destinations"].as_array().unwrap().iter().find(|d| d["id"] == broken.as_str()).unwrap();
    assert!(broken["problem"].as_str().unwrap().contains("reinstall"), "{broken}");
}

#[tokio::test]
async fn alerts_sent_right_after_a_new_token_is_pasted_go_out_with_it() {
    let s = scene(fast_retries).await;
    let id = s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let (_, first) = s.send(json!({"title": "before", "severity": "HIGH"})).await;
    s.until_delivered(&alert_id(&first, 0), "SENT").await;

    // Reinstalled in Slack: the old token is revoked, a new one pasted.
    const NEW_TOKEN: &str = "xoxb-1111111111-2222222222-reinstalledtok1";
    s.slack.add_bot_token(NEW_TOKEN);
    s.slack.revoke_token(defaults::BOT_TOKEN);
    let renewed = SlackBotForm {
        bot_token: Some(NEW_TOKEN.to_owned()),
        ..settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])
    };
    s.admin.save_settings(&id, &renewed).await;
    let alerts: Vec<Value> = (0..3).map(|i| json!({"title": format!("after {i}"), "severity": "HIGH"})).collect();
    let (_, after) = s.send(json!({"alerts": alerts})).await;
    for i in 0..3 {
        s.until_delivered(&alert_id(&after, i), "SENT").await;
    }
    let posts = s.slack.calls("chat.postMessage");
    assert!(posts.iter().skip(1).all(|c| c.token.as_deref() == Some(NEW_TOKEN)), "every later message used the new token");
}

#[tokio::test]
async fn retry_after_holds_back_only_the_channel_slack_limited() {
    let s = scene(|_| {}).await;
    let limited = s.admin.add_destination(&settings("Limited", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let flowing = s.admin.add_destination(&settings("Flowing", "#sec-alerts", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    s.slack.inject("chat.postMessage", Fault::RateLimited { retry_after_secs: 2 });
    let (_, first) = s.send(json!({"title": "held", "severity": "HIGH", "destinations": [limited]})).await;
    poll::until("the rate-limited call", || async {
        if s.slack.calls("chat.postMessage").len() == 1 { Ok(()) } else { Err(s.slack.calls("chat.postMessage").len()) }
    })
    .await;
    let limited_at = Instant::now();
    let (_, _) = s.send(json!({"title": "flows", "severity": "HIGH", "destinations": [flowing]})).await;
    s.until_messages_in(defaults::SEC_ALERTS, 1).await;
    assert!(s.slack.messages_in(defaults::GENERAL).is_empty(), "the limited channel still waits");
    let flowed_after = limited_at.elapsed();
    s.until_delivered(&alert_id(&first, 0), "SENT").await;
    let waited = limited_at.elapsed();
    assert!(flowed_after < Duration::from_secs(2), "the other channel did not wait: {flowed_after:?}");
    assert!(waited >= Duration::from_millis(1_900), "Retry-After was honoured: {waited:?}");
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("herald_slack_rate_limited_total 1\n"), "{metrics}");
}

#[tokio::test]
async fn a_busy_channel_keeps_slack_s_pace_without_a_429_and_holds_up_no_other() {
    let s = scene(|_| {}).await;
    // Slack's limit, exactly: a message sooner than a second after the
    // last one to the channel is answered 429.
    s.slack.limit_channels(Duration::from_secs(1));
    let busy = s.admin.add_destination(&settings("Busy", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let other = s.admin.add_destination(&settings("Other", "#sec-alerts", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let storm: Vec<Value> = (0..60).map(|i| json!({"title": format!("busy {i}"), "severity": "HIGH", "destinations": [busy]})).collect();
    let (status, _) = s.send(json!({"alerts": storm})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let few: Vec<Value> = (0..5).map(|i| json!({"title": format!("other {i}"), "severity": "HIGH", "destinations": [other]})).collect();
    let sent_at = Instant::now();
    let (status, _) = s.send(json!({"alerts": few})).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let others = s.until_messages_in(defaults::SEC_ALERTS, 5).await;
    let other_took = others[4].at - sent_at;
    // Five at one a second: about four seconds, not behind the sixty.
    assert!(other_took < Duration::from_secs(8), "the other channel's five took {other_took:?}");
    assert!(s.slack.messages_in(defaults::GENERAL).len() < 30, "the other channel did not wait for the busy one to drain");

    // Sixty at one a second: a minute, and a margin for a busy machine.
    let busy_messages = poll::until_within(Duration::from_secs(120), "the busy channel's 60 messages", || async {
        let messages = s.slack.messages_in(defaults::GENERAL);
        if messages.len() >= 60 { Ok(messages) } else { Err(messages.len()) }
    })
    .await;
    assert_eq!(s.slack.rate_limited_in(defaults::GENERAL), 0, "no 429 in the busy channel");
    assert_eq!(s.slack.rate_limited_in(defaults::SEC_ALERTS), 0, "no 429 in the other");
    let span = busy_messages[59].at - busy_messages[0].at;
    let rate = 59.0 / span.as_secs_f64();
    assert!(rate >= 0.95, "the busy channel drained at {rate:.3} messages a second (59 gaps in {span:?})");
    assert!(rate <= 1.0, "and never faster than Slack allows: {rate:.3}");
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("herald_slack_rate_limited_total 0\n"), "{metrics}");
}

fn titled(message: &herald_tests::fake_slack::Message, title: &str) -> bool {
    message.text.as_deref().is_some_and(|text| text.contains(title))
}

#[tokio::test]
async fn a_critical_alert_behind_a_storm_of_low_ones_for_its_channel_goes_next() {
    let s = scene(|_| {}).await;
    s.slack.limit_channels(Duration::from_secs(1));
    let secops =
        s.admin.add_destination(&settings("SecOps", "#general", &[Severity::Low, Severity::Critical], &[AlertKind::Alerts], &[])).await;
    let storm: Vec<Value> =
        (0..300).map(|i| json!({"title": format!("storm {i:03}"), "severity": "LOW", "destinations": [secops]})).collect();
    let (status, _) = s.send(json!({"alerts": storm})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    s.until_messages_in(defaults::GENERAL, 1).await;

    let sent_at = Instant::now();
    let critical = json!({"title": "the critical one", "severity": "CRITICAL", "destinations": [secops]});
    assert_eq!(s.send(critical).await.0, StatusCode::ACCEPTED);
    let (ahead, critical) = poll::until_within(Duration::from_secs(30), "the CRITICAL alert in #general", || async {
        let messages = s.slack.messages_in(defaults::GENERAL);
        match messages.iter().position(|m| titled(m, "the critical one")) {
            Some(at) => Ok((at, messages[at].clone())),
            None => Err(messages.len()),
        }
    })
    .await;
    let took = critical.at - sent_at;
    assert!(took < Duration::from_secs(3), "the CRITICAL alert reached Slack {took:?} after it came");
    assert!(ahead < 6, "it waited for the storm: {ahead} LOW messages went first");

    // The storm goes on behind it at the channel's pace, in its own order.
    let messages = s.until_messages_in(defaults::GENERAL, ahead + 6).await;
    let storm: Vec<&str> = messages.iter().filter_map(|m| m.text.as_deref()).filter(|t| t.contains("storm")).collect();
    let mut in_order = storm.clone();
    in_order.sort_unstable();
    assert_eq!(storm, in_order, "the LOW alerts kept their order");
    assert_eq!(s.slack.rate_limited_in(defaults::GENERAL), 0, "no 429 in the channel");
}

#[tokio::test]
async fn a_message_waits_behind_more_severe_ones_no_longer_than_the_priority_max_wait() {
    // Four messages a second against a limit of five, so the test is
    // quick and a busy machine's jitter in sending earns no 429; LOW ones
    // may wait three seconds while HIGH ones overtake them.
    let s = scene(|settings| {
        settings.slack_channel_rate = 240;
        settings.priority_max_wait = Duration::from_secs(3);
    })
    .await;
    s.slack.limit_channels(Duration::from_millis(200));
    let secops =
        s.admin.add_destination(&settings("SecOps", "#general", &[Severity::Low, Severity::High], &[AlertKind::Alerts], &[])).await;
    let low: Vec<Value> = (0..40).map(|i| json!({"title": format!("low {i:02}"), "severity": "LOW", "destinations": [secops]})).collect();
    assert_eq!(s.send(json!({"alerts": low})).await.0, StatusCode::ACCEPTED);
    s.until_messages_in(defaults::GENERAL, 1).await;
    let high: Vec<Value> =
        (0..20).map(|i| json!({"title": format!("high {i:02}"), "severity": "HIGH", "destinations": [secops]})).collect();
    assert_eq!(s.send(json!({"alerts": high})).await.0, StatusCode::ACCEPTED);

    let messages = s.until_messages_in(defaults::GENERAL, 60).await;
    let order: Vec<&str> = messages.iter().filter_map(|m| m.text.as_deref()).collect();
    let position = |title: &str| order.iter().position(|t| t.contains(title)).unwrap_or_else(|| panic!("{title} in {order:?}"));
    // HIGH ones went ahead at first…
    assert!(position("high 00") < position("low 39"), "more severe first: {order:?}");
    // …but the LOW ones did not wait for all twenty.
    assert!(position("low 39") < position("high 19"), "a LOW alert waited past its three seconds: {order:?}");
    assert_eq!(s.slack.rate_limited_in(defaults::GENERAL), 0, "no 429 in the channel");
}

#[tokio::test]
async fn a_crash_mid_queue_loses_nothing_accepted() {
    let mut s = scene(|_| {}).await;
    s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    // The channel's pace (one a second) keeps most of these queued when
    // Herald dies.
    let alerts: Vec<Value> = (0..8).map(|i| json!({"title": format!("alert {i}"), "severity": "HIGH"})).collect();
    let (status, _) = s.send(json!({"alerts": alerts})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    s.until_messages_in(defaults::GENERAL, 3).await;
    s.herald.crash().await;
    let before = s.slack.messages_in(defaults::GENERAL).len();
    assert!(before < 8, "the crash came mid-queue ({before} sent)");

    s.herald.resume().await;
    let messages = s.until_messages_in(defaults::GENERAL, 8).await;
    let mut titles: Vec<String> = messages.iter().map(|m| m.text.clone().unwrap()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 8, "every accepted alert arrived: {titles:?}");
    assert!(messages.len() <= 8 + 3, "at most the in-flight ones twice: {}", messages.len());
}

#[tokio::test]
async fn a_slow_slack_answer_for_one_channel_does_not_hold_up_another() {
    let s = scene(|_| {}).await;
    let slow = s.admin.add_destination(&settings("Slow", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    let quick = s.admin.add_destination(&settings("Quick", "#sec-alerts", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    s.slack.inject("chat.postMessage", Fault::Delay(Duration::from_secs(3)));
    let (_, first) = s.send(json!({"title": "slow", "severity": "HIGH", "destinations": [slow]})).await;
    poll::until("the slow call to start", || async {
        if s.slack.calls("chat.postMessage").len() == 1 { Ok(()) } else { Err(s.slack.calls("chat.postMessage").len()) }
    })
    .await;
    s.send(json!({"title": "quick", "severity": "HIGH", "destinations": [quick]})).await;
    s.until_messages_in(defaults::SEC_ALERTS, 1).await;
    assert!(s.slack.messages_in(defaults::GENERAL).is_empty(), "the quick one did not wait for the slow one");
    s.until_delivered(&alert_id(&first, 0), "SENT").await;
}

#[tokio::test]
async fn alerts_past_the_retention_are_deleted_with_their_deliveries_and_others_stay() {
    let mut s = scene(|_| {}).await;
    s.admin.add_destination(&settings("SecOps", "#general", &[Severity::High], &[AlertKind::Alerts], &[])).await;
    for id in ["old", "fresh"] {
        s.send(json!({"alertId": id, "title": id, "severity": "HIGH"})).await;
        s.until_delivered(id, "SENT").await;
    }
    s.herald.crash().await;
    // 200 days pass for the old alert (the default keeps 180).
    let database = s.herald.database().await;
    let long_ago = 200 * 86_400_000_i64;
    database.execute("UPDATE alerts SET received_at = received_at - $1 WHERE id = 'old'", long_ago).await;
    database.execute("UPDATE deliveries SET updated_at = updated_at - $1 WHERE alert_id = 'old'", long_ago).await;
    database.close().await;

    s.herald.resume().await;
    let admin = s.herald.sign_in_as_admin().await;
    poll::until("the old alert to be deleted", || async {
        let status = admin.get("/api/alerts/old").await.status();
        if status == StatusCode::NOT_FOUND { Ok(()) } else { Err(status) }
    })
    .await;
    assert_eq!(admin.get("/api/alerts/fresh").await.status(), StatusCode::OK, "the fresh alert stays");
    let left = s.herald.database().await.count("SELECT count(*) FROM deliveries WHERE alert_id = 'old'").await;
    assert_eq!(left, 0, "its deliveries went with it");
}

/// New alerts' messages go to the sender in memory while it has room for
/// them, and through the outbox when it has not. A crowd of both at once,
/// batches bigger than the room and single alerts beside them: every
/// message arrives, once.
#[tokio::test]
async fn a_crowd_of_alerts_some_handed_to_the_sender_some_queued_arrives_once_each() {
    use futures_util::future::join_all;
    let s = scene(|settings| settings.slack_pacing = false).await;
    // By ID: the fake Slack in lean mode looks names up no more.
    s.admin.add_destination(&settings("SecOps", defaults::GENERAL, &[Severity::High], &[AlertKind::Alerts], &[])).await;
    s.slack.go_lean();
    let batches = join_all((0..3).map(|b| {
        let alerts: Vec<Value> = (0..1_000).map(|i| json!({"title": format!("batch {b} alert {i}"), "severity": "HIGH"})).collect();
        s.send(json!({ "alerts": alerts }))
    }));
    let singles = join_all((0..100).map(|i| s.send(json!({"title": format!("single {i}"), "severity": "HIGH"}))));
    let (batches, singles) = tokio::join!(batches, singles);
    assert!(batches.iter().chain(&singles).all(|(status, _)| *status == StatusCode::ACCEPTED));
    let total = 3_100;
    poll::until_within(Duration::from_secs(60), "every message to arrive", || async {
        let n = s.slack.arrival_count();
        if n >= total { Ok(()) } else { Err(n) }
    })
    .await;
    let texts: std::collections::HashSet<String> = s.slack.take_arrivals().into_iter().map(|(_, text)| text).collect();
    assert_eq!(texts.len(), total, "each alert's message, and each once");
}
