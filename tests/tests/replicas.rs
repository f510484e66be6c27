//! Two Herald replicas on one PostgreSQL database, each the real `herald`
//! binary in its own process: one killed mid-backlog, pacing across both,
//! a change on one seen by the other, a click on the replica that did not
//! post, a rolling restart. These always run on PostgreSQL (a scratch
//! database each); `cargo xtask test` runs them in its first pass only.
//! Each prints its figures (`cargo test -- --nocapture` shows them).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use herald_server::settings::DatabaseUrl;
use herald_tests::database::Database;
use herald_tests::fake_slack::{Message, defaults, unix_now};
use herald_tests::fixtures::slack_bot;
use herald_tests::poll;
use herald_tests::replicas::{Deployment, Replica};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The replica delivering (holding the lease) and the one standing by.
async fn roles(replicas: Vec<Replica>) -> (Replica, Replica) {
    let index = poll::until("one replica to deliver", || async {
        for (i, replica) in replicas.iter().enumerate() {
            if replica.delivering().await {
                return Ok(i);
            }
        }
        Err("none yet")
    })
    .await;
    let mut replicas = replicas;
    let leader = replicas.remove(index);
    (leader, replicas.pop().expect("two replicas"))
}

/// `count` HIGH alerts titled `{prefix} {n}`, sent in batches of 100 to
/// each replica in turn.
async fn send_backlog(replicas: [&Replica; 2], token: &str, prefix: &str, count: usize) {
    for (batch, start) in (0..count).step_by(100).enumerate() {
        let alerts: Vec<Value> =
            (start..(start + 100).min(count)).map(|n| json!({"title": format!("{prefix} {n}"), "severity": "HIGH"})).collect();
        let response = replicas[batch % 2].send_alerts(token, &json!({ "alerts": alerts })).await;
        assert!(response.status().is_success(), "batch {batch}: {}", response.status());
    }
}

/// How many times each alert of the backlog was posted, by its number.
fn posts_by_alert(messages: &[Message], prefix: &str) -> HashMap<usize, usize> {
    let mut posts = HashMap::new();
    for message in messages.iter().filter(|m| m.thread_ts.is_none()) {
        let text = message.text.as_deref().unwrap_or_default();
        let Some(at) = text.find(&format!("{prefix} ")) else { continue };
        let digits: String = text[at + prefix.len() + 1..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            *posts.entry(n).or_insert(0) += 1;
        }
    }
    posts
}

#[tokio::test]
async fn two_replicas_one_killed_mid_backlog_the_other_delivers_every_alert_within_a_minute() {
    let d = Deployment::new(&["--slack-pacing=off"]).await;
    let (first, second) = (d.start("a").await, d.start("b").await);
    let admin = first.sign_in_as_admin().await;
    admin.add_destination(&slack_bot("SecOps", "#general")).await;
    let token = admin.api_token().await;
    // Slack answers slowly: the backlog takes a while, so the kill lands mid-way.
    d.slack.set_latency(Duration::from_millis(300));
    const ALERTS: usize = 2_000;
    send_backlog([&first, &second], &token, "Backlog", ALERTS).await;
    let (mut leader, survivor) = roles(vec![first, second]).await;
    poll::until_within(Duration::from_secs(60), "300 messages to arrive", || async {
        let arrived = d.slack.messages_in(defaults::GENERAL).len();
        if arrived >= 300 { Ok(()) } else { Err(arrived) }
    })
    .await;

    leader.kill();
    let killed_at = Instant::now();
    // Frozen until the survivor takes over: what the dead replica recorded.
    let database = Database::connect(&DatabaseUrl::Postgres(d.database.url.clone())).await;
    let recorded = database.count("SELECT count(*) FROM deliveries WHERE state = 'SENT'").await;
    assert!(!survivor.delivering().await, "the survivor waits for the dead replica's lease to lapse");

    let messages = poll::until_within(Duration::from_secs(120), "every alert to arrive", || async {
        let messages = d.slack.messages_in(defaults::GENERAL);
        let posts = posts_by_alert(&messages, "Backlog");
        if posts.len() == ALERTS { Ok(messages) } else { Err(posts.len()) }
    })
    .await;
    let posts = posts_by_alert(&messages, "Backlog");
    let duplicates: usize = posts.values().map(|n| n - 1).sum();
    let lost = ALERTS - posts.len();
    // The dead replica's posts all arrived within Slack's answer time of
    // the kill; the survivor's only after the lease lapsed.
    let by_dead = messages.iter().filter(|m| m.at < killed_at + Duration::from_secs(2)).count();
    let in_flight = by_dead - usize::try_from(recorded).unwrap();
    let handover = messages.iter().map(|m| m.at).filter(|at| *at > killed_at + Duration::from_secs(2)).min().unwrap() - killed_at;
    println!(
        "kill mid-backlog: {ALERTS} alerts, lost {lost}, duplicates {duplicates} (in flight at the kill: {in_flight}), \
         handover {:.1} s",
        handover.as_secs_f64()
    );
    assert_eq!(lost, 0);
    assert!(duplicates <= in_flight, "duplicates {duplicates} > in flight {in_flight}");
    assert!(handover < Duration::from_secs(60), "handover took {handover:?}");
    assert!(survivor.delivering().await);
    let alerts: Value = admin.at(&survivor.base_url).get("/api/alerts?limit=1").await.json().await.unwrap();
    assert_eq!(alerts["alerts"][0]["delivery"], "SENT", "the survivor serves the console too: {alerts}");
}

