//! Socket Mode: Herald at an internal http URL Slack cannot reach opens
//! its own connection to the fake Slack, and clicks, modals and events
//! come over it — acknowledged, handled once, through hand-overs, drops
//! and a revoked token.

use std::time::Duration;

use herald_tests::fake_slack::{ACK_WITHIN, Message, defaults};
use herald_tests::fixtures::socket_mode_bot;
use herald_tests::{FakeSlack, Herald, Session, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Herald's public URL: internal, plain http.
const INTERNAL: &str = "http://herald.internal";

struct Scene {
    slack: FakeSlack,
    herald: Herald,
    admin: Session,
    token: String,
    destination: String,
}

/// Herald at [`INTERNAL`], a Socket Mode destination on #general, its
/// connection open, and Ana an analyst.
async fn scene() -> Scene {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.public_url = Some(INTERNAL.parse().unwrap())).await;
    let admin = herald.sign_in_as_admin().await;
    let destination = admin.add_destination(&socket_mode_bot("SecOps", "#general")).await;
    let token = admin.api_token().await;
    admin.add_user(defaults::ANA_EMAIL, "Ana", "ANALYST").await;
    let s = Scene { slack, herald, admin, token, destination };
    s.until_connected(1).await;
    s
}

impl Scene {
    async fn until_connected(&self, opened: u64) {
        poll::until(&format!("{opened} Socket Mode connection(s) opened, one open"), || async {
            let now = (self.slack.sockets_opened(), self.slack.socket_connections());
            let view = self.destination().await["socketMode"].clone();
            if now == (opened, 1) && view["state"] == "CONNECTED" { Ok(()) } else { Err((now, view)) }
        })
        .await
    }

    async fn destination(&self) -> Value {
        self.admin.get(&format!("/api/destinations/{}", self.destination)).await.json().await.unwrap()
    }

    /// Sends alert `id` (HIGH) and waits for its message.
    async fn alert_message(&self, id: &str) -> Message {
        let sent = self.herald.send_alerts(&self.token, &json!({"alertId": id, "title": format!("Alert {id}"), "severity": "HIGH"})).await;
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
        poll::until(&format!("the message of {id}"), || async {
            self.slack
                .messages_in(defaults::GENERAL)
                .into_iter()
                .find(|m| m.thread_ts.is_none() && serde_json::to_string(&m.blocks).unwrap().contains(&format!("alert:{id}")))
                .ok_or("not yet")
        })
        .await
    }

    async fn alert(&self, id: &str) -> Value {
        self.admin.get(&format!("/api/alerts/{id}")).await.json().await.unwrap()
    }

    async fn until_status(&self, id: &str, status: &str) -> Value {
        poll::until(&format!("{id} to be {status}"), || async {
            let alert = self.alert(id).await;
            if alert["status"] == status { Ok(alert) } else { Err(alert["status"].clone()) }
        })
        .await
    }

    /// The message of `id` once Slack shows `text` in it.
    async fn until_message_shows(&self, ts: &str, text: &str) -> Message {
        poll::until(&format!("the message {ts} to show {text:?}"), || async {
            let message = self.slack.messages_in(defaults::GENERAL).into_iter().find(|m| m.ts == ts).expect("the message");
            if serde_json::to_string(&message.blocks).unwrap().contains(text) { Ok(message) } else { Err(message.edits) }
        })
        .await
    }

    async fn until_acknowledged(&self, envelope: &str) -> herald_tests::fake_slack::Envelope {
        poll::until(&format!("envelope {envelope} acknowledged"), || async {
            let e = self.slack.envelope(envelope);
            if e.acks.is_empty() { Err(e.sent) } else { Ok(e) }
        })
        .await
    }

    async fn until_reply(&self, parent: &Message, text: &str) -> Message {
        poll::until(&format!("a reply {text:?}"), || async {
            let replies: Vec<Message> = self
                .slack
                .messages_in(&parent.channel)
                .into_iter()
                .filter(|m| m.thread_ts.as_deref() == Some(parent.ts.as_str()))
                .collect();
            replies.iter().find(|m| m.text.as_deref().is_some_and(|t| t.contains(text))).cloned().ok_or(replies)
        })
        .await
    }

