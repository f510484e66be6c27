//! The real wasm app in a real headless Chromium, served by the real server.

use herald_tests::herald::{ADMIN_EMAIL, ADMIN_PASSWORD};
use herald_tests::{Browser, FakeSlack, Herald};

#[tokio::test]
async fn signing_in_through_the_page_leads_to_the_destinations_and_create_new_to_the_choice_of_kind() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;

    browser.goto(&herald.url("/")).await;
    browser.wait_for_path("/sign-in").await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;
    browser.find_text("h1", "Alert Destinations").await;
    browser.find_text(".empty", "No alert destinations yet.").await;
    browser.find_text(".who", "admin").await;

    browser.click_text("a.button", "Create New").await;
    browser.wait_for_path("/destinations/new").await;
    browser.find_text("h1", "Create New Destination").await;
    browser.find_text(".choice h2", "Slack Bot").await;

    browser.close().await;
}

#[tokio::test]
async fn a_wrong_password_shows_a_clear_message_and_stays_on_the_sign_in_page() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;

    browser.sign_in(&herald, ADMIN_EMAIL, "not the right password").await;
    browser.find_text("[role=alert]", "The email or password is not right.").await;
    browser.wait_for_path("/sign-in").await;

    browser.close().await;
}

#[tokio::test]
async fn a_deep_link_asks_for_sign_in_then_opens_the_page_it_named() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;

    browser.goto(&herald.url("/destinations/new")).await;
    browser.wait_for_path("/sign-in").await;
    browser.fill("input[name=email]", ADMIN_EMAIL).await;
    browser.fill("input[name=password]", ADMIN_PASSWORD).await;
    browser.click_text("button[type=submit]", "Sign in").await;
    browser.wait_for_path("/destinations/new").await;
    browser.find_text("h1", "Create New Destination").await;

    browser.click_text("nav a", "Alert Destinations").await;
    browser.wait_for_path("/destinations").await;
    browser.goto(&herald.url("/no/such/page")).await;
    browser.find_text("h1", "Page not found").await;

    browser.close().await;
}

#[tokio::test]
async fn signing_out_returns_to_the_sign_in_page_and_protected_pages_stay_closed() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;

    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;
    browser.click_text("button", "Sign out").await;
    browser.wait_for_path("/sign-in").await;
    browser.goto(&herald.url("/users")).await;
    browser.wait_for_path("/sign-in").await;

    browser.close().await;
}

#[tokio::test]
async fn when_the_server_is_unreachable_the_page_says_so_and_try_again_recovers() {
    let slack = FakeSlack::start().await;
    let mut herald = Herald::start(&slack).await;
    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.click_text("a.button", "Create New").await;
    browser.find_text("h1", "Create New Destination").await;

    herald.pause().await;
    browser.click_text("a.button", "Cancel").await;
    browser.find_text("[role=alert]", "cannot be reached").await;

    herald.resume().await;
    browser.click_text("[role=alert] button", "Try again").await;
    browser.find_text(".empty", "No alert destinations yet.").await;

    browser.close().await;
}

#[tokio::test]
async fn an_admin_adds_a_user_after_fixing_a_field_the_form_flagged() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.click_text("nav a", "Users").await;
    browser.wait_for_path("/users").await;
    browser.find_text("tr[data-email] td", ADMIN_EMAIL).await;

    browser.fill("#new-email", "raj@acme.example").await;
    browser.fill("#new-name", "Raj").await;
    browser.fill("#new-password", "short").await;
    browser.click_text("button[type=submit]", "Add user").await;
    browser.find_text("#new-password-error", "Use at least 12 characters.").await;

    browser.fill("#new-password", "a long enough password").await;
    browser.click_text("button[type=submit]", "Add user").await;
    browser.find_text("[role=status]", "Added raj@acme.example").await;
    browser.find_text("tr[data-email='raj@acme.example'] td", "Raj").await;

    // Raj signs in with the password the admin gave.
    let raj = herald.sign_in("raj@acme.example", "a long enough password").await;
    assert_eq!(raj.get("/api/session").await.status(), reqwest::StatusCode::OK);
    browser.close().await;
}

