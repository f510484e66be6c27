//! The setup wizard in a real browser, walked as a new user walks it.

use herald_tests::fake_slack::defaults;
use herald_tests::herald::{ADMIN_EMAIL, ADMIN_PASSWORD};
use herald_tests::{Browser, FakeSlack, Herald};
use serde_json::Value;

async fn start() -> (FakeSlack, Herald, Browser) {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;
    browser.sign_in(&herald, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_for_path("/destinations").await;
    (slack, herald, browser)
}

/// From the destinations list to step 2 of a new Slack Bot destination.
async fn begin(browser: &Browser) {
    browser.click_text("a.button", "Create New").await;
    browser.click_text("button", "Set up a Slack Bot").await;
    browser.find_text("h2", "2. Create the Slack app from a manifest").await;
}

async fn next(browser: &Browser, heading: &str) {
    browser.click_text(".wizard-nav button", "Next").await;
    browser.find_text("h2", heading).await;
}

#[tokio::test]
async fn a_new_user_walks_every_step_then_a_second_destination_reuses_the_app() {
    let (slack, herald, browser) = start().await;

    // Steps 1 and 2: choose Slack Bot, copy the manifest.
    begin(&browser).await;
    browser.find_text(".stepper li[aria-current] ", "Slack app").await;
    let manifest = poll_manifest(&browser, "display_information:").await;
    assert!(manifest.contains("/slack/oauth/callback"), "{manifest}");
    browser.click_text("button", "Copy manifest").await;
    let status = browser.find_text(".copied", "").await.text().await.unwrap();
    assert_copied(&browser, &status, &manifest).await;
    browser.click_text(".manifest-tools button", "JSON").await;
    assert!(poll_manifest(&browser, "\"display_information\"").await.trim_start().starts_with('{'));
    browser.click_text(".tabs button", "Enterprise Grid").await;
    assert!(poll_manifest(&browser, "\"org_deploy_enabled\": true").await.contains("org_deploy_enabled"));
    browser.find_text(".instructions li", "Opt in").await;
    browser.find_text(".hint", "Request to Install").await;
    // usergroups:read only when user groups are to be mentioned by handle.
    assert!(!browser.value("#manifest-text").await.contains("usergroups:read"), "not asked for by default");
    browser.click_text("label.user-groups", "Mention user groups by their handle").await;
    poll_manifest(&browser, "\"usergroups:read\"").await;
    browser.screenshot("step-2-user-groups-desktop").await;
    browser.set_viewport(360, 800).await;
    browser.assert_no_sideways_scroll("step 2, user groups").await;
    browser.screenshot("step-2-user-groups-phone").await;
    browser.set_viewport(1280, 900).await;
    browser.click_text("label.user-groups", "Mention user groups by their handle").await;
    poll_manifest(&browser, "org_deploy_enabled").await;
    assert!(!browser.value("#manifest-text").await.contains("usergroups:read"), "untick, and it goes");

    // Steps 3 and 4: the icon and where the credentials are, then the
    // install with Add to Slack, through the fake Slack's authorize page
    // and back to step 5.
    next(&browser, "3. Configure the app").await;
    browser.find_text("a.button", "Download the icon").await;
    browser.find_text("p", "App Credentials").await;
    next(&browser, "4. Install the app").await;
    browser.find_text(".instructions li", "Install to Workspace").await;
    browser.find_text("h3", "Install with Add to Slack").await;
    browser.fill("#install-client-id", defaults::CLIENT_ID).await;
    browser.fill("#install-client-secret", defaults::CLIENT_SECRET).await;
    browser.fill("#install-signing-secret", defaults::SIGNING_SECRET).await;
    browser.click_text("button", "Save and Add to Slack").await;
    browser.find_text("[role=status]", "Installed with Add to Slack: the bot token is saved.").await;
    assert_eq!(slack.calls("oauth.v2.access").len(), 1, "the code was exchanged");

    // Step 5: the token is filled in; one wrong value first, flagged as it is typed.
    browser.find_text("h2", "5. Destination details").await;
    browser.find_text(".credentials", defaults::CLIENT_ID).await;
    browser.fill("#displayName", "Security alerts").await;
    browser.fill("#channel", "#Sec Alerts").await;
    browser.find_text("#channel-error", "did you mean #sec-alerts?").await;
    browser.fill("#channel", "#sec-alerts").await;
    browser.click_text("button[type=submit]", "Save and continue").await;

    // Step 6: the exact command to type, and the live check turning from
    // waiting to ✓ when the bot joins (no reload).
    browser.find_text("h2", "6. Invite the bot").await;
    browser.wait_for_value("#invite-command", "/invite @herald").await;
    browser.find_text("strong", "#sec-alerts").await;
    browser.find_text(".channel-status.waiting", "Waiting for @herald to join #sec-alerts").await;
    slack.join(defaults::SEC_ALERTS, defaults::BOT_USER_ID);
    browser.find_text(".channel-status.ready", "✓ @herald is in #sec-alerts").await;

    // Step 7: the welcome message, then finish; the destination is listed, active.
    next(&browser, "7. Finish").await;
    browser.click_text("button", "Send Welcome Message").await;
    browser.find_text(".welcome", "Sent: the welcome message is in #sec-alerts.").await;
    let welcome = slack.messages_in(defaults::SEC_ALERTS);
    assert_eq!(welcome.len(), 1);
    assert!(welcome[0].text.as_deref().unwrap().contains("Alerts for *Security alerts* will arrive in this channel"), "{welcome:?}");
    browser.click_text("button", "Finish Setup").await;
    browser.wait_for_path("/destinations").await;
    browser.find_text("tr[data-destination='Security alerts'] td", "Active").await;
    browser.find_text("tr[data-destination='Security alerts'] td", "#sec-alerts").await;
    browser.click_text("tr[data-destination='Security alerts'] summary", "More").await;
    browser.click_text("tr[data-destination='Security alerts'] button", "Send welcome message").await;
    browser.find_text(".outcome[role=status]", "Security alerts: Sent: the welcome message is in #sec-alerts.").await;
    assert_eq!(slack.messages_in(defaults::SEC_ALERTS).len(), 2, "the list's welcome message went out too");

    // Step 8: another destination starts at the form: the Slack app's
    // credentials are there already.
    browser.click_text("a.button", "Create New").await;
    browser.click_text("button", "Set up a Slack Bot").await;
    browser.find_text("h2", "5. Destination details").await;
    browser.find_text(".credentials", defaults::CLIENT_ID).await;
    assert!(browser.client.find(fantoccini::Locator::Css("#clientSecret")).await.is_err(), "only name and channel are asked");
    browser.click_text(".credentials button", "Change credentials").await;
    browser.wait_for_value("#clientId", defaults::CLIENT_ID).await;
    for secret in ["#clientSecret", "#signingSecret", "#botToken"] {
        let field = browser.client.find(fantoccini::Locator::Css(secret)).await.unwrap();
        let placeholder = field.attr("placeholder").await.unwrap().unwrap_or_default();
        assert!(placeholder.starts_with("Saved (••••"), "{secret}: {placeholder:?}");
    }
    browser.fill("#displayName", "Incidents").await;
    browser.fill("#channel", "C0GENERAL1").await;
    browser.click_text("button[type=submit]", "Save and continue").await;
    browser.find_text("h2", "6. Invite the bot").await;
    next(&browser, "7. Finish").await;
    browser.click_text("button", "Finish Setup").await;
    browser.find_text("tr[data-destination='Incidents'] td", "Active").await;

    let admin = herald.sign_in_as_admin().await;
    let list: Value = admin.get("/api/destinations").await.json().await.unwrap();
    assert_eq!(list["destinations"].as_array().unwrap().len(), 2);
    browser.close().await;
}

/// What the Copy button did: the clipboard holds the manifest, or (where
/// the browser refuses) the whole manifest is selected for Ctrl+C.
async fn assert_copied(browser: &Browser, status: &str, manifest: &str) {
    let read = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             navigator.clipboard.readText().then(t => done({text: t}), e => done({error: String(e)}));",
            vec![],
        )
        .await
        .unwrap();
    if status == "Copied" {
        if let Some(text) = read.get("text").and_then(Value::as_str) {
            assert_eq!(text, manifest, "the clipboard holds the manifest");
            return;
        }
        // The browser wrote the clipboard but will not let a page read it.
        assert!(read.get("error").is_some(), "{read}");
        return;
    }
    assert!(status.contains("the text is selected"), "{status}");
    let selected = browser
        .client
        .execute("const t = document.getElementById('manifest-text'); return t.selectionEnd - t.selectionStart;", vec![])
        .await
        .unwrap();
    assert_eq!(selected.as_u64(), Some(manifest.len() as u64), "the whole manifest is selected");
}