    /// The titles of Herald's own alerts.
    async fn system_errors(&self) -> Vec<String> {
        let alerts: Value = self.admin.get("/api/alerts").await.json().await.unwrap();
        let system = alerts["alerts"].as_array().unwrap().iter().filter(|a| a["type"] == "SYSTEM_ERROR");
        system.map(|a| a["title"].as_str().unwrap().to_owned()).collect()
    }

    async fn metric(&self, name: &str) -> u64 {
        let text = self.herald.get("/metrics").await.text().await.unwrap();
        text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
    }
}

fn status(id: &str, status: &str) -> Value {
    json!({"type": "static_select", "action_id": "alert.status", "block_id": format!("alert:{id}"), "selected_option": {"value": status}})
}

fn button(id: &str, action_id: &str) -> Value {
    json!({"type": "button", "action_id": action_id, "block_id": format!("alert:{id}"), "value": id})
}

#[tokio::test]
async fn a_click_over_socket_mode_changes_the_alert_and_updates_its_message_exactly_once() {
    let s = scene().await;
    let message = s.alert_message("a1").await;
    assert!(s.herald.url("/").starts_with("http://127.0.0.1"), "nothing reaches Herald but the test");
    let envelope = s.slack.click_over_socket(defaults::ANA, &message, status("a1", "TRIAGED"));
    let acked = s.until_acknowledged(&envelope).await;
    assert_eq!((acked.sent, acked.acks.as_slice()), (1, &[None][..]), "acknowledged at once, without a payload");
    let edited = s.until_message_shows(&message.ts, "*Status*\\nTriaged").await;
    s.until_reply(&message, &format!("<@{}> changed the status from *Open* to *Triaged*", defaults::ANA)).await;
    let alert = s.alert("a1").await;
    assert_eq!(alert["status"], "TRIAGED");
    assert_eq!(alert["activity"].as_array().unwrap().len(), 1);
    assert_eq!(alert["activity"][0]["source"], "SLACK");
    assert_eq!(edited.edits, 1);
    assert_eq!(s.metric("herald_socket_mode_envelopes_total").await, 1);
    assert_eq!(s.metric("herald_socket_mode_acks_total").await, 1);
    // Slack is never asked to call Herald: the manifest has no Request URLs.
    let manifest: Value = s.admin.get("/api/slack/manifest?format=json&socketMode=true").await.json().await.unwrap();
    assert!(!manifest["text"].as_str().unwrap().contains("request_url"), "{manifest}");
    assert!(manifest["warning"].is_null(), "an internal http URL is fine in Socket Mode: {manifest}");
}

#[tokio::test]
async fn an_envelope_whose_acknowledgement_is_lost_is_sent_again_and_handled_once() {
    let s = scene().await;
    let message = s.alert_message("a1").await;
    s.slack.lose_acks(1);
    let envelope = s.slack.click_over_socket(defaults::ANA, &message, status("a1", "TRIAGED"));
    let acked = s.until_acknowledged(&envelope).await;
    assert_eq!(acked.sent, 2, "sent again after {ACK_WITHIN:?} without an acknowledgement");
    s.until_message_shows(&message.ts, "*Status*\\nTriaged").await;
    let alert = s.alert("a1").await;
    assert_eq!(alert["activity"].as_array().unwrap().len(), 1, "acted on once: {}", alert["activity"]);
    let replies = s.slack.messages_in(defaults::GENERAL).into_iter().filter(|m| m.thread_ts.is_some()).count();
    assert_eq!(replies, 1, "one thread reply");
    let message = s.slack.messages_in(defaults::GENERAL).into_iter().find(|m| m.ts == message.ts).unwrap();
    assert_eq!(message.edits, 1, "one update");
}

