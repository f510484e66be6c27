//! The fake Slack itself behaves like Slack: later tests trust it to.

use std::collections::HashSet;

use herald_tests::FakeSlack;
use herald_tests::fake_slack::{AuthorizeOutcome, Fault, JSON_METHODS, defaults};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Calls a method the way Slack wants it called: JSON for write methods, a
/// form for the rest.
async fn call(slack: &FakeSlack, method: &str, token: &str, body: Value) -> (StatusCode, Value, Option<String>) {
    let request = reqwest::Client::new().post(format!("{}/{method}", slack.api_url())).bearer_auth(token);
    let request = if JSON_METHODS.contains(&method) { request.json(&body) } else { request.form(&as_form(&body)) };
    let response = request.send().await.unwrap();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap(), retry_after)
}

fn as_form(body: &Value) -> Vec<(String, String)> {
    body.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()
}

#[tokio::test]
async fn read_methods_ignore_a_json_body_as_slack_does() {
    let slack = FakeSlack::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/users.info", slack.api_url()))
        .bearer_auth(defaults::BOT_TOKEN)
        .json(&json!({"user": defaults::ANA}))
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "user_not_found", "{answer}");
    let (_, answer, _) = call(&slack, "users.info", defaults::BOT_TOKEN, json!({"user": defaults::ANA})).await;
    assert_eq!(answer["ok"], true, "{answer}");
}

#[tokio::test]
async fn posting_needs_the_bot_in_the_channel_and_reports_slacks_error_codes() {
    let slack = FakeSlack::start().await;
    // The default token has chat:write.public, so public channels work without joining.
    let (_, answer, _) = call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": "#sec-alerts", "text": "hi"})).await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["channel"], defaults::SEC_ALERTS);

    let (_, answer, _) =
        call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::INCIDENT_ROOM, "text": "hi"})).await;
    assert_eq!(answer["error"], "channel_not_found", "a private channel without the bot is invisible");

    slack.archive_channel(defaults::GENERAL);
    let (_, answer, _) = call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "text": "hi"})).await;
    assert_eq!(answer["error"], "is_archived");

    let (_, answer, _) = call(&slack, "chat.postMessage", "xoxb-wrong", json!({"channel": defaults::GENERAL, "text": "hi"})).await;
    assert_eq!(answer["error"], "invalid_auth");

    slack.revoke_token(defaults::BOT_TOKEN);
    let (_, answer, _) = call(&slack, "auth.test", defaults::BOT_TOKEN, json!({})).await;
    assert_eq!(answer["error"], "token_revoked");
    assert_eq!(slack.messages().len(), 1);
}

#[tokio::test]
async fn a_token_without_chat_write_public_gets_not_in_channel() {
    let slack = FakeSlack::start().await;
    slack.set_authorize_outcome(AuthorizeOutcome::Approve);
    let redirect = "http://127.0.0.1:1/slack/oauth/callback";
    let token = install(&slack, "chat:write,channels:read", redirect).await["access_token"].as_str().unwrap().to_owned();
    let (_, answer, _) = call(&slack, "chat.postMessage", &token, json!({"channel": defaults::SEC_ALERTS, "text": "hi"})).await;
    assert_eq!(answer["error"], "not_in_channel");
    slack.join(defaults::SEC_ALERTS, defaults::BOT_USER_ID);
    let (_, answer, _) = call(&slack, "chat.postMessage", &token, json!({"channel": defaults::SEC_ALERTS, "text": "hi"})).await;
    assert_eq!(answer["ok"], true, "{answer}");
}

