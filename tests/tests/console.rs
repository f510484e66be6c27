//! The console as an operator meets it, in a real browser: every page on a
//! phone's width, titles that name the page, the wizard's form keeping and
//! checking what is typed, and filters that survive a reload.

use fantoccini::Locator;
use herald_tests::fake_slack::defaults;
use herald_tests::herald::{ADMIN_EMAIL, ADMIN_PASSWORD, Session};
use herald_tests::{Browser, FakeSlack, Herald, poll};
use serde_json::{Value, json};

/// Herald with one active destination on #general (the Slack app and its
/// token stored), an alert delivered to it, and a draft destination.
async fn herald_in_use() -> (FakeSlack, Herald, Session, String, String) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let admin = herald.sign_in_as_admin().await;
    let secops = admin.add_secops("#general", "Europe/Berlin").await;
    let token = admin.api_token().await;
    let alert = json!({
        "alertId": "a1", "title": "Suspicious console login from an address never seen before in this account",
        "severity": "HIGH", "detectionId": "AWS.Console.LoginWithoutMFA.FromANewAddress", "logTypes": ["AWS.CloudTrail"],
        "alertContext": {"sourceIPAddress": "203.0.113.7", "userIdentity": {"arn": "arn:aws:iam::123456789012:user/a-rather-long-user-name"}},
    });
    assert_eq!(herald.send_alerts(&token, &alert).await.status(), reqwest::StatusCode::ACCEPTED);
    // Two more events of the same detection and title fold into it.
    for ip in ["203.0.113.8", "203.0.113.9"] {
        let mut again = alert.clone();
        again.as_object_mut().unwrap().remove("alertId");
        again["alertContext"]["sourceIPAddress"] = json!(ip);
        let answer: Value = herald.send_alerts(&token, &again).await.json().await.unwrap();
        assert_eq!(answer["alerts"][0]["alertId"], "a1", "{answer}");
    }
    let draft: Value = admin.post("/api/destinations", json!({"kind": "SLACK_BOT"})).await.json().await.unwrap();
    let draft = draft["id"].as_str().unwrap().to_owned();
    (slack, herald, admin, secops, draft)
}

