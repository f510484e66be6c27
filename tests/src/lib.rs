//! The test harness: start the real Herald server on a loopback port with a
//! fresh database (SQLite, or PostgreSQL: see `database`), a fake Slack, and a real headless Chromium driving
//! the real wasm app. Tests live in `tests/tests/`.

pub mod alertmanager;
pub mod browser;
pub mod database;
pub mod fake_slack;
pub mod fixtures;
pub mod herald;
pub mod poll;
pub mod replicas;
pub mod scene;

pub use browser::Browser;
pub use fake_slack::FakeSlack;
pub use herald::{Herald, Session};

use std::sync::{Mutex, OnceLock};

/// Every log line Herald wrote in this test process, at debug level and
/// above, so tests can check that no secret ever reaches a log.
static LOG: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

/// The log so far (all tests in this process).
pub fn logs() -> String {
    String::from_utf8_lossy(&LOG.get_or_init(Default::default).lock().unwrap()).into_owned()
}

struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.get_or_init(Default::default).lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends Herald's logs to the test's captured output (shown when it
/// fails) and to [`logs`].
pub fn init_logging() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let shown: Targets = std::env::var("HERALD_TEST_LOG").ok().and_then(|f| f.parse().ok()).unwrap_or_else(|| "info".parse().unwrap());
    let captured: Targets = "debug".parse().unwrap();
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::Layer::with_filter(tracing_subscriber::fmt::layer().with_test_writer(), shown))
        .with(tracing_subscriber::Layer::with_filter(
            tracing_subscriber::fmt::layer().with_ansi(false).with_writer(|| CaptureWriter),
            captured,
        ))
        .try_init();
}