#[tokio::test]
async fn two_replicas_keep_one_pace_per_channel() {
    let d = Deployment::new(&[]).await;
    // Slack's rule at the fake: one message a second per channel, else 429.
    d.slack.limit_channels(Duration::from_secs(1));
    let (first, second) = (d.start("a").await, d.start("b").await);
    let admin = first.sign_in_as_admin().await;
    admin.add_destination(&slack_bot("SecOps", "#general")).await;
    let token = admin.api_token().await;
    const ALERTS: usize = 8;
    for n in 0..ALERTS {
        let replica = if n % 2 == 0 { &first } else { &second };
        let response = replica.send_alerts(&token, &json!({"title": format!("Paced {n}"), "severity": "HIGH"})).await;
        assert!(response.status().is_success());
    }
    let messages = poll::until_within(Duration::from_secs(60), "every alert to arrive", || async {
        let messages = d.slack.messages_in(defaults::GENERAL);
        if messages.len() >= ALERTS { Ok(messages) } else { Err(messages.len()) }
    })
    .await;
    let span = messages.last().unwrap().at - messages.first().unwrap().at;
    let rate = (ALERTS - 1) as f64 / span.as_secs_f64();
    let limited = d.slack.rate_limited_in(defaults::GENERAL);
    println!("pacing across two replicas: {ALERTS} messages, {rate:.2} msg/s in the channel, {limited} answered 429");
    assert_eq!(limited, 0, "no 429 of Herald's own making");
    assert!(rate <= 1.0, "{rate:.2} msg/s");
}