async fn signed_in(herald: &Herald) -> Browser {
    let browser = Browser::start().await;
    browser.sign_in(herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;
    browser
}

#[tokio::test]
async fn every_page_fits_a_360_px_phone_without_sideways_scrolling_and_its_title_names_it() {
    let (_slack, herald, _admin, secops, draft) = herald_in_use().await;
    let browser = signed_in(&herald).await;
    browser.find_text("tr[data-destination=SecOps] td", "Active").await;
    browser.wait_for_absence("#boot-shell").await;

    let mut pages: Vec<(String, &str, String)> = vec![
        ("/destinations".into(), "Alert Destinations", "Alert Destinations — Herald".into()),
        ("/destinations/new".into(), "Create New Destination", "Create New Destination — Herald".into()),
    ];
    for step in 1..=7 {
        pages.push((format!("/destinations/{draft}/setup/{step}"), "Set up a Slack Bot", "Set up a Slack Bot — Herald".into()));
    }
    pages.extend([
        ("/alerts".into(), "Alerts", "Alerts — Herald".into()),
        (
            "/alerts/a1".into(),
            "Suspicious console login",
            "High: Suspicious console login from an address never seen before in this account — Herald".into(),
        ),
        (format!("/destinations/{secops}/edit"), "Edit destination", "Edit Destination — Herald".into()),
        ("/users".into(), "Users", "Users — Herald".into()),
        ("/tokens".into(), "API Tokens", "API Tokens — Herald".into()),
    ]);

    for (width, height, device) in [(360, 780, "phone"), (1280, 900, "desktop")] {
        browser.set_viewport(width, height).await;
        for (path, heading, title) in &pages {
            browser.goto(&herald.url(path)).await;
            browser.find_text("h1", heading).await;
            browser.wait_for_title(title).await;
            if path.ends_with("/setup/5") {
                browser.find_text("label", "Display Name").await;
            }
            browser.assert_no_sideways_scroll(&format!("{path} at {width} px")).await;
            browser.screenshot(&format!("{device}{}", path.replace('/', "-").replace(&draft, "draft").replace(&secops, "secops"))).await;
        }
    }

    // On a phone the navigation sits behind Menu, and works.
    browser.set_viewport(360, 780).await;
    browser.goto(&herald.url("/destinations")).await;
    browser.find_text("h1", "Alert Destinations").await;
    let users_link = browser.client.find(Locator::Css("nav a[href='/users']")).await.unwrap();
    assert!(!users_link.is_displayed().await.unwrap(), "the navigation is folded on a phone");
    browser.click_text("button.menu-toggle", "Menu").await;
    browser.screenshot("phone-menu-open").await;
    browser.click_text("nav a", "Users").await;
    browser.wait_for_path("/users").await;
    browser.wait_for_title("Users — Herald").await;
    let users_link = browser.client.find(Locator::Css("nav a[href='/users']")).await.unwrap();
    assert!(!users_link.is_displayed().await.unwrap(), "moving to a page folds the menu again");

    // The row menu of a destination opens within the screen.
    browser.goto(&herald.url("/destinations")).await;
    browser.click_text("tr[data-destination=SecOps] summary", "More").await;
    browser.find_text("tr[data-destination=SecOps] .row-menu-items button", "Send welcome message").await;
    browser.assert_no_sideways_scroll("/destinations with a row menu open").await;
    browser.screenshot("phone-row-menu").await;

    // The alert's story starts with its arrival and where it was posted.
    browser.goto(&herald.url("/alerts/a1")).await;
    browser.find_text("ol.timeline .summary", "Received").await;
    browser.find_text("ol.timeline .summary", "Posted to SecOps").await;

    // The plan tabs answer the arrow keys, and keep the focus.
    browser.goto(&herald.url(&format!("/destinations/{draft}/setup/2"))).await;
    let standard = browser.find_text("[role=tab]", "Free, Pro").await;
    standard.send_keys("\u{E014}").await.unwrap(); // Arrow Right
    poll::until("the Enterprise Grid tab to be chosen and focused", || async {
        let state = browser
            .client
            .execute("const t = document.getElementById('plan-grid'); return [t.getAttribute('aria-selected'), document.activeElement === t, document.activeElement.outerHTML.slice(0, 120)]", vec![])
            .await
            .map_err(|e| e.to_string())?;
        if state[0] == "true" && state[1] == true { Ok(()) } else { Err(state.to_string()) }
    })
    .await;

    // Signed out, the sign-in page fits too.
    browser.click_text("button.menu-toggle", "Menu").await;
    browser.click_text("button", "Sign out").await;
    browser.wait_for_path("/sign-in").await;
    browser.wait_for_title("Sign in — Herald").await;
    browser.assert_no_sideways_scroll("/sign-in at 360 px").await;
    browser.screenshot("phone-sign-in").await;
    browser.close().await;
}

#[tokio::test]
async fn a_folded_alert_shows_its_count_in_the_list_and_its_earlier_events_on_its_page() {
    let (_slack, herald, _admin, _secops, _draft) = herald_in_use().await;
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url("/alerts")).await;
    browser.find_text("tr[data-alert=a1] .count", "×3").await;
    browser.goto(&herald.url("/alerts/a1")).await;
    browser.find_text("dd.events", "×3 · last at").await;
    browser.find_text("h2", "Latest event's context").await;
    browser.find_text("pre.context", "203.0.113.9").await;
    browser.find_text("h2", "Earlier events").await;
    browser.find_text("ol.earlier-events li:first-child pre", "203.0.113.8").await;
    browser.find_text("ol.earlier-events li:last-child pre", "203.0.113.7").await;
    browser.find_text("ol.timeline .summary", "2 more events").await;
    // The list's Events filter finds it, and keeps the choice in the address.
    browser.goto(&herald.url("/alerts?events=repeated")).await;
    browser.find_text("tr[data-alert=a1] .count", "×3").await;
    assert_eq!(browser.value("select[name=events]").await, "repeated");
    browser.close().await;
}

