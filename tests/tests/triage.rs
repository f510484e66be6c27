//! Triage: status, assignee, comments and Boomerang, from Herald's console
//! and from Slack; every copy of the alert's message follows, each thread
//! hears who did what, and the alert's history records it.

use herald_tests::fake_slack::{Message, defaults};
use herald_tests::poll;
use herald_tests::{FakeSlack, Herald, Session};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn settings(name: &str, channel: &str) -> Value {
    json!({
        "displayName": name, "channel": channel, "clientId": defaults::CLIENT_ID,
        "clientSecret": defaults::CLIENT_SECRET, "signingSecret": defaults::SIGNING_SECRET, "botToken": defaults::BOT_TOKEN,
        "severities": ["HIGH"], "alertKinds": ["ALERTS"], "timezone": "UTC",
    })
}

pub struct Scene {
    pub slack: FakeSlack,
    pub herald: Herald,
    pub admin: Session,
    pub alert_id: String,
}

/// An alert delivered to #general and #sec-alerts.
async fn scene() -> Scene {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    admin.add_destination(settings("SecOps", "#general")).await;
    admin.add_destination(settings("Cloud", "#sec-alerts")).await;
    let token = admin.api_token().await;
    let sent = herald.send_alerts(&token, &json!({"alertId": "a1", "title": "Suspicious login", "severity": "HIGH"})).await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let scene = Scene { slack, herald, admin, alert_id: "a1".into() };
    scene.alert_message(defaults::GENERAL).await;
    scene.alert_message(defaults::SEC_ALERTS).await;
    scene
}

impl Scene {
    /// The alert's message in `channel` (not a thread reply).
    async fn alert_message(&self, channel: &str) -> Message {
        poll::until(&format!("the alert's message in {channel}"), || async {
            self.slack.messages_in(channel).into_iter().find(|m| m.thread_ts.is_none()).ok_or("not yet")
        })
        .await
    }

    /// Waits until the message in `channel` shows `text` in its blocks.
    async fn until_message_shows(&self, channel: &str, text: &str) -> Message {
        poll::until(&format!("the message in {channel} to show {text:?}"), || async {
            let message = self.alert_message(channel).await;
            let blocks = serde_json::to_string(&message.blocks).unwrap();
            if blocks.contains(text) { Ok(message) } else { Err(blocks) }
        })
        .await
    }

    /// Waits for a reply containing `text` in the thread of `channel`'s alert message.
    async fn until_reply(&self, channel: &str, text: &str) -> Message {
        let parent = self.alert_message(channel).await;
        poll::until(&format!("a reply {text:?} in {channel}"), || async {
            let replies: Vec<Message> =
                self.slack.messages_in(channel).into_iter().filter(|m| m.thread_ts.as_deref() == Some(parent.ts.as_str())).collect();
            replies.iter().find(|m| m.text.as_deref().is_some_and(|t| t.contains(text))).cloned().ok_or(replies)
        })
        .await
    }

    async fn alert(&self) -> Value {
        self.admin.get(&format!("/api/alerts/{}", self.alert_id)).await.json().await.unwrap()
    }
}

#[tokio::test]
async fn a_status_change_in_the_console_updates_every_copy_in_slack_and_replies_in_each_thread() {
    let s = scene().await;
    let changed = s.admin.patch("/api/alerts/a1", json!({"status": "TRIAGED"})).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let view: Value = changed.json().await.unwrap();
    assert_eq!(view["status"], "TRIAGED");
    for channel in [defaults::GENERAL, defaults::SEC_ALERTS] {
        let message = s.until_message_shows(channel, "*Status*\\nTriaged").await;
        assert!(message.edits >= 1, "updated in place");
        s.until_reply(channel, "changed the status from *Open* to *Triaged*").await;
    }
    let activity = &s.alert().await["activity"];
    assert_eq!(activity.as_array().unwrap().len(), 1, "{activity}");
    assert_eq!(activity[0]["source"], "CONSOLE");
    assert_eq!(activity[0]["summary"], "admin changed the status from Open to Triaged");

    // The same status again changes nothing.
    s.admin.patch("/api/alerts/a1", json!({"status": "TRIAGED"})).await;
    assert_eq!(s.alert().await["activity"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn assigning_and_commenting_in_the_console_show_in_slack_and_in_the_history() {
    let s = scene().await;
    let assignees: Value = s.admin.get("/api/assignees").await.json().await.unwrap();
    let admin_id = assignees["users"][0]["id"].as_str().unwrap().to_owned();
    let assigned = s.admin.patch("/api/alerts/a1", json!({"assigneeId": admin_id})).await;
    assert_eq!(assigned.status(), StatusCode::OK);
    s.until_message_shows(defaults::GENERAL, "*Assignee*\\nadmin").await;
    s.until_reply(defaults::SEC_ALERTS, "assigned the alert to admin").await;

    let commented = s.admin.post("/api/alerts/a1/comments", json!({"comment": "Checked <!channel> with the user"})).await;
    assert_eq!(commented.status(), StatusCode::CREATED);
    let reply = s.until_reply(defaults::GENERAL, "commented:").await;
    assert!(reply.text.unwrap().contains("&lt;!channel&gt;"), "comments are escaped");
    let empty = s.admin.post("/api/alerts/a1/comments", json!({"comment": "  "})).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = s.admin.patch("/api/alerts/a1", json!({"assigneeId": "nobody"})).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let summaries: Vec<String> =
        s.alert().await["activity"].as_array().unwrap().iter().map(|a| a["summary"].as_str().unwrap().to_owned()).collect();
    assert_eq!(summaries, ["admin assigned the alert to admin", "admin commented: Checked <!channel> with the user"]);
}