#[tokio::test]
async fn two_replicas_a_destination_disabled_through_one_gets_nothing_from_the_other_after_two_seconds() {
    let d = Deployment::new(&[]).await;
    let (first, second) = (d.start("a").await, d.start("b").await);
    let (leader, other) = roles(vec![first, second]).await;
    let admin = other.sign_in_as_admin().await;
    let disabled = admin.add_destination(&slack_bot("SecOps", "#general")).await;
    admin.add_destination(&slack_bot("Cloud", "#sec-alerts")).await;
    let token = admin.api_token().await;
    // Paced at about one a second per channel: the backlog takes seconds.
    const ALERTS: usize = 8;
    for n in 0..ALERTS {
        let response = other.send_alerts(&token, &json!({"title": format!("Both {n}"), "severity": "HIGH"})).await;
        assert!(response.status().is_success());
    }
    poll::until("two messages in #general", || async {
        let arrived = d.slack.messages_in(defaults::GENERAL).len();
        if arrived >= 2 { Ok(()) } else { Err(arrived) }
    })
    .await;
    let response = admin.post(&format!("/api/destinations/{disabled}/disable"), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let disabled_at = Instant::now();
    // The other destination keeps getting its messages from the leader.
    poll::until_within(Duration::from_secs(60), "every alert in #sec-alerts", || async {
        let arrived = d.slack.messages_in(defaults::SEC_ALERTS).len();
        if arrived >= ALERTS { Ok(()) } else { Err(arrived) }
    })
    .await;
    let after: Vec<Duration> =
        d.slack.messages_in(defaults::GENERAL).iter().filter(|m| m.at > disabled_at).map(|m| m.at - disabled_at).collect();
    let late = after.iter().filter(|gap| **gap > Duration::from_secs(2)).count();
    println!(
        "disabled through one replica: {} messages after it by the other, the last {:?} after; {late} after 2 s",
        after.len(),
        after.last()
    );
    assert_eq!(late, 0);
    assert!(d.slack.messages_in(defaults::GENERAL).len() < ALERTS, "the disabled destination did not get the whole backlog");
    assert!(leader.delivering().await, "the other replica delivered throughout");
}

#[tokio::test]
async fn two_replicas_a_click_on_the_one_that_did_not_post_acts_once_and_its_replay_is_refused_by_the_other() {
    let d = Deployment::new(&[]).await;
    let (first, second) = (d.start("a").await, d.start("b").await);
    let (leader, other) = roles(vec![first, second]).await;
    let admin = leader.sign_in_as_admin().await;
    admin.add_destination(&slack_bot("SecOps", "#general")).await;
    admin.add_user(defaults::ANA_EMAIL, "Ana", "ANALYST").await;
    let token = admin.api_token().await;
    let sent = leader.send_alerts(&token, &json!({"alertId": "a1", "title": "Suspicious login", "severity": "HIGH"})).await;
    assert!(sent.status().is_success());
    let message =
        poll::until("the alert's message", || async { d.slack.messages_in(defaults::GENERAL).into_iter().next().ok_or("not yet") }).await;

    let action =
        json!({"type": "static_select", "action_id": "alert.status", "block_id": "alert:a1", "selected_option": {"value": "TRIAGED"}});
    let payload = d.slack.block_actions(defaults::ANA, &message, action);
    let body = url::form_urlencoded::Serializer::new(String::new()).append_pair("payload", &payload.to_string()).finish();
    let form = "application/x-www-form-urlencoded";
    let at = unix_now();
    let on_other = format!("{}/slack/interactivity", other.base_url);
    let clicked = d.slack.post_signed_at(&on_other, defaults::SIGNING_SECRET, form, body.clone(), None, at).await;
    assert_eq!(clicked.status(), StatusCode::OK);
    let replayed =
        d.slack.post_signed_at(&format!("{}/slack/interactivity", leader.base_url), defaults::SIGNING_SECRET, form, body, None, at).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "the replay reached the other replica and was refused");

    let updated = poll::until("the message to show the new status", || async {
        let message = d.slack.messages_in(defaults::GENERAL).into_iter().next().unwrap();
        if message.edits >= 1 { Ok(message) } else { Err("not updated yet") }
    })
    .await;
    let alert: Value = admin.at(&other.base_url).get("/api/alerts/a1").await.json().await.unwrap();
    let activity = alert["activity"].as_array().unwrap();
    println!("a click on the other replica: the message edited {} time(s), {} history entries", updated.edits, activity.len());
    assert_eq!(alert["status"], "TRIAGED");
    assert_eq!(activity.len(), 1, "acted on once: {activity:?}");
    assert_eq!(updated.edits, 1);
}

#[tokio::test]
async fn two_replicas_a_rolling_restart_loses_nothing_and_sends_nothing_twice() {
    let d = Deployment::new(&["--slack-pacing=off"]).await;
    let (first, second) = (d.start("a").await, d.start("b").await);
    let admin = first.sign_in_as_admin().await;
    admin.add_destination(&slack_bot("SecOps", "#general")).await;
    let token = admin.api_token().await;
    // About 64 messages a second: most of the backlog is left at the stop.
    d.slack.set_latency(Duration::from_secs(1));
    const ALERTS: usize = 600;
    send_backlog([&first, &second], &token, "Rolling", ALERTS).await;
    let (mut leader, survivor) = roles(vec![first, second]).await;
    poll::until_within(Duration::from_secs(60), "100 messages to arrive", || async {
        let arrived = d.slack.messages_in(defaults::GENERAL).len();
        if arrived >= 100 { Ok(()) } else { Err(arrived) }
    })
    .await;
    let stopping = Instant::now();
    assert!(leader.terminate().await, "a clean exit: {}", leader.log());
    let stopped_in = stopping.elapsed();
    let restarted = d.start(&format!("{}-again", leader.name)).await;

    let messages = poll::until_within(Duration::from_secs(120), "every alert to arrive", || async {
        let messages = d.slack.messages_in(defaults::GENERAL);
        let posts = posts_by_alert(&messages, "Rolling");
        if posts.len() == ALERTS { Ok(messages) } else { Err(posts.len()) }
    })
    .await;
    let posts = posts_by_alert(&messages, "Rolling");
    let duplicates: usize = posts.values().map(|n| n - 1).sum();
    let handed_over = messages.iter().map(|m| m.at).filter(|at| *at > stopping + stopped_in).min().map(|at| at - stopping);
    println!(
        "rolling restart: {ALERTS} alerts, lost {}, duplicates {duplicates}; stopped in {:.1} s, the other replica sending {:.1} s after SIGTERM",
        ALERTS - posts.len(),
        stopped_in.as_secs_f64(),
        handed_over.unwrap_or_default().as_secs_f64()
    );
    assert_eq!(duplicates, 0);
    assert!(handed_over.is_some(), "the other replica sent the rest of the backlog");
    assert!(survivor.delivering().await || restarted.delivering().await);
}