#[tokio::test]
async fn signing_out_leaves_a_working_sign_in_page_and_no_error_in_the_console() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url("/users")).await;
    browser.find_text("h1", "Users").await;
    let before = browser.console_errors().await;
    assert!(before.is_empty(), "errors before signing out: {before:?}");

    browser.click_text("button", "Sign out").await;
    browser.wait_for_path("/sign-in").await;
    browser.find_text("h1", "Sign in to Herald").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), None, "no `next` after signing out: {url}");
    // The page works: signing in again leads on.
    browser.fill("input[name=email]", ADMIN_EMAIL).await;
    browser.fill("input[name=password]", ADMIN_PASSWORD).await;
    browser.click_text("button[type=submit]", "Sign in").await;
    browser.wait_for_path("/destinations").await;
    browser.find_text("h1", "Alert Destinations").await;
    let after = browser.console_errors().await;
    assert!(after.is_empty(), "console errors around signing out: {after:?}");

    // A signed-out visit to the sign-in page never names itself as `next`.
    browser.click_text("button", "Sign out").await;
    browser.wait_for_path("/sign-in").await;
    browser.goto(&herald.url("/sign-in?next=%2Fsign-in")).await;
    browser.fill("input[name=email]", ADMIN_EMAIL).await;
    browser.fill("input[name=password]", ADMIN_PASSWORD).await;
    browser.click_text("button[type=submit]", "Sign in").await;
    browser.wait_for_path("/destinations").await;
    browser.close().await;
}

