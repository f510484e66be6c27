//! Herald talking to Slack about a destination: the channel check and the
//! welcome message, against the fake Slack.

use herald_model::destination::SlackBotForm;
use herald_tests::fake_slack::{Fault, defaults};
use herald_tests::fixtures::slack_bot;
use herald_tests::{FakeSlack, Herald, Session};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Herald with one destination posting to `channel` with the fake's app.
async fn destination(channel: &str, name: &str) -> (FakeSlack, Herald, Session, String) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let id = admin.add_draft().await;
    admin.save_settings(&id, &slack_bot(name, channel)).await;
    (slack, herald, admin, id)
}

async fn welcome(admin: &Session, id: &str) -> Value {
    let response = admin.post(&format!("/api/destinations/{id}/welcome"), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

const ALL_BUT_PUBLIC: &str = "chat:write,im:write,channels:read,groups:read,users:read,users:read.email";

#[tokio::test]
async fn the_welcome_message_reaches_the_channel_with_the_name_escaped() {
    let (slack, _herald, admin, id) = destination("#general", "<!channel> Ops & co").await;
    let outcome = welcome(&admin, &id).await;
    assert_eq!(outcome["sent"], true, "{outcome}");
    assert_eq!(outcome["message"], "Sent: the welcome message is in #general.");
    let posted = slack.messages_in(defaults::GENERAL);
    assert_eq!(posted.len(), 1);
    let text = posted[0].text.clone().unwrap();
    assert!(text.contains("Herald is connected"), "{text}");
    assert!(text.contains("&lt;!channel&gt; Ops &amp; co") && !text.contains("<!channel>"), "{text}");
}

#[tokio::test]
async fn a_welcome_message_to_a_channel_without_the_bot_explains_how_to_invite_it() {
    let (slack, _herald, admin, id) = destination("#sec-alerts", "Alerts").await;
    slack.set_scopes(defaults::BOT_TOKEN, ALL_BUT_PUBLIC);
    let outcome = welcome(&admin, &id).await;
    assert_eq!((outcome["sent"].as_bool(), outcome["slackError"].as_str()), (Some(false), Some("not_in_channel")));
    assert_eq!(outcome["message"], "The bot is not in #sec-alerts yet: type /invite @herald there, then try again.");
    assert!(slack.messages().is_empty());
}

#[tokio::test]
async fn every_welcome_message_error_becomes_an_explanation_with_the_fix() {
    // (what the fake Slack is made to do, Slack's error, words the explanation must hold)
    type Case = (&'static str, Box<dyn Fn(&FakeSlack)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        ("#no-such-channel", Box::new(|_| {}), "channel_not_found", "use the channel ID"),
        ("#general", Box::new(|s| s.archive_channel(defaults::GENERAL)), "is_archived", "archived"),
        ("#general", Box::new(|s| s.revoke_token(defaults::BOT_TOKEN)), "token_revoked", "reinstall the app"),
        ("#general", Box::new(|s| s.inject("chat.postMessage", Fault::Error("invalid_auth"))), "invalid_auth", "reinstall the app"),
        (
            "#general",
            Box::new(|s| s.set_scopes(defaults::BOT_TOKEN, "channels:read")),
            "missing_scope",
            "update the app from Herald's manifest",
        ),
        ("#general", Box::new(|s| s.inject("chat.postMessage", Fault::Error("team_not_found"))), "team_not_found", "channel ID"),
    ];
    for (channel, arrange, code, fix) in cases {
        let (slack, _herald, admin, id) = destination(channel, "Alerts").await;
        arrange(&slack);
        let outcome = welcome(&admin, &id).await;
        assert_eq!(outcome["sent"], false, "{code}: {outcome}");
        assert_eq!(outcome["slackError"], code, "{outcome}");
        assert!(outcome["message"].as_str().unwrap().contains(fix), "{code}: {outcome}");
    }
}

#[tokio::test]
async fn a_rate_limited_welcome_message_is_retried_after_retry_after() {
    let (slack, _herald, admin, id) = destination("#general", "Alerts").await;
    slack.inject("chat.postMessage", Fault::RateLimited { retry_after_secs: 1 });
    let outcome = welcome(&admin, &id).await;
    assert_eq!(outcome["sent"], true, "{outcome}");
    assert_eq!(slack.calls("chat.postMessage").len(), 2);
    assert_eq!(slack.messages_in(defaults::GENERAL).len(), 1);
}

#[tokio::test]
async fn the_channel_check_waits_for_the_bot_then_shows_it_in_the_channel() {
    let (slack, _herald, admin, id) = destination("#sec-alerts", "Alerts").await;
    let check = |admin: Session, id: String| async move {
        admin.get(&format!("/api/destinations/{id}/channel")).await.json::<Value>().await.unwrap()
    };
    let before = check(admin.clone(), id.clone()).await;
    assert_eq!(before["state"], "WAITING", "{before}");
    assert_eq!(before["channelId"], defaults::SEC_ALERTS);
    assert_eq!(before["message"], "Waiting for @herald to join #sec-alerts: type /invite @herald there.");

    slack.join(defaults::SEC_ALERTS, defaults::BOT_USER_ID);
    let after = check(admin.clone(), id.clone()).await;
    assert_eq!((after["state"].as_str(), after["message"].as_str()), (Some("READY"), Some("✓ @herald is in #sec-alerts")));
}

#[tokio::test]
async fn the_channel_check_names_the_problem_and_finds_channels_on_later_pages() {
    let (slack, _herald, admin, id) = destination("#late-channel", "Alerts").await;
    for i in 0..5 {
        slack.add_channel(&format!("filler-{i}"), false);
    }
    let missing: Value = admin.get(&format!("/api/destinations/{id}/channel")).await.json().await.unwrap();
    assert_eq!(missing["state"], "PROBLEM");
    assert!(missing["message"].as_str().unwrap().contains("Slack cannot find #late-channel"), "{missing}");

    let late = slack.add_channel("late-channel", false);
    slack.join(&late, defaults::BOT_USER_ID);
    let found: Value = admin.get(&format!("/api/destinations/{id}/channel")).await.json().await.unwrap();
    assert_eq!((found["state"].as_str(), found["channelId"].as_str()), (Some("READY"), Some(late.as_str())));
    let listed = slack.calls("conversations.list");
    assert!(listed.iter().all(|c| c.token.as_deref() == Some(defaults::BOT_TOKEN)));
}

#[tokio::test]
async fn without_a_saved_token_the_checks_say_what_to_do_first() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let draft: Value = admin.post("/api/destinations", json!({"kind": "SLACK_BOT"})).await.json().await.unwrap();
    let id = draft["id"].as_str().unwrap();
    admin.patch(&format!("/api/destinations/{id}/draft"), json!({"step": 6, "form": {"channel": "#sec-alerts"}})).await;
    let response = admin.post(&format!("/api/destinations/{id}/welcome"), json!({})).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("Bot OAuth Token"), "{body}");
}

#[tokio::test]
async fn a_pasted_token_slack_refuses_is_a_field_error_and_nothing_is_saved() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let path = format!("/api/destinations/{}", admin.add_draft().await);
    let mut settings =
        SlackBotForm { bot_token: Some("xoxb-0000-0000-well-formed-but-unknown".to_owned()), ..slack_bot("Alerts", "#general") };
    let refused = admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json::<Value>().await.unwrap()["error"].clone();
    assert_eq!(error["field"], "botToken");
    assert!(error["message"].as_str().unwrap().contains("Slack does not know this token"), "{error}");
    assert_eq!(admin.get(&path).await.json::<Value>().await.unwrap()["botToken"]["set"], false);

    slack.revoke_token(defaults::BOT_TOKEN);
    settings.bot_token = Some(defaults::BOT_TOKEN.to_owned());
    let revoked = admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap();
    let error: Value = revoked.json::<Value>().await.unwrap()["error"].clone();
    assert!(error["message"].as_str().unwrap().contains("revoked"), "{error}");
}
