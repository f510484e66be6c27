//! The outbox's doorbell: what queues deliveries (ingest, triage, a new
//! token) tells the worker, and the counters both sides keep.

use std::sync::Arc;

use tokio::sync::Notify;

/// How old the queue depth `/metrics` shows may be.
const DEPTH_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// What queues deliveries shares with the worker that sends them.
#[derive(Default)]
pub struct Outbox {
    /// Woken when deliveries were queued, so new alerts go out at once.
    pub queued: Notify,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// The outbox's depth as last counted, and when: a scrape every few
    /// seconds costs no count over the deliveries.
    depth: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
    /// This server holds the delivery lease: it is the one sending.
    delivering: std::sync::atomic::AtomicBool,
}

impl Outbox {
    pub fn set_delivering(&self, delivering: bool) {
        self.delivering.store(delivering, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn delivering(&self) -> bool {
        self.delivering.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn wake(&self) {
        self.queued.notify_one();
    }

    /// Deliveries waiting, counted at most every [`DEPTH_EVERY`].
    pub async fn queue_depth(&self, store: &dyn crate::store::Store) -> Result<u64, crate::store::StoreError> {
        if let Some((at, depth)) = *self.depth.lock().expect("the depth's lock")
            && at.elapsed() < DEPTH_EVERY
        {
            return Ok(depth);
        }
        let depth = store.queue_depth().await?;
        *self.depth.lock().expect("the depth's lock") = Some((std::time::Instant::now(), depth));
        Ok(depth)
    }
}