#[tokio::test]
async fn step_5_checks_the_channel_with_slack_adds_a_log_type_on_enter_and_keeps_what_is_typed() {
    let (_slack, herald, admin, _secops, draft) = herald_in_use().await;
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url(&format!("/destinations/{draft}/setup/5"))).await;
    browser.find_text("h2", "5. Destination details").await;
    // A new destination starts in the time zone of the first.
    browser.wait_for_value("#timezone", "Europe/Berlin").await;

    // A channel Slack has never heard of is named here, not at step 6.
    browser.fill("#channel", "#does-not-exist").await;
    browser.find_text("#channel-error", "Slack cannot find #does-not-exist").await;
    assert_eq!(attr(&browser, "#channel", "aria-invalid").await.as_deref(), Some("true"));
    browser.fill("#channel", "#general").await;
    browser.wait_for_absence("#channel-error").await;

    // Enter in "Another log type" adds it and stays on the step.
    browser.click_text("label.check", "All log types").await;
    browser.fill("#otherLogType", "Acme.Custom\u{E007}").await;
    browser.find_text(".chips .chip", "Acme.Custom").await;
    browser.find_text("h2", "5. Destination details").await;
    assert_eq!(browser.value("#otherLogType").await, "", "the field is ready for the next one");
    // The filter box narrows the 50 checkboxes.
    browser.fill("#logTypeFilter", "okta").await;
    let shown = browser
        .client
        .execute("return [...document.querySelectorAll('.log-type')].filter(e => !e.hidden).map(e => e.textContent)", vec![])
        .await
        .unwrap();
    let shown: Vec<String> = serde_json::from_value(shown).unwrap();
    assert!(!shown.is_empty() && shown.iter().all(|t| t.to_lowercase().contains("okta")), "{shown:?}");

    // The deduplication window is whole minutes up to a week; 0 is off.
    browser.wait_for_value("#dedupWindow", "60").await;
    browser.fill("#dedupWindow", "an hour").await;
    browser.find_text("#dedupWindow-error", "Enter whole minutes").await;
    browser.fill("#dedupWindow", "20000").await;
    browser.find_text("#dedupWindow-error", "at most 10080 minutes").await;
    browser.fill("#dedupWindow", "0").await;
    browser.wait_for_absence("#dedupWindow-error").await;

    // What is typed is kept before the field is even left: a reload finds it.
    browser.fill("#displayName", "Cloud alerts").await;
    poll::until("the draft to hold the typed name and window", || async {
        let draft: Value = admin.get(&format!("/api/destinations/{draft}")).await.json().await.unwrap();
        let kept = (draft["displayName"].clone(), draft["dedupWindow"].clone());
        if kept == (json!("Cloud alerts"), json!(0)) { Ok(()) } else { Err(kept) }
    })
    .await;
    browser.reload().await;
    browser.wait_for_value("#displayName", "Cloud alerts").await;
    browser.wait_for_value("#channel", "#general").await;
    browser.wait_for_value("#dedupWindow", "0").await;

    // The server's word on a field (Slack refusing a token) is shown at the
    // field, focus goes there, and it clears as soon as the field changes.
    browser.click_text(".credentials button", "Change credentials").await;
    // A secret can be shown to check what was pasted, and hidden again.
    assert_eq!(attr(&browser, "#botToken", "type").await.as_deref(), Some("password"));
    browser.click_text(".secret-input button[aria-controls=botToken]", "Show").await;
    poll::until("the token to be shown", || async {
        let kind = attr(&browser, "#botToken", "type").await;
        if kind.as_deref() == Some("text") { Ok(()) } else { Err(kind) }
    })
    .await;
    browser.click_text(".secret-input button[aria-controls=botToken]", "Hide").await;
    browser.fill("#botToken", "xoxb-1111111111-2222222222-notknowntoslack").await;
    browser.click_text("button[type=submit]", "Save and continue").await;
    browser.find_text("#botToken-error", "Slack does not know this token").await;
    browser.find_text("[role=alert]", "Some fields need fixing").await;
    poll::until("the focus to move to the token", || async {
        let focused = browser.client.execute("return document.activeElement.id", vec![]).await.map_err(|e| e.to_string())?;
        if focused == "botToken" { Ok(()) } else { Err(focused.to_string()) }
    })
    .await;
    // Nothing else is flagged: the stored secrets are kept, not asked for.
    for kept in ["#clientSecret-error", "#signingSecret-error"] {
        assert!(browser.client.find(Locator::Css(kept)).await.is_err(), "{kept} shown");
    }
    browser.fill("#botToken", defaults::BOT_TOKEN).await;
    browser.wait_for_absence("#botToken-error").await;
    browser.wait_for_absence("form [role=alert]").await;
    assert_eq!(attr(&browser, "#botToken", "aria-invalid").await, None);
    browser.click_text("button[type=submit]", "Save and continue").await;
    browser.find_text("h2", "6. Invite the bot").await;
    browser.close().await;
}

#[tokio::test]
async fn step_6_says_what_a_channel_slack_cannot_find_means_instead_of_only_asking_for_an_invite() {
    let (_slack, herald, admin, _secops, draft) = herald_in_use().await;
    let form = json!({
        "displayName": "Private", "channel": "#secret-room", "clientId": defaults::CLIENT_ID,
        "severities": ["HIGH"], "alertKinds": ["ALERTS"], "logTypes": [], "timezone": "UTC",
    });
    let saved = admin.patch(&format!("/api/destinations/{draft}/draft"), json!({"step": 6, "form": form})).await;
    assert_eq!(saved.status(), reqwest::StatusCode::OK);
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url(&format!("/destinations/{draft}/setup/6"))).await;
    browser.find_text(".channel-status.problem", "Slack cannot find #secret-room").await;
    browser.find_text("p", "If #secret-room is a private channel").await;
    browser.click_text("p a", "correct the channel in step 5").await;
    browser.find_text("h2", "5. Destination details").await;
    browser.close().await;
}