#[tokio::test]
async fn injected_faults_come_once_each_then_slack_recovers() {
    let slack = FakeSlack::start().await;
    slack.inject("chat.postMessage", Fault::RateLimited { retry_after_secs: 7 });
    slack.inject("chat.postMessage", Fault::Status(503));
    let body = json!({"channel": defaults::GENERAL, "text": "hi"});

    let (status, answer, retry_after) = call(&slack, "chat.postMessage", defaults::BOT_TOKEN, body.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("7"));
    assert_eq!(answer["error"], "ratelimited");

    let response = reqwest::Client::new()
        .post(format!("{}/chat.postMessage", slack.api_url()))
        .bearer_auth(defaults::BOT_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    let (status, answer, _) = call(&slack, "chat.postMessage", defaults::BOT_TOKEN, body).await;
    assert_eq!((status, answer["ok"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(slack.calls("chat.postMessage").len(), 3);
    assert_eq!(slack.messages().len(), 1);
}

#[tokio::test]
async fn conversations_list_pages_through_every_channel_it_may_see() {
    let slack = FakeSlack::start().await;
    for i in 0..5 {
        slack.add_channel(&format!("extra-{i}"), false);
    }
    let secret = slack.add_channel("secret", true);
    slack.join(&secret, defaults::BOT_USER_ID);

    let mut names = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let mut body = json!({"types": "public_channel,private_channel", "limit": 3});
        if !cursor.is_empty() {
            body["cursor"] = json!(cursor);
        }
        let (_, answer, _) = call(&slack, "conversations.list", defaults::BOT_TOKEN, body).await;
        assert_eq!(answer["ok"], true, "{answer}");
        pages += 1;
        for channel in answer["channels"].as_array().unwrap() {
            names.insert(channel["name"].as_str().unwrap().to_owned());
        }
        cursor = answer["response_metadata"]["next_cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert!(names.contains("secret") && names.contains("sec-alerts") && names.contains("extra-4"), "{names:?}");
    assert!(!names.contains("incident-room"), "a private channel without the bot is not listed");
}

#[tokio::test]
async fn users_info_shows_the_email_only_with_the_email_scope() {
    let slack = FakeSlack::start().await;
    let (_, answer, _) = call(&slack, "users.info", defaults::BOT_TOKEN, json!({"user": defaults::ANA})).await;
    assert_eq!(answer["user"]["profile"]["email"], defaults::ANA_EMAIL);

    let token = install(&slack, "users:read", "http://127.0.0.1:1/cb").await["access_token"].as_str().unwrap().to_owned();
    let (_, answer, _) = call(&slack, "users.info", &token, json!({"user": defaults::ANA})).await;
    assert_eq!(answer["ok"], true);
    assert!(answer["user"]["profile"].get("email").is_none(), "{answer}");
    let (_, answer, _) = call(&slack, "chat.postMessage", &token, json!({"channel": defaults::GENERAL, "text": "x"})).await;
    assert_eq!(answer["error"], "missing_scope", "posting needs chat:write");
    let (_, answer, _) = call(&slack, "conversations.list", &token, json!({"types": "private_channel"})).await;
    assert_eq!(answer["error"], "missing_scope", "private channels need groups:read");
}

/// Runs the authorize page and the code exchange; returns the exchange's answer.
async fn install(slack: &FakeSlack, scopes: &str, redirect: &str) -> Value {
    let code = authorize(slack, scopes, redirect, "s1").await.1.expect("a code");
    exchange(slack, &code, redirect, defaults::CLIENT_SECRET).await
}

/// `(state, code, error)` from the redirect back.
async fn authorize(slack: &FakeSlack, scopes: &str, redirect: &str, state: &str) -> (String, Option<String>, Option<String>) {
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = no_redirects
        .get(slack.authorize_url())
        .query(&[("client_id", defaults::CLIENT_ID), ("scope", scopes), ("redirect_uri", redirect), ("state", state)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect));
    let get = |k: &str| location.query_pairs().find(|(key, _)| key == k).map(|(_, v)| v.into_owned());
    (get("state").unwrap(), get("code"), get("error"))
}

async fn exchange(slack: &FakeSlack, code: &str, redirect: &str, secret: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/oauth.v2.access", slack.api_url()))
        .basic_auth(defaults::CLIENT_ID, Some(secret))
        .form(&[("code", code), ("redirect_uri", redirect)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn oauth_codes_work_once_with_the_same_redirect_and_the_right_secret() {
    let slack = FakeSlack::start().await;
    let redirect = "http://127.0.0.1:1/slack/oauth/callback";
    let (state, code, _) = authorize(&slack, defaults::SCOPES, redirect, "state-123").await;
    assert_eq!(state, "state-123");
    let code = code.unwrap();

    assert_eq!(exchange(&slack, &code, redirect, "wrong-secret").await["error"], "bad_client_secret");
    assert_eq!(exchange(&slack, &code, "http://elsewhere/cb", defaults::CLIENT_SECRET).await["error"], "bad_redirect_uri");
    assert_eq!(exchange(&slack, &code, "", defaults::CLIENT_SECRET).await["error"], "bad_redirect_uri", "it must be repeated");
    let answer = exchange(&slack, &code, redirect, defaults::CLIENT_SECRET).await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["team"]["id"], defaults::TEAM_ID);
    assert_eq!(answer["bot_user_id"], defaults::BOT_USER_ID);
    assert!(answer["access_token"].as_str().unwrap().starts_with("xoxb-"));
    assert_eq!(exchange(&slack, &code, redirect, defaults::CLIENT_SECRET).await["error"], "invalid_code");

    slack.set_authorize_outcome(AuthorizeOutcome::Deny);
    let (_, code, error) = authorize(&slack, defaults::SCOPES, redirect, "s2").await;
    assert_eq!((code, error.as_deref()), (None, Some("access_denied")));
}

#[tokio::test]
async fn org_wide_installs_and_token_rotation_look_like_slacks() {
    let slack = FakeSlack::start().await;
    slack.enable_token_rotation(defaults::CLIENT_ID);
    slack.set_authorize_outcome(AuthorizeOutcome::ApproveOrgWide);
    let redirect = "http://127.0.0.1:1/cb";
    let answer = install(&slack, defaults::SCOPES, redirect).await;
    assert_eq!(answer["is_enterprise_install"], true);
    assert_eq!(answer["team"], Value::Null);
    assert_eq!(answer["enterprise"]["id"], defaults::ENTERPRISE_ID);
    let token = answer["access_token"].as_str().unwrap();
    assert!(token.starts_with("xoxe.xoxb-"), "{token}");
    assert_eq!(answer["expires_in"], 43_200);

    let (_, posted, _) = call(&slack, "chat.postMessage", token, json!({"channel": "#general", "text": "x"})).await;
    assert_eq!(posted["error"], "team_not_found", "org tokens post by channel ID");

    slack.expire_token(token);
    let (_, expired, _) = call(&slack, "auth.test", token, json!({})).await;
    assert_eq!(expired["error"], "token_expired");

    let refresh = answer["refresh_token"].as_str().unwrap();
    let refresh_with = |rt: String| {
        let slack_url = slack.api_url();
        async move {
            reqwest::Client::new()
                .post(format!("{slack_url}/oauth.v2.access"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", defaults::CLIENT_ID),
                    ("client_secret", defaults::CLIENT_SECRET),
                ])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let renewed = refresh_with(refresh.to_owned()).await;
    assert_eq!(renewed["ok"], true, "{renewed}");
    assert_eq!(renewed["is_enterprise_install"], true, "a refresh renews the same grant");
    assert_ne!(renewed["refresh_token"], answer["refresh_token"]);
    assert_eq!(refresh_with(refresh.to_owned()).await["error"], "invalid_refresh_token", "a refresh token works once");
}

#[tokio::test]
async fn a_click_carries_a_trigger_that_opens_one_view_and_a_response_url_that_edits_the_message() {
    let slack = FakeSlack::start().await;
    let (_, posted, _) =
        call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "text": "alert"})).await;
    assert_eq!(posted["ok"], true);
    let message = slack.messages_in(defaults::GENERAL).pop().unwrap();
    let payload = slack.block_actions(defaults::ANA, &message, json!({"action_id": "resolve", "type": "button", "value": "a1"}));
    assert_eq!(payload["user"]["id"], defaults::ANA);
    assert_eq!(payload["container"]["message_ts"], message.ts);

    let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "Resolve"}, "blocks": []});
    let trigger = payload["trigger_id"].as_str().unwrap();
    let (_, opened, _) = call(&slack, "views.open", defaults::BOT_TOKEN, json!({"trigger_id": trigger, "view": view})).await;
    assert_eq!(opened["ok"], true, "{opened}");
    let (_, again, _) = call(&slack, "views.open", defaults::BOT_TOKEN, json!({"trigger_id": trigger, "view": view})).await;
    assert_eq!(again["error"], "exchanged_trigger_id");

    let response = reqwest::Client::new()
        .post(payload["response_url"].as_str().unwrap())
        .json(&json!({"replace_original": true, "text": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let edited = slack.messages_in(defaults::GENERAL).pop().unwrap();
    assert_eq!((edited.text.as_deref(), edited.edits), (Some("resolved"), 1));
}

#[tokio::test]
async fn blocks_over_slacks_limits_are_invalid_blocks() {
    let slack = FakeSlack::start().await;
    let header = |n: usize| json!([{"type": "header", "text": {"type": "plain_text", "text": "x".repeat(n)}}]);
    let (_, fits, _) =
        call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "text": "t", "blocks": header(150)}))
            .await;
    assert_eq!(fits["ok"], true, "{fits}");
    let (_, too_long, _) =
        call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "text": "t", "blocks": header(151)}))
            .await;
    assert_eq!(too_long["error"], "invalid_blocks");
    let many: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
    let (_, too_many, _) =
        call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "text": "t", "blocks": many})).await;
    assert_eq!(too_many["error"], "invalid_blocks");
}