#[tokio::test]
async fn a_refresh_slack_asks_for_mid_stream_loses_nothing() {
    let s = scene().await;
    let ids: Vec<String> = (1..=8).map(|i| format!("a{i}")).collect();
    let mut messages = Vec::new();
    for id in &ids {
        messages.push(s.alert_message(id).await);
    }
    let mut clicks = ids.iter().zip(&messages);
    let mut envelopes = Vec::new();
    let mut click = |clicks: &mut dyn Iterator<Item = (&String, &Message)>| {
        if let Some((id, message)) = clicks.next() {
            envelopes.push(s.slack.click_over_socket(defaults::ANA, message, status(id, "TRIAGED")));
        }
    };
    for _ in 0..3 {
        click(&mut clicks);
    }
    s.slack.disconnect("refresh_requested");
    // A click on each look while the new connection opens and the old one
    // closes: envelopes go to whichever is open.
    poll::until("the hand-over to the new connection", || {
        click(&mut clicks);
        async {
            if (s.slack.sockets_opened(), s.slack.socket_connections()) == (2, 1) { Ok(()) } else { Err(s.slack.socket_connections()) }
        }
    })
    .await;
    for _ in 0..8 {
        click(&mut clicks);
    }
    assert_eq!(envelopes.len(), 8);
    for id in &ids {
        let alert = s.until_status(id, "TRIAGED").await;
        assert_eq!(alert["activity"].as_array().unwrap().len(), 1, "{id} changed once");
    }
    for envelope in &envelopes {
        s.until_acknowledged(envelope).await;
    }
    s.until_connected(2).await;
    assert_eq!(s.slack.calls("apps.connections.open").len(), 3, "the check when saved, the first connection, its replacement");
}

#[tokio::test]
async fn a_connection_dropped_without_a_word_is_opened_again_and_later_envelopes_arrive() {
    let s = scene().await;
    let message = s.alert_message("a1").await;
    s.slack.drop_connections();
    s.until_connected(2).await;
    assert!(s.metric("herald_socket_mode_reconnects_total").await >= 1);
    let envelope = s.slack.click_over_socket(defaults::ANA, &message, status("a1", "TRIAGED"));
    s.until_acknowledged(&envelope).await;
    s.until_status("a1", "TRIAGED").await;
}

#[tokio::test]
async fn resolving_over_socket_mode_answers_the_modal_in_the_acknowledgement_and_boomerang_works() {
    let s = scene().await;
    let message = s.alert_message("a1").await;
    s.slack.click_over_socket(defaults::ANA, &message, button("a1", "alert.resolve"));
    let view = s.slack.until_view(1).await;
    assert_eq!(view["callback_id"], "alert.resolve");
    let empty = s.slack.submit_over_socket(defaults::ANA, &view, json!({"comment": {"comment": {"value": "  "}}}));
    let answer = s.until_acknowledged(&empty).await.acks[0].clone().expect("the errors, in the acknowledgement");
    assert_eq!(answer["response_action"], "errors", "{answer}");
    assert!(answer["errors"]["comment"].as_str().unwrap().contains("Write"), "{answer}");
    s.slack.submit_over_socket(defaults::ANA, &view, json!({"comment": {"comment": {"value": "Key rotated"}}}));
    s.until_status("a1", "RESOLVED").await;
    s.until_reply(&message, "resolved the alert: Key rotated").await;

    // Boomerang: Ana asks Raj; Raj answers from his DM.
    let second = s.alert_message("a2").await;
    s.slack.click_over_socket(defaults::ANA, &second, button("a2", "alert.boomerang"));
    let ask = s.slack.until_view(2).await;
    let who = json!({"who": {"who": {"selected_user": defaults::RAJ}}, "question": {"question": {"value": "Was it you?"}}});
    s.slack.submit_over_socket(defaults::ANA, &ask, who);
    let dm = FakeSlack::dm_channel(defaults::RAJ);
    let question = poll::until("the DM", || async { s.slack.messages_in(&dm).into_iter().next().ok_or("none yet") }).await;
    let reply = json!({"type": "button", "action_id": "boomerang.reply", "block_id": "boomerang:a2",
        "value": question.blocks.as_ref().unwrap()[1]["elements"][0]["value"]});
    s.slack.click_over_socket(defaults::RAJ, &question, reply);
    let answer_view = s.slack.until_view(3).await;
    assert_eq!(answer_view["callback_id"], "boomerang.answer");
    s.slack.submit_over_socket(defaults::RAJ, &answer_view, json!({"answer": {"answer": {"value": "Yes, from the hotel"}}}));
    s.until_reply(&second, "answered “Was it you?”: Yes, from the hotel").await;
}