#[tokio::test]
async fn on_users_a_later_success_replaces_an_earlier_refusal() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url("/users")).await;
    // The last enabled admin cannot be demoted.
    browser.select(&format!("tr[data-email='{ADMIN_EMAIL}'] select"), "VIEWER").await;
    browser.find_text(".outcome", "admin").await;
    let refusal = browser.find_text(".notice.outcome", "").await.text().await.unwrap();
    assert!(browser.client.find(Locator::Css(".notice.error.outcome")).await.is_ok(), "refused: {refusal}");
    browser.fill("#new-email", "raj@acme.example").await;
    browser.fill("#new-name", "Raj").await;
    browser.fill("#new-password", "a long enough first password").await;
    browser.click_text("button[type=submit]", "Add user").await;
    browser.find_text(".notice.success.outcome", "Added raj@acme.example").await;
    let outcomes = browser.client.find_all(Locator::Css(".outcome")).await.unwrap();
    assert_eq!(outcomes.len(), 1, "one outcome line, not the refusal above the success");
    browser.close().await;
}

#[tokio::test]
async fn a_client_id_typo_is_the_only_error_while_the_secrets_are_saved() {
    let (_slack, herald, _admin, id, _draft) = herald_in_use().await;
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url(&format!("/destinations/{id}/edit"))).await;
    browser.click_text(".credentials button", "Change credentials").await;
    browser.fill("#clientId", "1111111111.22222x").await;
    browser.click_text("button[type=submit]", "Save").await;
    browser.find_text("#clientId-error", "").await;
    for kept in ["#clientSecret-error", "#signingSecret-error", "#botToken-error"] {
        assert!(browser.client.find(Locator::Css(kept)).await.is_err(), "{kept} contradicts the Saved placeholder");
    }
    browser.close().await;
}

#[tokio::test]
async fn alert_filters_live_in_the_address_and_survive_a_reload() {
    let (_slack, herald, _admin, _secops, _draft) = herald_in_use().await;
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url("/alerts")).await;
    browser.find_text("tr[data-alert=a1] td", "Open").await;

    browser.select("select[name=severity]", "HIGH").await;
    browser.select("select[name=status]", "OPEN").await;
    poll::until("the filters in the address", || async {
        let url = browser.client.current_url().await.map_err(|e| e.to_string())?;
        if url.query() == Some("severity=HIGH&status=OPEN") { Ok(()) } else { Err(url.to_string()) }
    })
    .await;
    browser.reload().await;
    browser.find_text("tr[data-alert=a1] td", "Open").await;
    browser.wait_for_value("select[name=severity]", "HIGH").await;
    browser.wait_for_value("select[name=status]", "OPEN").await;

    // Nothing matching says so, and offers the way back.
    browser.select("select[name=severity]", "CRITICAL").await;
    browser.find_text(".empty", "No alerts match these filters.").await;
    browser.click_text(".empty a", "Clear filters").await;
    browser.wait_for_path("/alerts").await;
    browser.find_text("tr[data-alert=a1] td", "Open").await;
    browser.wait_for_value("select[name=severity]", "").await;
    browser.close().await;
}