#[tokio::test]
async fn two_replicas_in_socket_mode_each_keep_a_connection_and_every_envelope_is_acted_on_once() {
    let d = Deployment::new(&[]).await;
    let (first, second) = (d.start("a").await, d.start("b").await);
    let admin = first.sign_in_as_admin().await;
    admin.add_destination(&herald_tests::fixtures::socket_mode_bot("SecOps", "#general")).await;
    admin.add_user(defaults::ANA_EMAIL, "Ana", "ANALYST").await;
    // The replica the token was saved on connects at once; the other finds
    // it when it next looks at the stored apps (every 15 s).
    poll::until_within(Duration::from_secs(40), "a connection from each replica", || async {
        let open = d.slack.socket_connections();
        if open == 2 { Ok(()) } else { Err(open) }
    })
    .await;
    let token = admin.api_token().await;
    const ALERTS: usize = 8;
    for n in 1..=ALERTS {
        let sent =
            second.send_alerts(&token, &json!({"alertId": format!("a{n}"), "title": format!("Alert {n}"), "severity": "HIGH"})).await;
        assert!(sent.status().is_success());
    }
    let messages = poll::until_within(Duration::from_secs(60), "every alert's message", || async {
        let messages: Vec<Message> = d.slack.messages_in(defaults::GENERAL).into_iter().filter(|m| m.thread_ts.is_none()).collect();
        if messages.len() == ALERTS { Ok(messages) } else { Err(messages.len()) }
    })
    .await;
    // Two acknowledgements lost: those envelopes come again, maybe to the
    // other replica.
    d.slack.lose_acks(2);
    let mut envelopes = Vec::new();
    for message in &messages {
        let id = serde_json::to_string(&message.blocks).unwrap().split("alert:").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let action = json!({"type": "static_select", "action_id": "alert.status", "block_id": format!("alert:{id}"),
            "selected_option": {"value": "TRIAGED"}});
        envelopes.push((id, d.slack.click_over_socket(defaults::ANA, message, action)));
    }
    for (id, _) in &envelopes {
        let alert = poll::until_within(Duration::from_secs(30), &format!("{id} triaged"), || async {
            let alert: Value = admin.get(&format!("/api/alerts/{id}")).await.json().await.unwrap();
            if alert["status"] == "TRIAGED" { Ok(alert) } else { Err(alert["status"].clone()) }
        })
        .await;
        assert_eq!(alert["activity"].as_array().unwrap().len(), 1, "{id} acted on once: {}", alert["activity"]);
    }
    let mut connections = std::collections::BTreeSet::new();
    let mut retried = 0;
    for (_, envelope) in &envelopes {
        let e = poll::until("the envelope acknowledged", || async {
            let e = d.slack.envelope(envelope);
            if e.acks.is_empty() { Err(e.sent) } else { Ok(e) }
        })
        .await;
        connections.insert(e.connections[0]);
        retried += usize::from(e.sent > 1);
    }
    println!(
        "Socket Mode on two replicas: {ALERTS} clicks over {} connections, {retried} sent again, each acted on once",
        connections.len()
    );
    assert_eq!(connections.len(), 2, "the envelopes were spread over both replicas' connections");
    assert_eq!(retried, 2);
    // Each replica's own counters: both received envelopes.
    for replica in [&first, &second] {
        let metrics = reqwest::get(format!("{}/metrics", replica.base_url)).await.unwrap().text().await.unwrap();
        let envelopes: u64 =
            metrics.lines().find_map(|l| l.strip_prefix("herald_socket_mode_envelopes_total ")?.parse().ok()).expect("the envelope count");
        assert!(envelopes >= 1, "{} received none", replica.name);
    }
}