#[tokio::test]
async fn a_new_api_token_is_shown_once_and_can_be_revoked() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.click_text("nav a", "API Tokens").await;
    browser.wait_for_path("/tokens").await;

    // No name: the field says what to write, and the field is marked.
    browser.click_text("button[type=submit]", "Create token").await;
    browser.find_text("#token-name-error", "Name the token after what uses it").await;
    browser.find_text("#token-name[aria-invalid=true]", "").await;
    browser.screenshot("desktop-tokens-no-name").await;
    browser.fill("#token-name", "detection pipeline").await;
    browser.click_text("button[type=submit]", "Create token").await;
    let secret = browser.find_text(".secret-value", "hrld_").await.text().await.unwrap();
    let works = herald.http.get(herald.url("/api/token")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(works.status(), reqwest::StatusCode::OK);

    browser.click_text("tr[data-token='detection pipeline'] button", "Revoke").await;
    browser.click_text("tr[data-token='detection pipeline'] button", "Confirm revoke").await;
    browser.find_text("tr[data-token='detection pipeline'] td", "Revoked").await;
    let refused = herald.http.get(herald.url("/api/token")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    browser.goto(&herald.url("/tokens")).await;
    browser.find_text("tr[data-token='detection pipeline'] td", "Revoked").await;
    let page = browser.client.source().await.unwrap();
    assert!(!page.contains(&secret), "after a reload the secret is gone for good");
    browser.close().await;
}

#[tokio::test]
async fn a_crafted_next_link_never_leads_off_the_site() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;

    for next in ["%2F%2Fevil.example", "%2F%09%2Fevil.example", "https%3A%2F%2Fevil.example", "%2F%5Cevil.example"] {
        browser.goto(&herald.url(&format!("/sign-in?next={next}"))).await;
        browser.wait_for_path("/destinations").await;
        let url = browser.client.current_url().await.unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"), "{next} led to {url}");
    }
    browser.close().await;
}

#[tokio::test]
async fn an_alert_sent_through_the_api_shows_as_sent_in_the_alerts_list_and_on_its_page() {
    use herald_tests::fake_slack::defaults;

    let (slack, herald) = herald_with_an_alert("b90c19e6").await;

    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;
    browser.find_text(".health", "Last delivery").await;
    browser.click_text("nav a", "Alerts").await;
    browser.wait_for_path("/alerts").await;
    browser.find_text("tr[data-alert=b90c19e6] td.delivery", "sent").await;
    browser.click_text("tr[data-alert=b90c19e6] a", "Suspicious console login").await;
    browser.wait_for_path("/alerts/b90c19e6").await;
    browser.find_text("tr[data-destination=SecOps] td.delivery", "open in Slack").await;

    let messages = slack.messages_in(defaults::GENERAL);
    assert_eq!(messages.len(), 1);
    assert!(messages[0].text.as_deref().unwrap().contains("Suspicious console login"));

    // Re-send posts it again, and the page follows.
    browser.click_text("tr[data-destination=SecOps] button", "Re-send").await;
    herald_tests::poll::until("the re-sent message", || async {
        if slack.messages_in(defaults::GENERAL).len() == 2 { Ok(()) } else { Err(slack.messages_in(defaults::GENERAL).len()) }
    })
    .await;
    browser.find_text("tr[data-destination=SecOps] td.delivery", "sent").await;
    browser.close().await;
}

#[tokio::test]
async fn changing_an_alert_s_status_in_the_console_changes_the_message_in_slack() {
    use herald_tests::fake_slack::defaults;

    let (slack, herald) = herald_with_an_alert("a1").await;

    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;
    browser.goto(&herald.url("/alerts/a1")).await;
    browser.find_text("tr[data-destination=SecOps] td.delivery", "sent").await;
    browser.select("select[name=status]", "TRIAGED").await;
    browser.find_text(".triage .saved", "Saved: the status is Triaged.").await;
    browser.find_text("ol.timeline .summary", "admin changed the status from Open to Triaged").await;

    herald_tests::poll::until("the Slack message to show the new status", || async {
        let message = slack.messages_in(defaults::GENERAL).into_iter().find(|m| m.thread_ts.is_none()).ok_or("no message")?;
        let blocks = serde_json::to_string(&message.blocks).unwrap();
        if blocks.contains("*Status*\\nTriaged") { Ok(()) } else { Err("not yet") }
    })
    .await;

    browser.fill("textarea[name=comment]", "Talked to the user").await;
    browser.click_text("form.comment button", "Add comment").await;
    browser.find_text("ol.timeline .summary", "admin commented: Talked to the user").await;
    browser.close().await;
}

/// Herald with a destination posting to #general, and an alert sent to it.
async fn herald_with_an_alert(alert_id: &str) -> (FakeSlack, Herald) {
    use serde_json::json;

    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    admin.add_secops("#general", "UTC").await;
    let token = admin.api_token().await;
    let sent = herald.send_alerts(&token, &json!({"alertId": alert_id, "title": "Suspicious console login", "severity": "HIGH"})).await;
    assert_eq!(sent.status(), reqwest::StatusCode::ACCEPTED);
    (slack, herald)
}