/// The manifest text once it contains `needle`.
async fn poll_manifest(browser: &Browser, needle: &str) -> String {
    herald_tests::poll::until(&format!("the manifest to contain {needle:?}"), || async {
        let text = browser.value("#manifest-text").await;
        if text.contains(needle) { Ok(text) } else { Err(text) }
    })
    .await
}

#[tokio::test]
async fn a_reload_in_the_middle_of_the_wizard_resumes_at_the_same_step_with_the_same_values() {
    let (_slack, herald, browser) = start().await;
    begin(&browser).await;
    next(&browser, "3. Configure the app").await;
    browser.reload().await;
    browser.find_text("h2", "3. Configure the app").await;

    next(&browser, "4. Install the app").await;
    next(&browser, "5. Destination details").await;
    browser.fill("#displayName", "Half done").await;
    browser.fill("#channel", "#sec-alerts").await;
    // Leaving the field saves the draft, as moving on to the next field does.
    browser.client.find(fantoccini::Locator::Css("#clientId")).await.unwrap().click().await.unwrap();
    let admin = herald.sign_in_as_admin().await;
    herald_tests::poll::until("the draft to be saved", || async {
        let list: Value = admin.get("/api/destinations").await.json().await.unwrap();
        let channel = list["destinations"][0]["channel"].as_str().unwrap_or_default().to_owned();
        if channel == "#sec-alerts" { Ok(()) } else { Err(channel) }
    })
    .await;
    browser.reload().await;
    browser.find_text("h2", "5. Destination details").await;
    browser.wait_for_value("#displayName", "Half done").await;
    browser.wait_for_value("#channel", "#sec-alerts").await;

    // Ticking a box saves too; Back and Next keep what was typed.
    browser.click_text("#severities label", "Info").await;
    herald_tests::poll::until("the ticked severity to be saved", || async {
        let list: Value = admin.get("/api/destinations").await.json().await.unwrap();
        let severities = list["destinations"][0]["severities"].clone();
        if severities.as_array().unwrap().contains(&Value::from("INFO")) { Ok(()) } else { Err(severities) }
    })
    .await;
    browser.click_text(".wizard-nav button", "Back").await;
    browser.find_text("h2", "4. Install the app").await;
    next(&browser, "5. Destination details").await;
    browser.wait_for_value("#displayName", "Half done").await;
    let info = browser.client.find(fantoccini::Locator::Css("#severities input[name=Info]")).await.unwrap();
    assert_eq!(info.prop("checked").await.unwrap().as_deref(), Some("true"));

    // Leaving altogether: the list offers to continue where it stopped.
    browser.goto(&herald.url("/destinations")).await;
    browser.click_text("tr[data-destination='Half done'] a", "Continue setup").await;
    browser.find_text("h2", "5. Destination details").await;

    // Another click on Set up a Slack Bot makes one new draft, not one a
    // click; Cancel setup deletes it again.
    for _ in 0..2 {
        browser.goto(&herald.url("/destinations/new")).await;
        browser.click_text("button", "Set up a Slack Bot").await;
        browser.find_text("h2", "2. Create the Slack app from a manifest").await;
    }
    let count = || async {
        let list: Value = admin.get("/api/destinations").await.json().await.unwrap();
        list["destinations"].as_array().unwrap().len()
    };
    assert_eq!(count().await, 2, "Half done and one fresh draft");
    browser.click_text(".cancel-setup button", "Cancel setup").await;
    browser.click_text(".cancel-setup button", "Delete draft").await;
    browser.wait_for_path("/destinations").await;
    assert_eq!(count().await, 1, "the fresh draft is gone");
    browser.close().await;
}

