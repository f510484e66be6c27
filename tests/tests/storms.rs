//! Alert storms against the fake Slack at Slack's pace (one message a
//! second per channel): events with the same deduplication key fold into
//! one alert and one message, updated in place with the count at most once
//! every 10 s, and a CRITICAL alert never waits for the storm.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use herald_model::destination::{Severity, SlackBotForm};
use herald_tests::fake_slack::{Message, defaults};
use herald_tests::fixtures::{With, slack_bot};
use herald_tests::poll;
use herald_tests::scene::Scene;
use herald_tests::{FakeSlack, Herald};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn settings(dedup_window: u32) -> SlackBotForm {
    let form = slack_bot("SecOps", "#general").with(|s| s.severities = vec![Severity::Low, Severity::High, Severity::Critical]);
    SlackBotForm { dedup_window: Some(dedup_window), ..form }
}

async fn scene(dedup_window: u32) -> Scene {
    let slack = FakeSlack::start().await;
    slack.limit_channels(Duration::from_secs(1));
    let herald = Herald::start(&slack).await;
    let scene = Scene::new(slack, herald).await;
    scene.admin.add_destination(&settings(dedup_window)).await;
    scene
}

fn storm(range: std::ops::Range<usize>, keys: usize) -> Value {
    let alerts: Vec<Value> = range
        .map(|i| {
            json!({"title": format!("Port scan from 203.0.113.{}", i % keys), "severity": "LOW", "dedupKey": format!("scan-{}", i % keys),
                   "alertContext": {"event": i}})
        })
        .collect();
    json!({ "alerts": alerts })
}

fn ids(answer: &Value) -> Vec<String> {
    answer["alerts"].as_array().unwrap().iter().map(|a| a["alertId"].as_str().unwrap().to_owned()).collect()
}

