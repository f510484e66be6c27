//! Waiting without sleeping blindly: ask again until the answer comes or the
//! deadline passes, then fail with what was last seen.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// Long enough for a cold headless Chromium on a busy 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(20);
const INTERVAL: Duration = Duration::from_millis(50);

/// Calls `check` until it returns `Ok`; panics after [`DEADLINE`] with
/// `what` and the last error.
pub async fn until<T, E: Debug, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    until_within(DEADLINE, what, check).await
}

/// The same with a deadline of its own, for what takes long by design
/// (a backlog drained at Slack's pace).
pub async fn until_within<T, E: Debug, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(err) if Instant::now() >= deadline => {
                panic!("gave up after {limit:?} waiting for {what}; last seen: {err:?}")
            }
            Err(_) => tokio::time::sleep(INTERVAL).await,
        }
    }
}
