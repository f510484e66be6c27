//! Mentions per severity and reminders while an alert stays Open: the
//! destination's settings decide who a message notifies (user groups typed
//! by handle are looked up in Slack), and an alert nobody picks up gets
//! replies in its thread, durably, until someone triages it.

use std::time::Duration;

use herald_model::destination::Severity;
use herald_model::mention::{Mentions, parse_list};
use herald_tests::fake_slack::{Message, defaults};
use herald_tests::fixtures::{With, slack_bot};
use herald_tests::poll;
use herald_tests::scene::Scene;
use herald_tests::{FakeSlack, Herald};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Herald whose reminder minutes last `minute`.
async fn scene(minute: Duration) -> Scene {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.reminder_minute = minute).await;
    Scene::new(slack, herald).await
}

fn mentions(lists: &[(Severity, &str)]) -> Mentions {
    Mentions::from_lists(lists.iter().map(|(severity, typed)| (*severity, parse_list(*severity, typed).unwrap())))
}

fn alert(id: &str, severity: &str, title: &str) -> Value {
    json!({"alertId": id, "title": title, "severity": severity, "detectionId": "Acme.Rule"})
}

/// The alert's message (not a reply) in `channel`.
fn message_of(s: &Scene, channel: &str, title: &str) -> Message {
    s.slack
        .messages_in(channel)
        .into_iter()
        .find(|m| m.thread_ts.is_none() && m.text.as_deref().is_some_and(|t| t.contains(title)))
        .unwrap_or_else(|| panic!("no message for {title:?} in {channel}"))
}