fn text(message: &Message) -> &str {
    message.text.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn three_hundred_events_of_three_keys_are_three_messages_updated_with_their_counts_and_the_critical_one_goes_next() {
    let s = scene(60).await;
    let (status, first) = s.send(storm(0..150, 3)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let first_ids: HashSet<String> = ids(&first).into_iter().collect();
    assert_eq!(first_ids.len(), 3, "one alert per key");
    let folded = first["alerts"].as_array().unwrap().iter().filter(|a| a["folded"] == true).count();
    assert_eq!(folded, 147, "every event after the first of its key joined that alert");
    s.until_messages_in(defaults::GENERAL, 3).await;

    // The storm goes on, and a CRITICAL alert comes a moment later.
    let (status, second) = s.send(storm(150..300, 3)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "a folded event is accepted: {second}");
    assert!(ids(&second).iter().all(|id| first_ids.contains(id)), "every event joined its key's alert");
    assert!(second["alerts"].as_array().unwrap().iter().all(|a| a["folded"] == true && a["created"] == false));
    let sent_at = Instant::now();
    let (status, _) = s.send(json!({"title": "Root login from a new country", "severity": "CRITICAL"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let messages = s.until_messages_in(defaults::GENERAL, 4).await;
    let critical = messages.iter().find(|m| text(m).contains("Root login")).expect("the CRITICAL message");
    let took = critical.at - sent_at;
    assert!(took < Duration::from_secs(3), "the CRITICAL alert reached Slack {took:?} after it came");

    // Each storm message is updated in place to its whole count.
    let updated = poll::until_within(Duration::from_secs(40), "the three storm messages to show ×100", || async {
        let storm: Vec<Message> = s.slack.messages_in(defaults::GENERAL).into_iter().filter(|m| text(m).contains("Port scan")).collect();
        if storm.len() == 3 && storm.iter().all(|m| text(m).ends_with("×100")) { Ok(storm) } else { Err(storm) }
    })
    .await;
    assert_eq!(s.slack.messages_in(defaults::GENERAL).len(), 4, "four messages in all: three for the storm, one CRITICAL");
    for message in &updated {
        let blocks = message.blocks.as_ref().unwrap().to_string();
        assert!(blocks.contains("×100 · last at <!date^"), "{blocks}");
    }
    // At most one update every 10 s per message, however fast the events came.
    let mut edits: HashMap<String, Vec<Instant>> = HashMap::new();
    for message in &updated {
        edits.entry(message.ts.clone()).or_default().push(message.at);
    }
    for call in s.slack.calls("chat.update") {
        edits.entry(call.params["ts"].as_str().unwrap().to_owned()).or_default().push(call.at);
    }
    for (ts, times) in &edits {
        assert!(times.len() >= 2, "message {ts} was updated");
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_secs(10), "message {ts} was changed twice within {:?}", pair[1] - pair[0]);
        }
    }
    assert_eq!(s.slack.rate_limited_in(defaults::GENERAL), 0, "no 429 in the channel");

    // The alert keeps the latest event, twenty before it, and says so.
    let id = ids(&first)[0].clone();
    let alert = s.alert(&id).await;
    assert_eq!(alert["eventCount"], 100);
    assert_eq!(alert["alertContext"], json!({"event": 297}), "the latest event's context");
    let earlier = alert["earlierEvents"].as_array().unwrap();
    assert_eq!(earlier.len(), 20, "a bounded list of earlier events");
    assert_eq!(serde_json::from_str::<Value>(earlier[0]["context"].as_str().unwrap()).unwrap(), json!({"event": 294}), "newest first");
    let history: Vec<&str> = alert["activity"].as_array().unwrap().iter().map(|a| a["summary"].as_str().unwrap()).collect();
    assert_eq!(history, ["99 more events"], "one entry counts the run of events");
    let list: Value = s.admin.get("/api/alerts").await.json().await.unwrap();
    let row = list["alerts"].as_array().unwrap().iter().find(|a| a["id"] == id.as_str()).unwrap();
    assert_eq!(row["eventCount"], 100);
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("herald_alerts_folded_total 297\n"), "{metrics}");
}

#[tokio::test]
async fn with_folding_off_every_event_is_an_alert_and_the_critical_one_still_goes_next() {
    let s = scene(0).await;
    let (status, answer) = s.send(storm(0..300, 1)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(ids(&answer).into_iter().collect::<HashSet<_>>().len(), 300, "300 alerts");
    s.until_messages_in(defaults::GENERAL, 1).await;
    let sent_at = Instant::now();
    assert_eq!(s.send(json!({"title": "Root login from a new country", "severity": "CRITICAL"})).await.0, StatusCode::ACCEPTED);
    let (ahead, critical) = poll::until_within(Duration::from_secs(30), "the CRITICAL alert in #general", || async {
        let messages = s.slack.messages_in(defaults::GENERAL);
        match messages.iter().position(|m| text(m).contains("Root login")) {
            Some(at) => Ok((at, messages[at].clone())),
            None => Err(messages.len()),
        }
    })
    .await;
    let took = critical.at - sent_at;
    assert!(took < Duration::from_secs(3), "the CRITICAL alert reached Slack {took:?} after it came");
    // The storm drains behind it at the channel's pace.
    let messages = s.until_messages_in(defaults::GENERAL, ahead + 5).await;
    let span = messages[ahead + 4].at - messages[ahead + 1].at;
    assert!(span >= Duration::from_secs(3), "three gaps of a second: {span:?}");
    assert_eq!(s.slack.rate_limited_in(defaults::GENERAL), 0, "no 429 in the channel");
}

#[tokio::test]
async fn an_event_after_its_alert_was_resolved_starts_a_new_alert_and_a_triaged_one_still_takes_events() {
    let s = scene(60).await;
    let event = |n: u32| json!({"title": "Impossible travel", "detectionId": "Okta.ImpossibleTravel", "severity": "HIGH", "alertContext": {"n": n}});
    let (_, first) = s.send(event(1)).await;
    let id = ids(&first)[0].clone();
    let triaged = s.admin.patch(&format!("/api/alerts/{id}"), json!({"status": "TRIAGED"})).await;
    assert_eq!(triaged.status(), StatusCode::OK);
    let (status, second) = s.send(event(2)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(second["alerts"][0]["alertId"], id.as_str(), "the detection and title are the default key");
    assert_eq!(second["alerts"][0]["folded"], true);

    let resolved = s.admin.patch(&format!("/api/alerts/{id}"), json!({"status": "RESOLVED"})).await;
    assert_eq!(resolved.status(), StatusCode::OK);
    let (status, third) = s.send(event(3)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let new_id = ids(&third)[0].clone();
    assert_ne!(new_id, id, "a resolved alert is not reopened");
    assert_eq!(third["alerts"][0]["created"], true);
    assert_eq!(s.alert(&id).await["status"], "RESOLVED");
    assert_eq!(s.alert(&id).await["eventCount"], 2);
    assert_eq!(s.alert(&new_id).await["eventCount"], 1);
    // A more severe event of the same key is never hidden in a lesser alert.
    let (_, critical) = s.send(json!({"title": "Impossible travel", "detectionId": "Okta.ImpossibleTravel", "severity": "CRITICAL"})).await;
    assert_eq!(critical["alerts"][0]["created"], true);
    // An alertId seen before is still a repeat, not an event.
    let (status, again) = s.send(json!({"alertId": new_id, "title": "Impossible travel", "severity": "HIGH"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["alerts"][0]["folded"], false);
    assert_eq!(s.alert(&new_id).await["eventCount"], 1);
    // The list finds the alerts that events were folded into.
    let repeated: Value = s.admin.get("/api/alerts?repeated=true").await.json().await.unwrap();
    let listed: Vec<&str> = repeated["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [id.as_str()], "only the alert with two events");
    let all: Value = s.admin.get("/api/alerts").await.json().await.unwrap();
    assert_eq!(all["alerts"].as_array().unwrap().len(), 3);
    s.until_messages_in(defaults::GENERAL, 3).await;
}

#[tokio::test]
async fn the_count_and_the_last_event_survive_a_crash_mid_storm() {
    let mut s = scene(60).await;
    let (_, first) = s.send(storm(0..5, 1)).await;
    let id = ids(&first)[0].clone();
    s.until_messages_in(defaults::GENERAL, 1).await;
    s.herald.crash().await;
    s.herald.resume().await;
    let (_, second) = s.send(storm(5..12, 1)).await;
    assert!(ids(&second).iter().all(|i| *i == id), "{second}");
    let alert = s.alert(&id).await;
    assert_eq!(alert["eventCount"], 12);
    assert_eq!(alert["alertContext"], json!({"event": 11}));
    assert_eq!(alert["earlierEvents"].as_array().unwrap().len(), 11);
    assert_eq!(alert["activity"][0]["summary"], "11 more events");
    let message = poll::until_within(Duration::from_secs(30), "the message to show ×12", || async {
        let messages = s.slack.messages_in(defaults::GENERAL);
        match messages.first() {
            Some(m) if text(m).ends_with("×12") => Ok(m.clone()),
            _ => Err(messages),
        }
    })
    .await;
    assert_eq!(s.slack.messages_in(defaults::GENERAL).len(), 1, "one message: {message:?}");
}