#[tokio::test]
async fn updates_and_ephemeral_messages_follow_slacks_rules() {
    let slack = FakeSlack::start().await;
    let (_, posted, _) = call(&slack, "chat.postMessage", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "text": "v1"})).await;
    let ts = posted["ts"].as_str().unwrap();

    let (_, updated, _) =
        call(&slack, "chat.update", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "ts": ts, "text": "v2"})).await;
    assert_eq!(updated["ok"], true, "{updated}");
    let message = slack.messages_in(defaults::GENERAL).pop().unwrap();
    assert_eq!((message.text.as_deref(), message.edits), (Some("v2"), 1));
    let (_, missing, _) =
        call(&slack, "chat.update", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "ts": "1.000001", "text": "v3"})).await;
    assert_eq!(missing["error"], "message_not_found");

    let (_, whisper, _) = call(
        &slack,
        "chat.postEphemeral",
        defaults::BOT_TOKEN,
        json!({"channel": defaults::GENERAL, "user": defaults::ANA, "text": "only you"}),
    )
    .await;
    assert_eq!(whisper["ok"], true, "{whisper}");
    let outsider = slack.add_user("eve", Some("eve@elsewhere.example"));
    let (_, refused, _) =
        call(&slack, "chat.postEphemeral", defaults::BOT_TOKEN, json!({"channel": defaults::GENERAL, "user": outsider, "text": "x"})).await;
    assert_eq!(refused["error"], "user_not_in_channel");
    assert_eq!(slack.ephemerals().len(), 1);
    assert_eq!(slack.ephemerals()[0].user, defaults::ANA);
}

#[tokio::test]
async fn the_fake_signs_what_it_sends_as_slack_does() {
    // A tiny receiver that checks the signature with the published scheme.
    use axum::http::HeaderMap;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, String)>();
    let app = axum::Router::new().route(
        "/slack/events",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                tx.send((headers, body)).unwrap();
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slack/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let slack = FakeSlack::start().await;
    let response = slack.join_and_notify(&url, defaults::SIGNING_SECRET, defaults::SEC_ALERTS, defaults::BOT_USER_ID).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (headers, body) = rx.recv().await.unwrap();
    let timestamp = headers["x-slack-request-timestamp"].to_str().unwrap();
    let expected = herald_tests::fake_slack::sign(defaults::SIGNING_SECRET, timestamp, body.as_bytes());
    assert_eq!(headers["x-slack-signature"].to_str().unwrap(), expected);
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["event"]["type"], "member_joined_channel");
    assert!(slack.channel(defaults::SEC_ALERTS).members.contains(defaults::BOT_USER_ID));
}
