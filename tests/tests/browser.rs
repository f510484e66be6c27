//! The real wasm app in a real headless Chromium, served by the real server.

use herald_tests::{Browser, FakeSlack, Herald};

#[tokio::test]
async fn the_app_loads_shows_the_destinations_page_and_create_new_leads_to_the_choice_of_kind() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;

    browser.goto(&herald.url("/")).await;
    browser.wait_for_path("/destinations").await;
    browser.find_text("h1", "Alert Destinations").await;
    browser.find_text(".empty", "No alert destinations yet.").await;

    browser.click_text("a.button", "Create New").await;
    browser.wait_for_path("/destinations/new").await;
    browser.find_text("h1", "Create New Destination").await;
    browser.find_text(".choice h2", "Slack Bot").await;

    browser.close().await;
}

#[tokio::test]
async fn a_deep_link_opens_its_page_directly() {
    let slack = FakeSlack::start().await;
    let herald = Herald::start(&slack).await;
    let browser = Browser::start().await;

    browser.goto(&herald.url("/destinations/new")).await;
    browser.find_text("h1", "Create New Destination").await;
    browser.click_text("nav a", "Alert Destinations").await;
    browser.wait_for_path("/destinations").await;
    browser.find_text("h1", "Alert Destinations").await;

    browser.goto(&herald.url("/no/such/page")).await;
    browser.find_text("h1", "Page not found").await;

    browser.close().await;
}

#[tokio::test]
async fn when_the_server_is_unreachable_the_page_says_so_and_try_again_recovers() {
    let slack = FakeSlack::start().await;
    let mut herald = Herald::start(&slack).await;
    let browser = Browser::start().await;
    browser.goto(&herald.url("/destinations/new")).await;
    browser.find_text("h1", "Create New Destination").await;

    herald.pause().await;
    browser.click_text("a.button", "Cancel").await;
    browser.find_text("[role=alert]", "cannot be reached").await;

    herald.resume().await;
    browser.click_text("[role=alert] button", "Try again").await;
    browser.find_text(".empty", "No alert destinations yet.").await;

    browser.close().await;
}
