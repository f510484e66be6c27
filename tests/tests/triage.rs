//! Triage: status, assignee, comments and Boomerang, from Herald's console
//! and from Slack; every copy of the alert's message follows, each thread
//! hears who did what, and the alert's history records it.

use herald_tests::fake_slack::{Message, defaults};
use herald_tests::fixtures::slack_bot;
use herald_tests::poll;
use herald_tests::{FakeSlack, Herald, Session};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
    admin.add_destination(&slack_bot("SecOps", "#general")).await;
    admin.add_destination(&slack_bot("Cloud", "#sec-alerts")).await;
    let token = admin.api_token().await;
    let sent = herald
        .send_alerts(
            &token,
            &json!({
                "alertId": "a1", "title": "Suspicious login", "severity": "HIGH",
                "alertContext": {"sourceIPAddress": "203.0.113.7", "userAgent": "<!channel>"},
            }),
        )
        .await;
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

// ---- from Slack ----

const ANALYST: &str = "ANALYST";

impl Scene {
    /// A Herald user for a Slack user's email.
    async fn add_user(&self, email: &str, name: &str, role: &str) {
        self.admin.add_user(email, name, role).await;
    }

    fn interactivity_url(&self) -> String {
        self.herald.url("/slack/interactivity")
    }

    /// `user` uses a control of the alert's message in `channel`.
    async fn click(&self, user: &str, channel: &str, action: Value) -> reqwest::Response {
        let message = self.alert_message(channel).await;
        let payload = self.slack.block_actions(user, &message, action);
        self.slack.send_interaction(&self.interactivity_url(), defaults::SIGNING_SECRET, &payload).await
    }

    async fn until_ephemeral(&self, user: &str, text: &str) -> String {
        poll::until(&format!("an ephemeral message to {user} saying {text:?}"), || async {
            let all = self.slack.ephemerals();
            all.iter().filter(|e| e.user == user).filter_map(|e| e.text.clone()).find(|t| t.contains(text)).ok_or(all)
        })
        .await
    }

    async fn submit(&self, user: &str, view: &Value, values: Value) -> reqwest::Response {
        let payload = self.slack.view_submission(user, view, values);
        self.slack.send_interaction(&self.interactivity_url(), defaults::SIGNING_SECRET, &payload).await
    }
}

fn status_action(status: &str) -> Value {
    json!({"type": "static_select", "action_id": "alert.status", "block_id": "alert:a1", "selected_option": {"value": status}})
}

fn button(action_id: &str) -> Value {
    json!({"type": "button", "action_id": action_id, "block_id": "alert:a1", "value": "a1"})
}

#[tokio::test]
async fn a_status_change_in_slack_updates_the_copy_in_the_other_channel_too() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    let clicked = s.click(defaults::ANA, defaults::GENERAL, status_action("TRIAGED")).await;
    assert_eq!(clicked.status(), StatusCode::OK);
    for channel in [defaults::GENERAL, defaults::SEC_ALERTS] {
        s.until_message_shows(channel, "*Status*\\nTriaged").await;
        s.until_reply(channel, &format!("<@{}> changed the status from *Open* to *Triaged*", defaults::ANA)).await;
    }
    let alert = s.alert().await;
    assert_eq!(alert["status"], "TRIAGED");
    assert_eq!(alert["activity"][0]["source"], "SLACK");
    assert_eq!(alert["activity"][0]["summary"], "Ana changed the status from Open to Triaged");
}

#[tokio::test]
async fn with_a_pasted_token_a_signed_click_from_another_workspace_changes_nothing() {
    // The scene's bot token was pasted in the form, not installed through OAuth.
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    let message = s.alert_message(defaults::GENERAL).await;
    let mut payload = s.slack.block_actions(defaults::ANA, &message, status_action("TRIAGED"));
    payload["team"]["id"] = json!("T0EVIL001");
    payload["user"]["team_id"] = json!("T0EVIL001");
    let clicked = s.slack.send_interaction(&s.interactivity_url(), defaults::SIGNING_SECRET, &payload).await;
    assert_eq!(clicked.status(), StatusCode::BAD_REQUEST);
    assert!(clicked.text().await.unwrap().contains("not installed in"));
    let alert = s.alert().await;
    assert_eq!(alert["status"], "OPEN", "nothing changed");
    assert!(s.slack.calls("chat.update").is_empty(), "no message was touched");
}