#[tokio::test]
async fn app_uninstalled_over_socket_mode_marks_the_destination_disconnected() {
    let s = scene().await;
    s.slack.event_over_socket(json!({"type": "app_uninstalled"}));
    let destination = poll::until("the destination to show the problem", || async {
        let d = s.destination().await;
        if d["problem"].as_str().is_some_and(|p| p.starts_with("Disconnected")) { Ok(d) } else { Err(d["problem"].clone()) }
    })
    .await;
    assert!(destination["problem"].as_str().unwrap().contains("uninstalled"), "{destination}");
}

#[tokio::test]
async fn a_revoked_app_level_token_shows_on_the_destination_raises_one_system_error_and_is_not_hammered() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.public_url = Some(INTERNAL.parse().unwrap())).await;
    let admin = herald.sign_in_as_admin().await;
    // Herald's own alerts go to a second destination, which takes them.
    let mut errors = socket_mode_bot("Herald health", "#sec-alerts");
    errors.settings.alert_kinds = vec![herald_model::destination::AlertKind::SystemErrors];
    errors.settings.severities = herald_model::destination::Severity::ALL.to_vec();
    admin.add_destination(&errors).await;
    let id = admin.add_destination(&socket_mode_bot("SecOps", "#general")).await;
    let token = admin.api_token().await;
    let s = Scene { slack, herald, admin, token, destination: id };
    s.until_connected(1).await;

    s.slack.revoke_app_token(defaults::APP_TOKEN);
    s.slack.drop_connections();
    let shown = poll::until("the destination to show the refusal", || async {
        let view = s.destination().await["socketMode"].clone();
        if view["state"] == "REFUSED" { Ok(view) } else { Err(view) }
    })
    .await;
    assert!(shown["reason"].as_str().unwrap().contains("revoked"), "{shown}");
    let raised = poll::until("one System Error", || async {
        let titles = s.system_errors().await;
        if titles.is_empty() { Err(titles) } else { Ok(titles) }
    })
    .await;
    assert_eq!(raised, ["Herald does not hear from Slack"]);
    let asked = s.slack.calls("apps.connections.open").len();
    // A bounded look for what must not happen: Herald asking again and
    // again with a token Slack refused.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(s.slack.calls("apps.connections.open").len(), asked, "the refused token is not tried again within minutes");
    assert_eq!(s.system_errors().await.len(), 1, "raised once");

    // A revoked or unknown token is refused when saved, naming the field.
    let id = s.destination.clone();
    let form = json!({"displayName": "SecOps", "channel": "#general", "clientId": defaults::CLIENT_ID, "severities": ["HIGH"],
        "alertKinds": ["ALERTS"], "logTypes": [], "timezone": "UTC", "appToken": "xapp-1-A0HERALD01-9-unknown"});
    let refused = s.admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}")).json(&form).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["field"], "appToken", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("App-Level Tokens"), "{body}");

    // A new token is tried at once.
    s.slack.add_app_token("xapp-1-A0HERALD01-4444-renewed");
    let renewed = s
        .admin
        .request(reqwest::Method::PUT, &format!("/api/destinations/{id}"))
        .json(&json!({"displayName": "SecOps", "channel": "#general", "clientId": defaults::CLIENT_ID, "severities": ["HIGH"],
            "alertKinds": ["ALERTS"], "logTypes": [], "timezone": "UTC", "appToken": "xapp-1-A0HERALD01-4444-renewed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renewed.status(), StatusCode::OK, "{}", renewed.text().await.unwrap());
    s.until_connected(2).await;
    let view = s.destination().await;
    assert_eq!(view["appToken"]["hint"], "••••ewed");
    assert!(!herald_tests::logs().contains("4444-renewed"), "the token is never logged");
}

#[tokio::test]
async fn an_app_leaves_socket_mode_once_its_signing_secret_is_saved_and_its_connection_closes() {
    let s = scene().await;
    let path = format!("/api/destinations/{}/app-token", s.destination);
    let refused = s.admin.delete(&path).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["field"], "signingSecret", "{body}");
    assert_eq!(s.slack.socket_connections(), 1, "still connected");

    let mut form = socket_mode_bot("SecOps", "#general");
    form.app_token = None;
    form.signing_secret = Some(defaults::SIGNING_SECRET.to_owned());
    s.admin.save_settings(&s.destination, &form).await;
    let left = s.admin.delete(&path).await;
    assert_eq!(left.status(), StatusCode::OK);
    let view: Value = left.json().await.unwrap();
    assert_eq!(view["appToken"]["set"], false);
    assert!(view.get("socketMode").is_none(), "{view}");
    poll::until("the connection to close", || async {
        let open = s.slack.socket_connections();
        if open == 0 { Ok(()) } else { Err(open) }
    })
    .await;
    // Slack's requests now come over https, signed.
    let message = s.alert_message("a1").await;
    let payload = s.slack.block_actions(defaults::ANA, &message, status("a1", "TRIAGED"));
    let clicked = s.slack.send_interaction(&s.herald.url("/slack/interactivity"), defaults::SIGNING_SECRET, &payload).await;
    assert_eq!(clicked.status(), StatusCode::OK);
    s.until_status("a1", "TRIAGED").await;
    let again = s.admin.delete(&path).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "nothing to leave");
}

