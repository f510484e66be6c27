//! Re-sending an alert: its messages queued again, as new, for a delivery
//! that failed once its cause is fixed, or to post it again.

use crate::domain::error::Error;
use crate::domain::outbox::Outbox;
use crate::domain::time::now_ms;
use crate::store::{AlertRecord, Store};

/// Queues the alert's messages (all, or to one destination) again; one
/// being sent right now is left to finish.
pub async fn resend(store: &dyn Store, outbox: &Outbox, alert_id: &str, destination_id: Option<&str>) -> Result<AlertRecord, Error> {
    let alert = store.alert(alert_id).await?.ok_or_else(|| Error::NotFound("There is no alert with this ID.".to_owned()))?;
    let queued = store.requeue(alert_id, destination_id, now_ms()).await?;
    if queued == 0 {
        return Err(Error::NothingToResend);
    }
    tracing::info!(alert.id = %alert_id, deliveries = queued, "re-sending");
    outbox.wake();
    Ok(alert)
}