#[tokio::test]
async fn only_a_confirmed_member_of_the_installed_workspace_may_act_as_a_herald_user() {
    let s = scene().await;
    s.add_user("kim@acme.example", "Kim", ANALYST).await;
    type Case = (&'static str, &'static str, fn(&mut herald_tests::fake_slack::User));
    let cases: [Case; 5] = [
        ("kim@acme.example", "Slack Connect", |u| u.team_id = "T0PARTNER1".into()),
        ("kim@acme.example", "Guests of the workspace", |u| u.guest = true),
        ("kim@acme.example", "Bots cannot", |u| u.is_bot = true),
        ("kim@acme.example", "deactivated", |u| u.deleted = true),
        ("kim@acme.example", "not confirmed your email", |u| u.email_confirmed = false),
    ];
    for (email, why, edit) in cases {
        let slack_user = s.slack.add_user("Kim", Some(email));
        s.slack.edit_user(&slack_user, edit);
        s.slack.join(defaults::GENERAL, &slack_user);
        let clicked = s.click(&slack_user, defaults::GENERAL, status_action("TRIAGED")).await;
        assert_eq!(clicked.status(), StatusCode::OK);
        s.until_ephemeral(&slack_user, why).await;
    }
    // A look-alike address (the Kelvin sign for K) is another address.
    let kelvin = s.slack.add_user("Kim", Some("\u{212a}im@acme.example"));
    s.slack.join(defaults::GENERAL, &kelvin);
    s.click(&kelvin, defaults::GENERAL, status_action("TRIAGED")).await;
    s.until_ephemeral(&kelvin, "matches no Herald user").await;
    assert_eq!(s.alert().await["status"], "OPEN", "nobody of these changed the alert");

    // A full member with the same, confirmed email may.
    let member = s.slack.add_user("Kim", Some("KIM@acme.example"));
    s.slack.join(defaults::GENERAL, &member);
    s.click(&member, defaults::GENERAL, status_action("TRIAGED")).await;
    s.until_message_shows(defaults::GENERAL, "*Status*\\nTriaged").await;
    assert_eq!(s.alert().await["status"], "TRIAGED");
}