#[tokio::test]
async fn a_connection_down_longer_than_the_setting_raises_one_system_error_and_comes_back() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| {
        s.public_url = Some(INTERNAL.parse().unwrap());
        s.socket_mode_alert_after = Duration::from_secs(2);
    })
    .await;
    let admin = herald.sign_in_as_admin().await;
    let mut errors = socket_mode_bot("Herald health", "#sec-alerts");
    errors.settings.alert_kinds = vec![herald_model::destination::AlertKind::SystemErrors];
    errors.settings.severities = herald_model::destination::Severity::ALL.to_vec();
    let destination = admin.add_destination(&errors).await;
    let token = admin.api_token().await;
    let s = Scene { slack, herald, admin, token, destination };
    s.until_connected(1).await;

    // Slack answers 503 to the next four tries: about 4 s of backoff.
    for _ in 0..4 {
        s.slack.inject("apps.connections.open", herald_tests::fake_slack::Fault::Status(503));
    }
    s.slack.drop_connections();
    let shown = poll::until("the destination to show the reconnecting", || async {
        let view = s.destination().await["socketMode"].clone();
        if view["state"] == "RECONNECTING" && view["reason"].as_str().is_some_and(|r| r.contains("503")) { Ok(view) } else { Err(view) }
    })
    .await;
    assert_eq!(shown["connections"], 0);
    poll::until("one System Error", || async {
        let titles = s.system_errors().await;
        if titles == ["Herald does not hear from Slack"] { Ok(()) } else { Err(titles) }
    })
    .await;
    s.until_connected(2).await;
    assert_eq!(s.system_errors().await.len(), 1, "one for the outage");
    assert_eq!(s.slack.calls("apps.connections.open").len(), 1 + 1 + 4 + 1, "the check, the first, four refused, the one that worked");
}

#[tokio::test]
async fn link_disabled_ends_the_connection_and_herald_tries_again_with_the_reason_logged() {
    let s = scene().await;
    s.slack.disconnect("link_disabled");
    s.until_connected(2).await;
    assert!(s.metric("herald_socket_mode_reconnects_total").await >= 1);
    assert!(herald_tests::logs().contains("Slack disabled Socket Mode for the app"), "the reason is in the log");
}
