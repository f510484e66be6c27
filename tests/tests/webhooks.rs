//! Alerts from Prometheus Alertmanager and Grafana, posted as their
//! webhooks send them: one Herald alert per alert of the group, repeats
//! that send nothing, resolves from the source that update every message
//! in place and reply in its thread.

use herald_model::destination::Severity;
use herald_tests::fake_slack::{Message, defaults};
use herald_tests::fixtures::{With, slack_bot};
use herald_tests::poll;
use herald_tests::scene::Scene;
use herald_tests::{FakeSlack, Herald};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALERTMANAGER: &str = "/api/ingest/alertmanager";
const GRAFANA: &str = "/api/ingest/grafana";

/// Herald with two destinations, one per channel, taking every severity.
async fn scene() -> Scene {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let scene = Scene::new(slack, herald).await;
    for (name, channel) in [("SecOps", "#sec-alerts"), ("Platform", "#general")] {
        scene.admin.add_destination(&slack_bot(name, channel).with(|s| s.severities = Severity::ALL.to_vec())).await;
    }
    scene
}

/// One alert of an Alertmanager group, as its webhook sends it.
fn am_alert(status: &str, name: &str, instance: &str, severity: &str, fingerprint: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": name, "instance": instance, "job": "node", "severity": severity},
        "annotations": {
            "summary": format!("{name} on {instance}"),
            "description": format!("{instance} has been {name} for more than 5 minutes."),
            "runbook_url": "https://runbooks.acme.example/node"
        },
        "startsAt": "2026-12-04T08:00:00.123456789Z",
        "endsAt": if status == "resolved" { "2026-12-04T08:20:00.5Z" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "http://prometheus.acme.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
        "fingerprint": fingerprint
    })
}

/// An Alertmanager notification (webhook version 4) of `alerts`.
fn am_notification(status: &str, alerts: Vec<Value>, truncated: u64) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}/{severity=~\"critical|warning\"}:{alertname=\"NodeDown\"}",
        "truncatedAlerts": truncated,
        "status": status,
        "receiver": "herald",
        "groupLabels": {"alertname": "NodeDown"},
        "commonLabels": {"alertname": "NodeDown", "job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.acme.example:9093",
        "alerts": alerts
    })
}

fn top_level(messages: Vec<Message>) -> Vec<Message> {
    messages.into_iter().filter(|m| m.thread_ts.is_none()).collect()
}

fn history(alert: &Value) -> Vec<String> {
    alert["activity"].as_array().unwrap().iter().map(|a| a["summary"].as_str().unwrap().to_owned()).collect()
}

fn ids(answer: &Value) -> Vec<String> {
    answer["alerts"].as_array().unwrap().iter().map(|a| a["alertId"].as_str().unwrap().to_owned()).collect()
}

/// Waits until the alert's message in each channel shows `status`.
async fn until_each_shows(s: &Scene, title: &str, status: &str) -> Vec<Message> {
    poll::until(&format!("{title:?} to show {status} in both channels"), || async {
        let messages: Vec<Message> =
            top_level(s.slack.messages()).into_iter().filter(|m| m.text.as_deref().is_some_and(|t| t.contains(title))).collect();
        let shows = |m: &Message| m.blocks.as_ref().is_some_and(|b| b.to_string().contains(&format!("*Status*\\n{status}")));
        if messages.len() == 2 && messages.iter().all(shows) { Ok(messages) } else { Err(messages.len()) }
    })
    .await
}

