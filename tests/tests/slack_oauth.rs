//! Add to Slack: the OAuth v2 install through Herald, against the fake
//! Slack's authorize page and code exchange, success and every failure.

use herald_model::destination::SlackBotForm;
use herald_tests::fake_slack::{AuthorizeOutcome, Fault, defaults};
use herald_tests::fixtures::{With, slack_bot};
use herald_tests::{FakeSlack, Herald, Session};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Herald with a draft whose app credentials (no token yet) are saved.
async fn ready(client_secret: &str) -> (FakeSlack, Herald, Session, String) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let draft: Value = admin.post("/api/destinations", json!({"kind": "SLACK_BOT"})).await.json().await.unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    let credentials = json!({"clientId": defaults::CLIENT_ID, "clientSecret": client_secret, "signingSecret": defaults::SIGNING_SECRET});
    let saved =
        admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}/credentials")).json(&credentials).send().await.unwrap();
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap());
    (slack, herald, admin, id)
}

/// `/slack/install` as the signed-in browser opens it: Slack's authorize
/// URL and the state cookie.
async fn start(herald: &Herald, admin: &Session, id: &str) -> (Url, String) {
    let response =
        no_redirects().get(herald.url(&format!("/slack/install?destination={id}"))).header("cookie", &admin.cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    (location, set_cookie.split(';').next().unwrap().to_owned())
}

/// The fake Slack's authorize page: where it sends the browser back to.
async fn authorize(url: &Url) -> Url {
    let response = no_redirects().get(url.clone()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

async fn callback(back: &Url, cookie: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects().get(back.clone());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// Add to Slack from Herald, approved on the fake Slack's page.
async fn install(herald: &Herald, admin: &Session, id: &str) {
    let (url, cookie) = start(herald, admin, id).await;
    assert_eq!(callback(&authorize(&url).await, Some(&cookie)).await.status(), StatusCode::SEE_OTHER);
}

/// A destination's settings once Add to Slack has stored the bot token.
fn installed_settings() -> SlackBotForm {
    SlackBotForm { client_secret: None, signing_secret: None, bot_token: None, ..slack_bot("Alerts", "#general") }
}

async fn token_saved(admin: &Session, id: &str) -> bool {
    admin.get(&format!("/api/destinations/{id}")).await.json::<Value>().await.unwrap()["botToken"]["set"] == true
}

#[tokio::test]
async fn add_to_slack_installs_the_app_and_fills_in_the_token() {
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    let (authorize_url, cookie) = start(&herald, &admin, &id).await;
    assert!(authorize_url.as_str().starts_with(&slack.authorize_url()));
    assert_eq!(query(&authorize_url, "client_id").as_deref(), Some(defaults::CLIENT_ID));
    assert_eq!(query(&authorize_url, "redirect_uri"), Some(herald.url("/slack/oauth/callback")));
    let scopes = query(&authorize_url, "scope").unwrap();
    assert!(scopes.contains("chat:write") && scopes.contains("users:read.email"), "{scopes}");
    assert_eq!(query(&authorize_url, "state"), Some(cookie.split_once('=').unwrap().1.to_owned()));

    let back = authorize(&authorize_url).await;
    let done = callback(&back, Some(&cookie)).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], format!("/destinations/{id}/setup/5?installed=1"));
    assert!(token_saved(&admin, &id).await);
    let exchange = slack.calls("oauth.v2.access");
    assert_eq!(exchange.len(), 1);
    assert_eq!(exchange[0].params["redirect_uri"], herald.url("/slack/oauth/callback"));

    // The state works once.
    let again = callback(&back, Some(&cookie)).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("This install link has expired"));
}

#[tokio::test]
async fn each_failed_install_says_what_happened_and_stores_nothing() {
    // Cancelled in Slack.
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    slack.set_authorize_outcome(AuthorizeOutcome::Deny);
    let (url, cookie) = start(&herald, &admin, &id).await;
    let page = callback(&authorize(&url).await, Some(&cookie)).await.text().await.unwrap();
    assert!(page.contains("The install was cancelled in Slack"), "{page}");
    assert!(page.contains(&format!("/destinations/{id}/setup/4")), "offers to retry");
    // In the app's look: its stylesheet, its frame, and no script (the CSP
    // allows none inline).
    let stylesheet = page.split("rel=\"stylesheet\" href=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default().to_owned();
    assert!(stylesheet.starts_with("/app-") && stylesheet.ends_with(".css"), "{page}");
    assert_eq!(herald.get(&stylesheet).await.status(), StatusCode::OK, "the stylesheet it links is served");
    assert!(page.contains("class=\"topbar\"") && !page.contains("<script"), "{page}");
    assert!(!token_saved(&admin, &id).await);

    // Finished in another browser (the cookie does not match): refused
    // before the state is used, so a stranger who saw it cannot burn it.
    slack.set_authorize_outcome(AuthorizeOutcome::Approve);
    let (url, right_cookie) = start(&herald, &admin, &id).await;
    let back = authorize(&url).await;
    let stranger = callback(&back, Some("herald_oauth_state=someone-else")).await;
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);
    assert!(stranger.text().await.unwrap().contains("started in another browser"));
    let exchanges = slack.calls("oauth.v2.access").len();
    let mut no_code = back.clone();
    no_code.set_query(Some(&format!("state={}", query(&back, "state").unwrap())));
    let response = callback(&no_code, Some(&right_cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a callback with no code");
    assert!(response.text().await.unwrap().contains("Slack sent no install code"));
    assert_eq!(slack.calls("oauth.v2.access").len(), exchanges, "Slack was not asked to exchange an empty code");

    // A state Herald never made.
    let forged = Url::parse(&herald.url("/slack/oauth/callback?code=x&state=made-up")).unwrap();
    let page = callback(&forged, Some("herald_oauth_state=made-up")).await.text().await.unwrap();
    assert!(page.contains("This install link has expired"), "{page}");

    // No state: an install started from Slack's own pages.
    let stateless = Url::parse(&herald.url("/slack/oauth/callback?code=x")).unwrap();
    let response = callback(&stateless, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("Start the install from Herald"));

    // A code Slack does not know.
    let (url, cookie) = start(&herald, &admin, &id).await;
    let mut back = authorize(&url).await;
    let state = query(&back, "state").unwrap();
    back.set_query(Some(&format!("code=not-a-code&state={state}")));
    let refused = callback(&back, Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "Slack refusing the code is not a gateway failure");
    let page = refused.text().await.unwrap();
    assert!(page.contains("The install code expired or was used already"), "{page}");

    // Slack out of reach: a gateway failure, and still nothing stored.
    slack.inject("oauth.v2.access", Fault::Status(503));
    let (url, cookie) = start(&herald, &admin, &id).await;
    assert_eq!(callback(&authorize(&url).await, Some(&cookie)).await.status(), StatusCode::BAD_GATEWAY);

    // Slack refuses the redirect URI.
    slack.inject("oauth.v2.access", Fault::Error("bad_redirect_uri"));
    let (url, cookie) = start(&herald, &admin, &id).await;
    let page = callback(&authorize(&url).await, Some(&cookie)).await.text().await.unwrap();
    assert!(page.contains("update the app from Herald's manifest"), "{page}");

    assert!(!token_saved(&admin, &id).await, "no failure stored a token");
}

#[tokio::test]
async fn a_wrong_client_secret_is_named_as_the_problem() {
    let (_slack, herald, admin, id) = ready("0000000000000000000000000000dead").await;
    let (url, cookie) = start(&herald, &admin, &id).await;
    let page = callback(&authorize(&url).await, Some(&cookie)).await.text().await.unwrap();
    assert!(page.contains("check the Client ID and Client Secret"), "{page}");
    assert!(!token_saved(&admin, &id).await);
}

#[tokio::test]
async fn an_install_needs_the_app_s_credentials_first() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let draft: Value = admin.post("/api/destinations", json!({"kind": "SLACK_BOT"})).await.json().await.unwrap();
    let response = no_redirects()
        .get(herald.url(&format!("/slack/install?destination={}", draft["id"].as_str().unwrap())))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("Client ID and Client Secret"));
    let anonymous = no_redirects().get(herald.url("/slack/install?destination=x")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_org_wide_install_is_stored_as_such_and_then_needs_a_channel_id() {
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    slack.set_authorize_outcome(AuthorizeOutcome::ApproveOrgWide);
    install(&herald, &admin, &id).await;

    let mut settings = installed_settings().with(|s| s.display_name = "Org alerts".to_owned());
    let path = format!("/api/destinations/{id}");
    let by_name = admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap();
    assert_eq!(by_name.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = by_name.json::<Value>().await.unwrap()["error"].clone();
    assert_eq!(error["field"], "channel");
    assert!(error["message"].as_str().unwrap().contains("Enterprise Grid"), "{error}");

    // The same rule when a draft saved with a name is finished, and the
    // step-6 check says plainly that it needs an ID.
    let drafted =
        admin.request(reqwest::Method::PATCH, &format!("{path}/draft")).json(&json!({"step": 6, "form": settings})).send().await.unwrap();
    assert_eq!(drafted.status(), StatusCode::OK, "{}", drafted.text().await.unwrap());
    let finished = admin.post(&format!("{path}/finish"), json!({})).await;
    assert_eq!(finished.status(), StatusCode::UNPROCESSABLE_ENTITY, "a name does not become active");
    assert!(finished.text().await.unwrap().contains("Enterprise Grid"));
    let check: Value = admin.get(&format!("{path}/channel")).await.json().await.unwrap();
    assert_eq!(check["state"], "PROBLEM", "{check}");
    assert!(check["message"].as_str().unwrap().contains("channel ID"), "{check}");
    assert!(slack.calls("conversations.list").is_empty(), "no listing that Slack would refuse (missing_argument)");

    settings.settings.channel = defaults::GENERAL.to_owned();
    let by_id = admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap();
    assert_eq!(by_id.status(), StatusCode::OK, "{}", by_id.text().await.unwrap());
    let check: Value = admin.get(&format!("{path}/channel")).await.json().await.unwrap();
    assert_ne!(check["state"], "PROBLEM", "{check}");
}

#[tokio::test]
async fn a_rotating_token_that_expired_is_renewed_and_the_message_goes_out() {
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    slack.enable_token_rotation(defaults::CLIENT_ID);
    install(&herald, &admin, &id).await;
    let installed = slack.calls("oauth.v2.access");
    assert_eq!(installed.len(), 1);

    let settings = installed_settings();
    let path = format!("/api/destinations/{id}");
    let saved: Value = admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap().json().await.unwrap();
    let old_hint = saved["botToken"]["hint"].as_str().unwrap().to_owned();

    // Slack's side of the 12 hours passes.
    expire_installed_token(&slack);

    // The step-6 check renews it too, rather than asking for a reinstall.
    let check: Value = admin.get(&format!("{path}/channel")).await.json().await.unwrap();
    assert_ne!(check["state"], "PROBLEM", "{check}");
    let outcome: Value = admin.post(&format!("{path}/welcome"), json!({})).await.json().await.unwrap();
    assert_eq!(outcome["sent"], true, "{outcome}");
    let refreshes: Vec<_> = slack
        .calls("oauth.v2.access")
        .into_iter()
        .filter(|c| c.params.get("grant_type").and_then(Value::as_str) == Some("refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 1);
    let now: Value = admin.get(&path).await.json().await.unwrap();
    assert_ne!(now["botToken"]["hint"].as_str().unwrap(), old_hint, "the new pair is stored");
    assert_eq!(slack.messages_in(defaults::GENERAL).len(), 1);
}

/// An active destination on #general whose app was installed through Add
/// to Slack with token rotation on (fast retries).
async fn active_with_rotating_token() -> (FakeSlack, Herald, Session, String) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start_with(&slack, |s| s.delivery_retry_base = std::time::Duration::from_millis(50)).await;
    let admin = herald.sign_in_as_admin().await;
    let draft: Value = admin.post("/api/destinations", json!({"kind": "SLACK_BOT"})).await.json().await.unwrap();
    let id = draft["id"].as_str().unwrap().to_owned();
    let credentials =
        json!({"clientId": defaults::CLIENT_ID, "clientSecret": defaults::CLIENT_SECRET, "signingSecret": defaults::SIGNING_SECRET});
    admin.request(reqwest::Method::PUT, &format!("/api/destinations/{id}/credentials")).json(&credentials).send().await.unwrap();
    slack.enable_token_rotation(defaults::CLIENT_ID);
    install(&herald, &admin, &id).await;
    let settings = installed_settings();
    let path = format!("/api/destinations/{id}");
    assert_eq!(admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(admin.post(&format!("{path}/finish"), json!({})).await.status(), StatusCode::OK);
    (slack, herald, admin, id)
}

/// Slack's side of the 12 hours passes for the installed token.
fn expire_installed_token(slack: &FakeSlack) {
    let rotating: Vec<String> = slack.calls("auth.test").iter().filter_map(|c| c.token.clone()).collect();
    slack.expire_token(rotating.last().expect("the install checked its token"));
}

#[tokio::test]
async fn a_token_renewal_that_meets_a_passing_slack_failure_is_retried_and_the_alert_arrives() {
    let (slack, herald, admin, id) = active_with_rotating_token().await;
    let path = format!("/api/destinations/{id}");
    expire_installed_token(&slack);
    // The renewal meets Slack having a bad moment, once.
    slack.inject("oauth.v2.access", Fault::Status(500));
    let token = admin.api_token().await;
    let sent = herald.send_alerts(&token, &json!({"alertId": "r1", "title": "Renewed", "severity": "HIGH"})).await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let delivered = herald_tests::poll::until("the alert to arrive", || async {
        let alert: Value = admin.get("/api/alerts/r1").await.json().await.unwrap();
        match alert["deliveries"][0]["state"].as_str() {
            Some("SENT") => Ok(alert),
            Some("FAILED") => panic!("failed for good: {alert}"),
            _ => Err(alert["deliveries"].clone()),
        }
    })
    .await;
    assert!(delivered["deliveries"][0]["attempts"].as_u64().unwrap() >= 2, "{delivered}");
    let view: Value = admin.get(&path).await.json().await.unwrap();
    assert!(view.get("problem").is_none_or(Value::is_null), "the destination was not marked: {view}");
    assert_eq!(slack.messages_in(defaults::GENERAL).len(), 1);
}

#[tokio::test]
async fn a_click_in_slack_with_an_expired_rotating_token_renews_it_and_is_answered() {
    let (slack, herald, admin, _id) = active_with_rotating_token().await;
    let user = json!({"email": defaults::ANA_EMAIL, "displayName": "Ana", "role": "ANALYST", "password": "a long enough password"});
    assert_eq!(admin.post("/api/users", user).await.status(), StatusCode::CREATED);
    let token = admin.api_token().await;
    herald.send_alerts(&token, &json!({"alertId": "c1", "title": "Click", "severity": "HIGH"})).await;
    let message = herald_tests::poll::until("the alert's message", || async {
        slack.messages_in(defaults::GENERAL).into_iter().next().ok_or("not yet")
    })
    .await;
    expire_installed_token(&slack);
    let action =
        json!({"type": "static_select", "action_id": "alert.status", "block_id": "alert:c1", "selected_option": {"value": "TRIAGED"}});
    let payload = slack.block_actions(defaults::ANA, &message, action);
    let clicked = slack.send_interaction(&herald.url("/slack/interactivity"), defaults::SIGNING_SECRET, &payload).await;
    assert_eq!(clicked.status(), StatusCode::OK);
    herald_tests::poll::until("the click to change the alert", || async {
        let alert: Value = admin.get("/api/alerts/c1").await.json().await.unwrap();
        if alert["status"] == "TRIAGED" { Ok(()) } else { Err(alert["status"].clone()) }
    })
    .await;
}

#[tokio::test]
async fn a_token_pasted_after_an_install_replaces_the_workspace_herald_believes() {
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    install(&herald, &admin, &id).await;
    // The app moves to another workspace: its token is pasted in the form.
    const OTHER_TEAM: &str = "T0OTHER001";
    const OTHER_TOKEN: &str = "xoxb-5555555555-6666666666-otherteamtoken1";
    slack.add_bot_token_of_team(OTHER_TOKEN, OTHER_TEAM);
    let settings = json!({
        "displayName": "Alerts", "channel": "#general", "clientId": defaults::CLIENT_ID, "botToken": OTHER_TOKEN,
        "severities": ["HIGH"], "alertKinds": ["ALERTS"], "timezone": "UTC",
    });
    let path = format!("/api/destinations/{id}");
    assert_eq!(admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap().status(), StatusCode::OK);

    let events = herald.url("/slack/events");
    let (_, _, from_old) = slack.send_event(&events, defaults::SIGNING_SECRET, json!({"type": "app_uninstalled"})).await;
    assert_eq!(from_old.status(), StatusCode::OK);
    let view: Value = admin.get(&path).await.json().await.unwrap();
    assert!(view.get("problem").is_none_or(Value::is_null), "news from the old workspace changes nothing: {view}");
    let (_, _, from_new) = slack.send_event_from(OTHER_TEAM, &events, defaults::SIGNING_SECRET, json!({"type": "app_uninstalled"})).await;
    assert_eq!(from_new.status(), StatusCode::OK);
    let view: Value = admin.get(&path).await.json().await.unwrap();
    assert!(view["problem"].as_str().is_some_and(|p| p.starts_with("Disconnected")), "{view}");
}

#[tokio::test]
async fn another_site_cannot_start_an_install_in_an_admin_s_browser() {
    let (_slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    let response = no_redirects()
        .get(herald.url(&format!("/slack/install?destination={id}")))
        .header("cookie", &admin.cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none(), "no state was made");
}

#[tokio::test]
async fn events_about_another_workspace_or_bot_change_nothing() {
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    install(&herald, &admin, &id).await;
    let events = herald.url("/slack/events");
    let problem = |admin: Session, id: String| async move {
        admin.get(&format!("/api/destinations/{id}")).await.json::<Value>().await.unwrap().get("problem").cloned()
    };

    let other_bot = json!({"type": "tokens_revoked", "tokens": {"bot": ["U0SOMEONEELSE"]}});
    assert_eq!(slack.send_event(&events, defaults::SIGNING_SECRET, other_bot).await.2.status(), StatusCode::OK);
    let other_team = json!({
        "type": "event_callback", "team_id": "T0OTHERTEAM", "event_id": "Ev0OTHER", "event_time": 1,
        "event": {"type": "app_uninstalled"},
    })
    .to_string();
    let response = slack.post_signed(&events, defaults::SIGNING_SECRET, "application/json", other_team, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(problem(admin.clone(), id.clone()).await, None);

    let ours = json!({"type": "tokens_revoked", "tokens": {"bot": [defaults::BOT_USER_ID]}});
    slack.send_event(&events, defaults::SIGNING_SECRET, ours).await;
    assert!(problem(admin, id).await.is_some());
}

#[tokio::test]
async fn a_rotating_token_about_to_expire_is_renewed_before_it_is_used() {
    let (slack, herald, admin, id) = ready(defaults::CLIENT_SECRET).await;
    slack.enable_token_rotation(defaults::CLIENT_ID);
    // Within Herald's five-minute margin from the start.
    slack.set_token_lifetime(defaults::CLIENT_ID, 120);
    install(&herald, &admin, &id).await;
    let settings = installed_settings();
    let path = format!("/api/destinations/{id}");
    assert_eq!(admin.request(reqwest::Method::PUT, &path).json(&settings).send().await.unwrap().status(), StatusCode::OK);
    slack.set_token_lifetime(defaults::CLIENT_ID, 43_200);

    // The step-6 check renews it too, rather than asking for a reinstall.
    let check: Value = admin.get(&format!("{path}/channel")).await.json().await.unwrap();
    assert_ne!(check["state"], "PROBLEM", "{check}");
    let outcome: Value = admin.post(&format!("{path}/welcome"), json!({})).await.json().await.unwrap();
    assert_eq!(outcome["sent"], true, "{outcome}");
    let refreshes = slack
        .calls("oauth.v2.access")
        .into_iter()
        .filter(|c| c.params.get("grant_type").and_then(Value::as_str) == Some("refresh_token"))
        .count();
    assert_eq!(refreshes, 1, "renewed ahead of time");
    assert_eq!(slack.calls("chat.postMessage").len(), 1, "no call failed on an expired token first");
}
