//! `HERALD_RETENTION`: a background task deletes alerts whose last change
//! is older than the setting, in small batches (so ingest never waits long
//! behind it), and forgets expired sessions, install states and Slack
//! event IDs. It runs at start and then every hour.

use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3_600);
/// Alerts deleted per transaction.
const BATCH: u32 = 500;

/// `keep`: how long an alert stays after its last change (`None`: for ever).
pub async fn run(store: std::sync::Arc<dyn Store>, keep: Option<Duration>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        prune(&*store, keep).await;
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn prune(store: &dyn Store, keep: Option<Duration>) {
    let now = jiff::Timestamp::now();
    if let Err(error) = store.prune_bookkeeping(now.as_second()).await {
        tracing::warn!(%error, "could not forget expired sessions and install states; trying again in an hour");
    }
    let Some(keep) = keep else { return };
    let cutoff = now.as_millisecond() - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX / 2);
    let mut deleted = 0;
    loop {
        match store.prune_alerts(cutoff, BATCH).await {
            Ok(n) => {
                deleted += n;
                if n < u64::from(BATCH) {
                    break;
                }
                tokio::task::yield_now().await;
            }
            Err(error) => {
                tracing::warn!(%error, "could not delete old alerts; trying again in an hour");
                break;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(alerts = deleted, retention = ?keep, "deleted alerts older than HERALD_RETENTION");
    }
}