#[tokio::test]
async fn links_in_the_app_change_the_page_without_a_reload_and_back_returns() {
    let (_slack, herald, _admin, _secops, _draft) = herald_in_use().await;
    let browser = signed_in(&herald).await;
    browser.find_text("tr[data-destination=SecOps] td", "Active").await;
    // A reload would forget this.
    browser.client.execute("window.heraldSamePage = true;", vec![]).await.unwrap();
    let same_page = || async { browser.client.execute("return window.heraldSamePage === true;", vec![]).await.unwrap() };
    assert_eq!(attr(&browser, "nav a[href='/destinations']", "aria-current").await.as_deref(), Some("page"));

    browser.click_text("nav a", "Alerts").await;
    browser.wait_for_path("/alerts").await;
    browser.wait_for_title("Alerts — Herald").await;
    browser.find_text("tr[data-alert=a1] td", "Open").await;
    assert_eq!(attr(&browser, "nav a[href='/alerts']", "aria-current").await.as_deref(), Some("page"));
    assert_eq!(attr(&browser, "nav a[href='/destinations']", "aria-current").await, None);

    // A page below Alerts keeps it marked.
    browser.click_text("tr[data-alert=a1] a", "Suspicious console login").await;
    browser.wait_for_path("/alerts/a1").await;
    browser.find_text("h2", "Deliveries").await;
    assert_eq!(attr(&browser, "nav a[href='/alerts']", "aria-current").await.as_deref(), Some("page"));
    assert_eq!(same_page().await, serde_json::Value::Bool(true), "following links reloaded the page");

    browser.client.back().await.unwrap();
    browser.wait_for_path("/alerts").await;
    browser.wait_for_title("Alerts — Herald").await;
    browser.find_text("tr[data-alert=a1] td", "Open").await;
    browser.client.back().await.unwrap();
    browser.wait_for_path("/destinations").await;
    browser.find_text("tr[data-destination=SecOps] td", "Active").await;
    assert_eq!(same_page().await, serde_json::Value::Bool(true), "Back reloaded the page");
    assert_eq!(browser.console_errors().await, Vec::<String>::new());

    // The bare address leads to the destinations; an unknown one says so.
    browser.goto(&herald.url("/")).await;
    browser.wait_for_path("/destinations").await;
    browser.goto(&herald.url("/no/such/page")).await;
    browser.find_text("h1", "Page not found").await;
    browser.close().await;
}

async fn attr(browser: &Browser, css: &str, name: &str) -> Option<String> {
    browser.client.find(Locator::Css(css)).await.unwrap().attr(name).await.unwrap()
}

#[tokio::test]
async fn mentions_and_reminders_are_set_in_the_destination_form_and_a_mistyped_mention_is_named_as_it_is_typed() {
    let (slack, herald, admin, secops, _draft) = herald_in_use().await;
    slack.set_scopes(defaults::BOT_TOKEN, &format!("{},usergroups:read", defaults::SCOPES));
    let browser = signed_in(&herald).await;
    browser.goto(&herald.url(&format!("/destinations/{secops}/edit"))).await;
    browser.find_text("h1", "Edit destination").await;
    browser.find_text("#mentions legend", "Mentions").await;

    let critical = "[id='mentions.CRITICAL']";
    browser.fill(critical, "@here, <!everyone>").await;
    browser.find_text("[id='mentions.CRITICAL-error']", "does not mention @everyone").await;
    browser.fill(critical, "@here, @sec-oncall").await;
    browser.wait_for_absence("[id='mentions.CRITICAL-error']").await;
    browser.fill("#remindAfter", "half an hour").await;
    browser.find_text("#remindAfter-error", "Enter whole minutes").await;
    browser.fill("#remindAfter", "30").await;
    browser.fill("#remindTimes", "2").await;
    browser.wait_for_absence("#remindAfter-error").await;
    for (width, height, device) in [(1280, 900, "desktop"), (360, 780, "phone")] {
        browser.set_viewport(width, height).await;
        browser.client.execute("document.getElementById('mentions').scrollIntoView()", vec![]).await.unwrap();
        browser.assert_no_sideways_scroll(&format!("the edit form's mentions at {width} px")).await;
        browser.screenshot(&format!("{device}-destination-mentions")).await;
    }

    browser.click_text("button[type=submit]", "Save").await;
    browser.wait_for_path("/destinations").await;
    let saved: Value = admin.get(&format!("/api/destinations/{secops}")).await.json().await.unwrap();
    let group = format!("<!subteam^{}|@sec-oncall>", defaults::SEC_ONCALL);
    assert_eq!(saved["mentions"], json!({"CRITICAL": ["@here", group]}), "the handle looked up in Slack: {saved}");
    assert_eq!((saved["remindAfter"].as_u64(), saved["remindTimes"].as_u64()), (Some(30), Some(2)));
    // The form shows the group by its handle again.
    browser.goto(&herald.url(&format!("/destinations/{secops}/edit"))).await;
    browser.wait_for_value(critical, "@here, @sec-oncall").await;
    browser.wait_for_value("#remindAfter", "30").await;
    assert!(browser.console_errors().await.is_empty());
}