#[tokio::test]
async fn user_groups_typed_by_handle_are_looked_up_and_each_severity_notifies_only_its_own() {
    let s = scene(Duration::from_secs(60)).await;
    let id = s.admin.add_draft().await;
    let form = slack_bot("SecOps", "#sec-alerts").with(|d| {
        d.severities = Severity::ALL.to_vec();
        d.mentions = mentions(&[(Severity::Critical, "@here, @sec-oncall"), (Severity::High, &format!("<@{}>", defaults::ANA))]);
    });
    let put =
        |form: &herald_model::destination::SlackBotForm| s.admin.request(Method::PUT, &format!("/api/destinations/{id}")).json(form).send();

    // Without usergroups:read, Slack refuses the lookup: the field says what to do.
    let refused = put(&form).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["field"], "mentions.CRITICAL", "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("usergroups:read") && message.contains("S0123ABCD"), "{message}");

    // With the scope (the app reinstalled from the manifest that asks for it).
    s.slack.set_scopes(defaults::BOT_TOKEN, &format!("{},usergroups:read", defaults::SCOPES));
    let unknown = form.clone().with(|d| {
        d.mentions.set(Severity::Low, parse_list(Severity::Low, "@nobody-here").unwrap());
    });
    let refused = put(&unknown).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["field"], "mentions.LOW", "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("@nobody-here") && message.contains("@sec-oncall, @platform"), "{message}");

    s.admin.save_settings(&id, &form).await;
    assert_eq!(s.admin.post(&format!("/api/destinations/{id}/finish"), json!({})).await.status(), StatusCode::OK);
    let view: Value = s.admin.get(&format!("/api/destinations/{id}")).await.json().await.unwrap();
    let group = format!("<!subteam^{}|@sec-oncall>", defaults::SEC_ONCALL);
    assert_eq!(view["mentions"], json!({"HIGH": [format!("<@{}>", defaults::ANA)], "CRITICAL": ["@here", group]}));
    assert_eq!((view["remindAfter"].as_u64(), view["remindTimes"].as_u64()), (Some(0), Some(3)), "reminders are off by default");

    // Saved again as the form shows it (`@sec-oncall`), with the scope gone:
    // the group is known already, so Slack is not asked.
    s.slack.set_scopes(defaults::BOT_TOKEN, defaults::SCOPES);
    let again = form.clone().with(|d| d.display_name = "SecOps on-call".into());
    let again = herald_model::destination::SlackBotForm { bot_token: None, ..again };
    s.admin.save_settings(&id, &again).await;
    // A client that knows nothing of mentions and reminders keeps them.
    let mut older = serde_json::to_value(&again).unwrap();
    for key in ["mentions", "remindAfter", "remindTimes"] {
        older.as_object_mut().unwrap().remove(key);
    }
    let kept = s.admin.request(Method::PUT, &format!("/api/destinations/{id}")).json(&older).send().await.unwrap();
    assert_eq!(kept.status(), StatusCode::OK);
    assert_eq!(kept.json::<Value>().await.unwrap()["mentions"], view["mentions"]);

    // A draft saved as typed keeps a handle it could not look up; finishing
    // it says so instead of sending mentions that notify nobody.
    let draft = s.admin.add_draft().await;
    let typed = slack_bot("Platform", "#general").with(|d| d.mentions = mentions(&[(Severity::High, "@platform")]));
    let autosaved = s.admin.patch(&format!("/api/destinations/{draft}/draft"), json!({"step": 5, "form": typed})).await;
    assert_eq!(autosaved.status(), StatusCode::OK);
    let refused = s.admin.post(&format!("/api/destinations/{draft}/finish"), json!({})).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["field"], "mentions.HIGH", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("@platform"), "{error}");

    let (status, _) = s
        .send(json!({"alerts": [
            alert("crit", "CRITICAL", "<!channel> Root login from a new country"),
            alert("med", "MEDIUM", "Unusual API volume"),
        ]}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    s.until_messages_in(defaults::SEC_ALERTS, 2).await;
    let critical = message_of(&s, defaults::SEC_ALERTS, "Root login");
    let text = critical.text.as_deref().unwrap();
    let lead = format!("<!here> <!subteam^{}> ", defaults::SEC_ONCALL);
    assert!(text.starts_with(&lead), "the notification names them: {text}");
    assert!(text.contains("&lt;!channel&gt;"), "the alert's own text stays text: {text}");
    assert_eq!(critical.blocks.as_ref().unwrap()[1]["text"]["text"], lead.trim_end(), "and the message shows them");
    let medium = message_of(&s, defaults::SEC_ALERTS, "Unusual API volume");
    assert!(!medium.text.as_deref().unwrap().contains("<!"), "MEDIUM mentions nobody: {:?}", medium.text);
}

#[tokio::test]
async fn a_reminder_comes_after_its_time_for_an_open_alert_and_not_for_one_triaged_before_across_a_restart() {
    // A reminder "minute" of one second: remind after 4 s, twice.
    let mut s = scene(Duration::from_secs(1)).await;
    let form = slack_bot("SecOps", "#sec-alerts").with(|d| {
        d.remind_after = 4;
        d.remind_times = 2;
        d.mentions = mentions(&[(Severity::High, "@here")]);
    });
    s.admin.add_destination(&form).await;
    let (status, _) = s.send(json!({"alerts": [alert("left", "HIGH", "Left open"), alert("taken", "HIGH", "Picked up")]})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    s.until_delivered("left", "SENT").await;
    s.until_delivered("taken", "SENT").await;
    let changed = s.admin.patch("/api/alerts/taken", json!({"status": "TRIAGED"})).await;
    assert_eq!(changed.status(), StatusCode::OK);

    // Stopped and started again before the first reminder is due (a
    // restart: the next replica takes over at once; after a crash it would
    // wait for the lease to lapse, and reminders missed meanwhile are sent
    // as one, which the store's contract tests).
    s.herald.pause().await;
    s.herald.resume().await;
    let admin = s.herald.sign_in_as_admin().await;
    s.admin = admin;

    let left = message_of(&s, defaults::SEC_ALERTS, "Left open");
    let reminders = poll::until("two reminders in the open alert's thread", || async {
        let replies = s.replies_to(&left);
        if replies.len() >= 2 { Ok(replies) } else { Err(replies) }
    })
    .await;
    assert_eq!(reminders.len(), 2, "{reminders:?}");
    assert!(reminders[0].starts_with("⏰ <!here> Reminder 1 of 2: this alert is still *Open*"), "{}", reminders[0]);
    assert!(reminders[1].starts_with("⏰ <!here> Reminder 2 of 2"), "{}", reminders[1]);
    // "4 minutes after it came in": the reminder minutes waited, read when
    // it was sent (at least the setting's).
    let waited = |text: &str| text.split(" minutes after").next().and_then(|t| t.rsplit(' ').next()).and_then(|n| n.parse::<u64>().ok());
    assert!(waited(&reminders[0]).is_some_and(|m| (4..8).contains(&m)), "{}", reminders[0]);
    assert!(waited(&reminders[1]).is_some_and(|m| m >= 8), "{}", reminders[1]);

    // The reminders due for both are past: the triaged one got none, and
    // none is left to come for either.
    let database = s.herald.database().await;
    assert_eq!(database.count("SELECT count(*) FROM reminders").await, 0, "every reminder sent or dropped");
    database.close().await;
    let taken = message_of(&s, defaults::SEC_ALERTS, "Picked up");
    let replies = s.replies_to(&taken);
    assert!(replies.iter().all(|r| !r.contains("Reminder")), "{replies:?}");
    // Counted since the restart (both were due after it, unless the machine
    // took seconds to get there).
    let metrics = s.herald.get("/metrics").await.text().await.unwrap();
    let counted = metrics.lines().find_map(|l| l.strip_prefix("herald_reminders_total ")).and_then(|n| n.parse::<u64>().ok());
    assert!(counted.is_some_and(|n| (1..=2).contains(&n)), "{metrics}");
}