#[tokio::test]
async fn a_slack_user_herald_does_not_know_or_who_lacks_the_permission_is_told_why_and_nothing_changes() {
    let s = scene().await;
    s.click(defaults::RAJ, defaults::GENERAL, status_action("CLOSED")).await;
    s.until_ephemeral(defaults::RAJ, &format!("Your Slack email {} matches no Herald user; ask an admin to add you", defaults::RAJ_EMAIL))
        .await;

    s.add_user(defaults::RAJ_EMAIL, "Raj", "VIEWER").await;
    s.click(defaults::RAJ, defaults::GENERAL, status_action("CLOSED")).await;
    s.until_ephemeral(defaults::RAJ, "You need the Manage Alerts permission").await;
    // Told before a form opens, not after it was filled in.
    s.click(defaults::RAJ, defaults::GENERAL, button("alert.resolve")).await;
    poll::until("a second refusal", || async {
        let told = s.slack.ephemerals().iter().filter(|e| e.text.as_deref().is_some_and(|t| t.contains("Manage Alerts"))).count();
        if told == 2 { Ok(()) } else { Err(told) }
    })
    .await;
    assert!(s.slack.views().is_empty(), "no modal for someone who may not resolve");
    // A viewer may still see the details.
    s.click(defaults::RAJ, defaults::GENERAL, button("alert.details")).await;
    let details = s.until_ephemeral(defaults::RAJ, "Alert context").await;
    assert!(details.contains("\"sourceIPAddress\": \"203.0.113.7\"") && details.contains("&lt;!channel&gt;"), "{details}");
    let in_thread =
        s.slack.messages_in(defaults::GENERAL).into_iter().filter(|m| m.text.as_deref().is_some_and(|t| t.contains("Alert context")));
    assert_eq!(in_thread.count(), 0, "the details are shown to the one who asked, not posted to the channel");

    let alert = s.alert().await;
    assert_eq!(alert["status"], "OPEN");
    assert!(alert["activity"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn assigning_in_slack_maps_the_picked_person_to_a_herald_user() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    s.add_user(defaults::RAJ_EMAIL, "Raj", "VIEWER").await;
    let pick = |user: &str| json!({"type": "users_select", "action_id": "alert.assign", "block_id": "alert:a1", "selected_user": user});
    s.click(defaults::ANA, defaults::GENERAL, pick(defaults::RAJ)).await;
    s.until_message_shows(defaults::SEC_ALERTS, &format!("*Assignee*\\n<@{}>", defaults::RAJ)).await;
    s.until_reply(defaults::GENERAL, &format!("<@{}> assigned the alert to <@{}>", defaults::ANA, defaults::RAJ)).await;
    assert_eq!(s.alert().await["assignee"]["name"], "Raj");

    let zoe = s.slack.add_user("zoe", Some("zoe@elsewhere.example"));
    s.click(defaults::ANA, defaults::GENERAL, pick(&zoe)).await;
    s.until_ephemeral(defaults::ANA, "is not a Herald user").await;
    assert_eq!(s.alert().await["assignee"]["name"], "Raj", "unchanged");
}

#[tokio::test]
async fn resolving_in_slack_asks_for_a_comment_and_records_it() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    s.click(defaults::ANA, defaults::GENERAL, button("alert.resolve")).await;
    let view = s.slack.until_view(1).await;
    assert_eq!(view["callback_id"], "alert.resolve");

    let empty = s.submit(defaults::ANA, &view, json!({"comment": {"comment": {"value": "  "}}})).await;
    assert_eq!(empty.status(), StatusCode::OK);
    let answer: Value = empty.json().await.unwrap();
    assert_eq!(answer["response_action"], "errors", "{answer}");
    assert!(answer["errors"]["comment"].as_str().unwrap().contains("Write"));

    let done = s.submit(defaults::ANA, &view, json!({"comment": {"comment": {"value": "Key rotated; it was the CI user"}}})).await;
    assert_eq!(done.status(), StatusCode::OK);
    for channel in [defaults::GENERAL, defaults::SEC_ALERTS] {
        s.until_message_shows(channel, "*Status*\\nResolved").await;
        s.until_reply(channel, "resolved the alert: Key rotated; it was the CI user").await;
    }
    let alert = s.alert().await;
    assert_eq!(alert["status"], "RESOLVED");
    assert_eq!(alert["activity"][0]["action"], "RESOLVE");
    assert_eq!(alert["activity"][0]["comment"], "Key rotated; it was the CI user");
}

#[tokio::test]
async fn boomerang_asks_someone_in_a_dm_and_their_answer_lands_in_the_threads_and_the_history() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    s.click(defaults::ANA, defaults::GENERAL, button("alert.boomerang")).await;
    let ask = s.slack.until_view(1).await;
    assert_eq!(ask["callback_id"], "alert.boomerang");
    let no_one = s.submit(defaults::ANA, &ask, json!({"question": {"question": {"value": "Was it you?"}}})).await;
    assert_eq!(no_one.json::<Value>().await.unwrap()["errors"]["who"], "Choose who to ask.");
    s.submit(
        defaults::ANA,
        &ask,
        json!({"who": {"who": {"selected_user": defaults::RAJ}}, "question": {"question": {"value": "Did you log in from 203.0.113.7?"}}}),
    )
    .await;

    // Raj (no Herald account needed) gets the question in a DM.
    let dm = herald_tests::FakeSlack::dm_channel(defaults::RAJ);
    let question = s.until_messages_in_dm(&dm).await;
    assert!(question.text.as_deref().unwrap().contains("Did you log in from 203.0.113.7?"));
    s.until_reply(defaults::GENERAL, &format!("<@{}> asked <@{}>: Did you log in from 203.0.113.7?", defaults::ANA, defaults::RAJ)).await;

    let reply = json!({"type": "button", "action_id": "boomerang.reply", "block_id": "boomerang:a1",
        "value": question.blocks.as_ref().unwrap()[1]["elements"][0]["value"]});
    let payload = s.slack.block_actions(defaults::RAJ, &question, reply);
    s.slack.send_interaction(&s.interactivity_url(), defaults::SIGNING_SECRET, &payload).await;
    let answer_view = s.slack.until_view(2).await;
    assert_eq!(answer_view["callback_id"], "boomerang.answer");
    s.submit(defaults::RAJ, &answer_view, json!({"answer": {"answer": {"value": "Yes, from the hotel"}}})).await;
    for channel in [defaults::GENERAL, defaults::SEC_ALERTS] {
        s.until_reply(channel, "answered “Did you log in from 203.0.113.7?”: Yes, from the hotel").await;
    }
    let actions: Vec<String> =
        s.alert().await["activity"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["QUESTION", "ANSWER"]);
}

impl Scene {
    async fn until_messages_in_dm(&self, dm: &str) -> Message {
        poll::until("the DM", || async { self.slack.messages_in(dm).into_iter().next().ok_or("none yet") }).await
    }
}

