//! The test harness: start the real Herald server on a loopback port with a
//! fresh SQLite database, a fake Slack, and a real headless Chromium driving
//! the real wasm app. Tests live in `tests/tests/`.

pub mod browser;
pub mod fake_slack;
pub mod herald;
pub mod poll;

pub use browser::Browser;
pub use fake_slack::FakeSlack;
pub use herald::{Herald, Session};

/// Sends Herald's logs to the test's captured output, shown when it fails.
pub fn init_logging() {
    use tracing_subscriber::filter::Targets;
    let filter: Targets = std::env::var("HERALD_TEST_LOG")
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| "info".parse().unwrap());
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_test_writer())
        .with(filter)
        .try_init();
}
