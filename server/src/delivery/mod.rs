//! Alert delivery: ingest (check, route, store with the outbox), the worker
//! that sends due deliveries to Slack within its limits, the alert message,
//! and Herald's own problems raised as system-error alerts.

pub mod ingest;
pub mod message;
pub mod metrics;
pub mod pacing;
pub mod routing;
pub mod system;
pub mod worker;

use std::sync::Arc;

use tokio::sync::Notify;

/// What the HTTP side shares with the worker.
#[derive(Default)]
pub struct Delivery {
    /// Woken when deliveries were queued, so new alerts go out at once.
    pub queued: Notify,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

impl Delivery {
    pub fn wake(&self) {
        self.queued.notify_one();
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