#[tokio::test]
async fn behind_a_firewall_the_wizard_takes_the_socket_mode_path_and_the_destination_connects() {
    // Herald at an internal name, plain http, that the browser reaches
    // and Slack could not.
    let slack = FakeSlack::start().await;
    let port = herald_tests::browser::free_port();
    let internal = format!("http://herald.internal:{port}");
    let _herald = Herald::start_with(&slack, |s| {
        s.bind = format!("127.0.0.1:{port}").parse().unwrap();
        s.public_url = Some(internal.parse().unwrap());
    })
    .await;
    let browser = Browser::start_resolving("herald.internal").await;
    browser.goto(&format!("{internal}/sign-in")).await;
    browser.fill("input[name=email]", ADMIN_EMAIL).await;
    browser.fill("input[name=password]", ADMIN_PASSWORD).await;
    browser.click_text("button[type=submit]", "Sign in").await;
    browser.wait_for_path("/destinations").await;
    begin(&browser).await;

    // The question, answered for a plain-http public URL: Socket Mode.
    browser.find_text("fieldset.reach legend", &format!("Can Slack reach Herald at {internal}/ over https?")).await;
    let manifest = poll_manifest(&browser, "socket_mode_enabled: true").await;
    assert!(!manifest.contains("request_url"), "Slack is given nothing to call: {manifest}");
    let answers = browser.client.find_all(fantoccini::Locator::Css("fieldset.reach input")).await.unwrap();
    assert_eq!(answers[1].prop("checked").await.unwrap().as_deref(), Some("true"), "No is suggested");
    assert!(browser.client.find(fantoccini::Locator::Css(".notice.error")).await.is_err(), "no https warning in Socket Mode");
    // Changing the answer changes the manifest, and back.
    browser.click_text("fieldset.reach label", "Yes").await;
    poll_manifest(&browser, &format!("request_url: \"{internal}/slack/events\"")).await;
    browser.click_text("fieldset.reach label", "No — Herald is behind a firewall").await;
    poll_manifest(&browser, "socket_mode_enabled: true").await;
    browser.set_viewport(360, 800).await;
    browser.assert_no_sideways_scroll("step 2, Socket Mode").await;
    browser.screenshot("socket-mode-step-2-phone").await;
    browser.set_viewport(1280, 900).await;
    browser.screenshot("socket-mode-step-2-desktop").await;

    // Step 3 says how to make the app-level token; a reload remembers the answer.
    next(&browser, "3. Configure the app").await;
    browser.reload().await;
    browser.find_text(".socket-mode h3", "Create the app-level token (Socket Mode)").await;
    browser.find_text(".socket-mode li", "connections:write").await;
    browser.screenshot("socket-mode-step-3-desktop").await;

    // Step 4 asks for the app-level token instead of the Signing Secret;
    // the app is installed from Slack's page here (Add to Slack needs the
    // browser to reach Herald's public URL).
    next(&browser, "4. Install the app").await;
    browser.find_text("label[for=install-app-token]", "App-Level Token").await;
    assert!(browser.client.find(fantoccini::Locator::Css("#install-signing-secret")).await.is_err());
    next(&browser, "5. Destination details").await;
    browser.fill("#displayName", "Behind the firewall").await;
    browser.fill("#channel", "#general").await;
    browser.fill("#clientId", defaults::CLIENT_ID).await;
    browser.fill("#clientSecret", defaults::CLIENT_SECRET).await;
    browser.fill("#botToken", defaults::BOT_TOKEN).await;
    browser.fill("#appToken", "xoxb-not-this-one").await;
    browser.find_text("#appToken-error", "This is the bot token (xoxb-)").await;
    browser.fill("#appToken", defaults::APP_TOKEN).await;
    browser.click_text("button[type=submit]", "Save and continue").await;

    // Invite (the bot is in #general already), welcome, finish: listed, connected.
    browser.find_text("h2", "6. Invite the bot").await;
    browser.find_text(".channel-status.ready", "✓ @herald is in #general").await;
    next(&browser, "7. Finish").await;
    browser.click_text("button", "Send Welcome Message").await;
    browser.find_text(".welcome", "Sent: the welcome message is in #general.").await;
    browser.click_text("button", "Finish Setup").await;
    browser.wait_for_path("/destinations").await;
    browser.find_text("tr[data-destination='Behind the firewall'] .socket-mode", "Socket Mode: connected").await;
    assert_eq!(slack.socket_connections(), 1);
    browser.screenshot("socket-mode-list-desktop").await;
    browser.set_viewport(360, 800).await;
    browser.assert_no_sideways_scroll("the destinations list").await;
    browser.screenshot("socket-mode-list-phone").await;
    browser.set_viewport(1280, 900).await;

    // Back to https later: the edit form says what comes first.
    browser.click_text("tr[data-destination='Behind the firewall'] a", "Edit").await;
    browser.find_text(".credentials", "App-Level Token for Socket Mode").await;
    browser.click_text(".credentials button", "Change credentials").await;
    browser.click_text(".leave-socket-mode button", "Stop using Socket Mode").await;
    browser.find_text("#signingSecret-error", "Save the app's Signing Secret first").await;
    browser.fill("#signingSecret", defaults::SIGNING_SECRET).await;
    browser.click_text("button[type=submit]", "Save").await;
    browser.wait_for_path("/destinations").await;
    browser.click_text("tr[data-destination='Behind the firewall'] a", "Edit").await;
    browser.click_text(".credentials button", "Change credentials").await;
    browser.click_text(".leave-socket-mode button", "Stop using Socket Mode").await;
    browser.find_text("[role=status]", "Socket Mode is off for this app").await;
    browser.screenshot("socket-mode-left-desktop").await;
    herald_tests::poll::until("the connection to close", || async {
        let open = slack.socket_connections();
        if open == 0 { Ok(()) } else { Err(open) }
    })
    .await;
    browser.close().await;
}