#[tokio::test]
async fn interactions_with_a_missing_tampered_stale_or_replayed_signature_are_refused() {
    use herald_tests::fake_slack::{sign, unix_now};
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    let message = s.alert_message(defaults::GENERAL).await;
    let payload = s.slack.block_actions(defaults::ANA, &message, status_action("CLOSED"));
    let body = url::form_urlencoded::Serializer::new(String::new()).append_pair("payload", &payload.to_string()).finish();
    let url = s.interactivity_url();
    let form = "application/x-www-form-urlencoded";

    let unsigned = s.herald.http.post(&url).header("content-type", form).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let now = unix_now().to_string();
    let tampered = s
        .herald
        .http
        .post(&url)
        .header("content-type", form)
        .header("X-Slack-Request-Timestamp", &now)
        .header("X-Slack-Signature", sign(defaults::SIGNING_SECRET, &now, body.as_bytes()))
        .body(body.replace("CLOSED", "OPEN"))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), StatusCode::UNAUTHORIZED);
    let stale = s.slack.post_signed_at(&url, defaults::SIGNING_SECRET, form, body.clone(), None, unix_now() - 301).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let not_json = s.slack.post_signed(&url, defaults::SIGNING_SECRET, form, "payload=%7Bnope".into(), None).await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    let fixed = unix_now();
    let first = s.slack.post_signed_at(&url, defaults::SIGNING_SECRET, form, body.clone(), None, fixed).await;
    assert_eq!(first.status(), StatusCode::OK);
    let replay = s.slack.post_signed_at(&url, defaults::SIGNING_SECRET, form, body, None, fixed).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    s.until_message_shows(defaults::GENERAL, "*Status*\\nInvalid").await;
    assert_eq!(s.alert().await["activity"].as_array().unwrap().len(), 1, "acted on once");
}

#[tokio::test]
async fn the_interactivity_endpoint_answers_slack_before_it_calls_slack() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    let message = s.alert_message(defaults::GENERAL).await;
    // Slack takes 5 s to answer any call from now on.
    s.slack.set_latency(std::time::Duration::from_secs(5));
    let payload = s.slack.block_actions(defaults::ANA, &message, status_action("TRIAGED"));
    let started = std::time::Instant::now();
    let answered = s.slack.send_interaction(&s.interactivity_url(), defaults::SIGNING_SECRET, &payload).await;
    let took = started.elapsed();
    assert_eq!(answered.status(), StatusCode::OK);
    assert!(took < std::time::Duration::from_secs(2), "Slack got its answer without waiting for Slack: {took:?}");
    // The work goes on after the answer.
    poll::until("Herald to ask Slack who clicked", || async {
        if s.slack.calls("users.info").is_empty() { Err("not yet") } else { Ok(()) }
    })
    .await;
}

#[tokio::test]
async fn two_clicks_at_once_change_the_alert_once_and_replies_keep_their_order() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    let (first, second) = tokio::join!(
        s.click(defaults::ANA, defaults::GENERAL, status_action("TRIAGED")),
        s.click(defaults::ANA, defaults::SEC_ALERTS, status_action("TRIAGED")),
    );
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    s.until_reply(defaults::GENERAL, "changed the status").await;
    s.admin.post("/api/alerts/a1/comments", json!({"comment": "one"})).await;
    s.admin.post("/api/alerts/a1/comments", json!({"comment": "two"})).await;
    s.until_reply(defaults::SEC_ALERTS, "commented: two").await;
    let activity = s.alert().await["activity"].clone();
    let statuses = activity.as_array().unwrap().iter().filter(|a| a["action"] == "STATUS").count();
    assert_eq!(statuses, 1, "changed once: {activity}");
    for channel in [defaults::GENERAL, defaults::SEC_ALERTS] {
        let replies: Vec<String> =
            s.slack.messages_in(channel).into_iter().filter(|m| m.thread_ts.is_some()).map(|m| m.text.unwrap()).collect();
        assert_eq!(replies.len(), 3, "{replies:?}");
        assert!(replies[0].contains("changed the status") && replies[1].ends_with("one") && replies[2].ends_with("two"), "{replies:?}");
    }
}

#[tokio::test]
async fn assigning_someone_in_the_console_mentions_them_in_slack_when_slack_knows_their_email() {
    let s = scene().await;
    s.add_user(defaults::ANA_EMAIL, "Ana", ANALYST).await;
    let assignees: Value = s.admin.get("/api/assignees").await.json().await.unwrap();
    let ana = assignees["users"].as_array().unwrap().iter().find(|u| u["name"] == "Ana").unwrap()["id"].as_str().unwrap().to_owned();
    let assigned = s.admin.patch("/api/alerts/a1", json!({"assigneeId": ana})).await;
    assert_eq!(assigned.status(), StatusCode::OK);
    s.until_message_shows(defaults::GENERAL, &format!("*Assignee*\\n<@{}>", defaults::ANA)).await;
    s.until_reply(defaults::SEC_ALERTS, &format!("admin assigned the alert to <@{}>", defaults::ANA)).await;
}