#[tokio::test]
async fn a_grouped_alertmanager_notification_is_one_alert_per_alert_and_the_same_firing_again_sends_nothing() {
    let s = scene().await;
    let firing = am_notification(
        "firing",
        vec![
            am_alert("firing", "NodeDown", "db-1:9100", "critical", "a1b2c3d4e5f60718"),
            am_alert("firing", "NodeDown", "web-2:9100", "warning", "0f1e2d3c4b5a6978"),
        ],
        0,
    );
    let (status, answer) = s.send_to(ALERTMANAGER, firing.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let first = ids(&answer);
    assert_eq!(first.len(), 2);
    assert!(answer["alerts"].as_array().unwrap().iter().all(|a| a["created"] == true && a["deliveries"] == 2), "{answer}");
    s.until_messages_in(defaults::SEC_ALERTS, 2).await;
    s.until_messages_in(defaults::GENERAL, 2).await;

    // What Herald made of Alertmanager's fields.
    let db = s.alert(&first[0]).await;
    assert_eq!(db["title"], "NodeDown on db-1:9100");
    assert_eq!(db["severity"], "CRITICAL");
    assert_eq!(db["detectionId"], "NodeDown");
    assert_eq!(db["logTypes"], json!(["node"]));
    assert_eq!(db["description"], "db-1:9100 has been NodeDown for more than 5 minutes.");
    assert_eq!(db["runbook"], "https://runbooks.acme.example/node");
    assert_eq!(db["reference"], "http://prometheus.acme.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
    assert_eq!(db["createdAt"], "2026-12-04T08:00:00Z", "the alert began when Alertmanager says it did");
    let context = &db["alertContext"];
    assert_eq!(context["labels"]["instance"], "db-1:9100", "{context}");
    assert_eq!(context["annotations"]["runbook_url"], "https://runbooks.acme.example/node");
    assert_eq!(context["fingerprint"], "a1b2c3d4e5f60718");
    assert_eq!(context["receiver"], "herald");
    assert_eq!(context["externalURL"], "http://alertmanager.acme.example:9093");
    assert!(context.get("endsAt").is_none(), "a firing alert has no end yet: {context}");
    assert_eq!(s.alert(&first[1]).await["severity"], "MEDIUM", "warning is MEDIUM");
    let message =
        top_level(s.slack.messages_in(defaults::SEC_ALERTS)).into_iter().find(|m| m.text.as_deref().unwrap().contains("db-1")).unwrap();
    let blocks = message.blocks.as_ref().unwrap().to_string();
    assert!(blocks.contains("Reference: <http://prometheus.acme.example:9090/graph"), "{blocks}");
    assert!(blocks.contains("prometheus.acme.example>"), "the link is labelled with its host: {blocks}");

    // Alertmanager sends the group again at every repeat_interval.
    let (status, again) = s.send_to(ALERTMANAGER, firing).await;
    assert_eq!(status, StatusCode::OK, "nothing new: {again}");
    assert_eq!(ids(&again), first, "the same alerts");
    assert!(again["alerts"].as_array().unwrap().iter().all(|a| a["created"] == false), "{again}");
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("herald_alerts_repeated_total 2\n"), "{metrics}");
    assert_eq!(s.slack.calls("chat.postMessage").len(), 4, "two alerts, two channels, posted once each");

    // A new firing of the same alert after it ended is a new alert.
    let mut refired = am_alert("firing", "NodeDown", "db-1:9100", "critical", "a1b2c3d4e5f60718");
    refired["startsAt"] = json!("2026-12-04T09:30:00Z");
    let (status, answer) = s.send_to(ALERTMANAGER, am_notification("firing", vec![refired], 0)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_ne!(ids(&answer)[0], first[0], "a firing that starts later is another alert");
    s.until_messages_in(defaults::SEC_ALERTS, 3).await;
}

#[tokio::test]
async fn an_alert_fired_and_resolved_in_alertmanager_ends_as_one_message_per_destination_resolved_in_place_with_a_reply() {
    let s = scene().await;
    let alert = |status| am_alert(status, "NodeDown", "db-1:9100", "critical", "a1b2c3d4e5f60718");
    let (status, answer) = s.send_to(ALERTMANAGER, am_notification("firing", vec![alert("firing")], 0)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = ids(&answer)[0].clone();
    s.until_delivered(&id, "SENT").await;

    let (status, answer) = s.send_to(ALERTMANAGER, am_notification("resolved", vec![alert("resolved")], 0)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(ids(&answer), std::slice::from_ref(&id), "the resolve names the alert it resolved");
    assert_eq!(answer["alerts"][0]["resolved"], true);
    let messages = until_each_shows(&s, "NodeDown on db-1", "Resolved").await;
    for message in &messages {
        assert!(message.edits >= 1, "updated in place, not posted again");
        let replies = poll::until("the thread reply", || async {
            let replies = s.replies_to(message);
            if replies.is_empty() { Err(replies) } else { Ok(replies) }
        })
        .await;
        assert_eq!(replies, ["Resolved in Alertmanager."], "in {}", message.channel);
    }
    assert_eq!(s.slack.calls("chat.postMessage").iter().filter(|c| c.params.get("thread_ts").is_none()).count(), 2);
    let alert_now = s.alert(&id).await;
    assert_eq!(alert_now["status"], "RESOLVED");
    assert_eq!(history(&alert_now), ["Resolved in Alertmanager"]);
    let entry = &alert_now["activity"][0];
    assert_eq!((&entry["source"], &entry["actorName"], &entry["action"]), (&json!("API"), &json!("Alertmanager"), &json!("RESOLVE")));
    assert_eq!(alert_now["alertContext"]["status"], "firing", "the context is the firing's");

    // Alertmanager may send the resolve again (a second replica of it, a retry).
    let (status, again) = s.send_to(ALERTMANAGER, am_notification("resolved", vec![alert("resolved")], 0)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(history(&s.alert(&id).await), ["Resolved in Alertmanager"], "said once");
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("herald_alerts_resolved_from_source_total 1\n"), "{metrics}");
    for message in &messages {
        assert_eq!(s.replies_to(message).len(), 1, "one reply in {}", message.channel);
    }
}

#[tokio::test]
async fn a_resolve_for_an_alert_an_analyst_closed_is_only_noted_and_one_herald_never_saw_is_recorded_not_sent() {
    let s = scene().await;
    let alert = |status| am_alert(status, "DiskFull", "db-1:9100", "critical", "1111222233334444");
    let (_, answer) = s.send_to(ALERTMANAGER, am_notification("firing", vec![alert("firing")], 0)).await;
    let id = ids(&answer)[0].clone();
    s.until_delivered(&id, "SENT").await;
    let closed = s.admin.patch(&format!("/api/alerts/{id}"), json!({"status": "CLOSED"})).await;
    assert_eq!(closed.status(), StatusCode::OK);
    let messages = until_each_shows(&s, "DiskFull on db-1", "Invalid").await;
    poll::until("the analyst's replies", || async {
        let counts: Vec<usize> = messages.iter().map(|m| s.replies_to(m).len()).collect();
        if counts == [1, 1] { Ok(()) } else { Err(counts) }
    })
    .await;
    let updates = s.slack.calls("chat.update").len();

    let unknown = am_alert("resolved", "CertExpiring", "lb-1:443", "warning", "9999888877776666");
    let (status, answer) = s.send_to(ALERTMANAGER, am_notification("resolved", vec![alert("resolved"), unknown], 0)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the unknown one is recorded: {answer}");
    let closed_now = s.alert(&id).await;
    assert_eq!(closed_now["status"], "CLOSED", "the analyst's decision stands");
    assert_eq!(
        history(&closed_now),
        ["admin changed the status from Open to Invalid", "Resolved in Alertmanager too; the status stays Invalid."]
    );

    let unknown_id = ids(&answer).into_iter().find(|a| *a != id).unwrap();
    let recorded = s.alert(&unknown_id).await;
    assert_eq!(recorded["status"], "RESOLVED");
    assert_eq!(recorded["title"], "CertExpiring on lb-1:443");
    assert_eq!(recorded["deliveries"], json!([]), "not sent");
    assert_eq!(recorded["alertContext"]["endsAt"], "2026-12-04T08:20:00.5Z");

    // Nothing more reached Slack: the last thing sent was the analyst's.
    let (status, again) = s.send_to(ALERTMANAGER, am_notification("firing", vec![alert("firing")], 0)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(s.slack.calls("chat.update").len(), updates, "no message changed");
    for message in &messages {
        assert_eq!(s.replies_to(message).len(), 1, "only the analyst's reply in {}", message.channel);
    }
    assert_eq!(top_level(s.slack.messages()).len(), 2);
}

#[tokio::test]
async fn a_truncated_group_is_noted_on_each_alert_and_counted() {
    let s = scene().await;
    let alerts =
        (0..3).map(|i| am_alert("firing", "PodCrashLooping", &format!("pod-{i}"), "error", &format!("abcdef000000000{i}"))).collect();
    let (status, answer) = s.send_to(ALERTMANAGER, am_notification("firing", alerts, 7)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for id in ids(&answer) {
        let alert = s.alert(&id).await;
        assert_eq!(alert["alertContext"]["truncatedAlerts"], 7, "{}", alert["alertContext"]);
        assert_eq!(alert["severity"], "HIGH", "error is HIGH");
    }
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("herald_ingest_truncated_alerts_total{source=\"alertmanager\"} 7\n"), "{metrics}");
    assert!(metrics.contains("herald_ingest_truncated_alerts_total{source=\"grafana\"} 0\n"), "{metrics}");
}

#[tokio::test]
async fn a_webhook_needs_an_api_token_and_a_body_it_can_read_and_names_what_is_wrong() {
    let s = scene().await;
    let body = am_notification("firing", vec![am_alert("firing", "NodeDown", "db-1", "critical", "a1b2c3d4e5f60718")], 0);
    let unauthenticated = reqwest::Client::new().post(s.herald.url(ALERTMANAGER)).json(&body).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let (status, answer) = s.send_to(ALERTMANAGER, json!({"version": "4", "status": "firing"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = answer["error"]["message"].as_str().unwrap_or_default().to_owned() + &answer.to_string();
    assert!(message.contains("alerts"), "names the missing list: {answer}");

    let mut bad = body.clone();
    bad["alerts"][0]["startsAt"] = json!("yesterday");
    bad["alerts"][0]["status"] = json!("firing");
    let mut second = bad["alerts"][0].clone();
    second["status"] = json!("pending");
    second["startsAt"] = json!("2026-12-04T08:00:00Z");
    bad["alerts"].as_array_mut().unwrap().push(second);
    let (status, answer) = s.send_to(ALERTMANAGER, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = answer.to_string();
    assert!(text.contains("alerts[0].startsAt") && text.contains("RFC 3339"), "{text}");
    assert!(text.contains("alerts[1].status") && text.contains("firing or resolved"), "{text}");
    let list: Value = s.admin.get("/api/alerts").await.json().await.unwrap();
    assert_eq!(list["alerts"], json!([]), "a refused notification stores nothing");
}

/// One alert of a Grafana notification, as its webhook contact point sends it.
fn grafana_alert(status: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": "High memory usage", "grafana_folder": "Payments", "team": "payments", "severity": "critical"},
        "annotations": {"summary": "Memory above 90% on payments-api", "description": "payments-api uses 94% of its memory."},
        "startsAt": "2026-12-04T09:51:03.157076+01:00",
        "endsAt": if status == "resolved" { "2026-12-04T10:21:03+01:00" } else { "0001-01-01T00:00:00Z" },
        "generatorURL": "https://grafana.acme.example/alerting/grafana/dd3f1e2a/view?orgId=1",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "https://grafana.acme.example/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage",
        "dashboardURL": "https://grafana.acme.example/d/payments?orgId=1",
        "panelURL": "https://grafana.acme.example/d/payments?orgId=1&viewPanel=4",
        "values": {"B": 94.2, "C": 1},
        "valueString": "[ var='B' labels={} value=94.2 ], [ var='C' labels={} value=1 ]"
    })
}

fn grafana_notification(status: &str, alerts: Vec<Value>) -> Value {
    json!({
        "receiver": "herald",
        "status": status,
        "orgId": 1,
        "alerts": alerts,
        "groupLabels": {"alertname": "High memory usage"},
        "commonLabels": {"alertname": "High memory usage", "team": "payments"},
        "commonAnnotations": {},
        "externalURL": "https://grafana.acme.example/",
        "version": "1",
        "groupKey": "{}:{alertname=\"High memory usage\"}",
        "truncatedAlerts": 0,
        "title": format!("[{}:1]  (High memory usage payments)", status.to_uppercase()),
        "state": if status == "resolved" { "ok" } else { "alerting" },
        "message": "**Firing**\n\nValue: B=94.2, C=1\nLabels:\n - alertname = High memory usage\n"
    })
}

#[tokio::test]
async fn a_grafana_alert_links_its_dashboard_panel_and_silence_and_resolves_from_grafana() {
    let s = scene().await;
    let (status, answer) = s.send_to(GRAFANA, grafana_notification("firing", vec![grafana_alert("firing")])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let id = ids(&answer)[0].clone();
    assert!(id.starts_with("grafana-c6eadffa33fcdf37-"), "{id}");
    s.until_delivered(&id, "SENT").await;
    let alert = s.alert(&id).await;
    assert_eq!(alert["title"], "Memory above 90% on payments-api");
    assert_eq!(alert["severity"], "CRITICAL");
    assert_eq!(alert["createdAt"], "2026-12-04T08:51:03Z");
    assert_eq!(alert["alertContext"]["values"], json!({"B": 94.2, "C": 1}));
    assert_eq!(alert["alertContext"]["orgId"], 1);
    assert_eq!(
        alert["links"],
        json!([
            {"label": "Open dashboard", "url": "https://grafana.acme.example/d/payments?orgId=1"},
            {"label": "Open panel", "url": "https://grafana.acme.example/d/payments?orgId=1&viewPanel=4"},
            {"label": "Silence in Grafana", "url": "https://grafana.acme.example/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage"},
        ])
    );
    let message = top_level(s.slack.messages_in(defaults::SEC_ALERTS)).pop().unwrap();
    let blocks = message.blocks.clone().unwrap();
    let row = blocks.as_array().unwrap().iter().find(|b| b["block_id"].as_str().is_some_and(|id| id.starts_with("links:"))).unwrap();
    let buttons: Vec<(&str, &str)> =
        row["elements"].as_array().unwrap().iter().map(|e| (e["text"]["text"].as_str().unwrap(), e["url"].as_str().unwrap())).collect();
    assert_eq!(buttons.len(), 3, "{row}");
    assert_eq!(buttons[0], ("Open dashboard", "https://grafana.acme.example/d/payments?orgId=1"));
    assert_eq!(buttons[2].0, "Silence in Grafana");

    // Clicking a link opens it in the browser; Herald only acknowledges.
    let click = s.slack.block_actions(defaults::ANA, &message, row["elements"][0].clone());
    let answered = s.slack.send_interaction(&s.herald.url("/slack/interactivity"), defaults::SIGNING_SECRET, &click).await;
    assert_eq!(answered.status(), StatusCode::OK);

    let (status, _) = s.send_to(GRAFANA, grafana_notification("resolved", vec![grafana_alert("resolved")])).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let messages = until_each_shows(&s, "Memory above 90%", "Resolved").await;
    for message in &messages {
        let reply = poll::until("the thread reply", || async { s.replies_to(message).pop().ok_or("none yet") }).await;
        assert_eq!(reply, "Resolved in Grafana.");
    }
    assert_eq!(history(&s.alert(&id).await), ["Resolved in Grafana"]);
}

/// The real thing: Debian's `prometheus-alertmanager` sends to Herald.
/// Ignored by default (it needs the package): `cargo test -p herald-tests
/// --test webhooks -- --ignored`.
#[tokio::test]
#[ignore = "needs Debian's prometheus-alertmanager"]
async fn prometheus_alertmanager_itself_fires_and_resolves_through_herald() {
    let s = scene().await;
    let am = herald_tests::alertmanager::Alertmanager::start(&s.herald.url(ALERTMANAGER), &s.token).await;
    am.fire("TargetDown", "critical", "node-exporter:9100").await;
    let messages = poll::until("Alertmanager's alert in both channels", || async {
        let messages = top_level(s.slack.messages());
        if messages.len() == 2 { Ok(messages) } else { Err(messages.len()) }
    })
    .await;
    assert!(messages[0].text.as_deref().unwrap().contains("TargetDown"), "{:?}", messages[0].text);
    am.resolve("TargetDown", "critical", "node-exporter:9100").await;
    until_each_shows(&s, "TargetDown", "Resolved").await;
}

#[tokio::test]
async fn links_sent_to_the_ingest_api_become_buttons_and_a_bad_one_is_named() {
    let s = scene().await;
    let (status, answer) = s
        .send(json!({"title": "Canary token opened", "severity": "HIGH", "links": [
            {"label": "Open the canary", "url": "https://canary.acme.example/t/42"},
        ]}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let message = s.until_messages_in(defaults::GENERAL, 1).await.remove(0);
    let blocks = message.blocks.unwrap().to_string();
    assert!(blocks.contains(r#""url":"https://canary.acme.example/t/42""#) && blocks.contains("Open the canary"), "{blocks}");

    let (status, answer) = s
        .send(json!({"title": "x", "severity": "HIGH", "links": [
            {"label": "ok", "url": "https://a.example"}, {"label": "", "url": "https://a.example"}, {"label": "js", "url": "javascript:alert(1)"},
        ]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = answer["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["links[1].label", "links[2].url"], "{answer}");
}
