//! Herald's own problems as alerts: a destination that cannot be delivered
//! to, an app whose token was revoked or that was uninstalled. Each is a
//! SYSTEM_ERROR alert (always CRITICAL), raised once per cause — only when
//! the cause is new — and routed to the destinations that take System
//! Errors, never to one the problem itself stops.

use herald_model::alert::{AlertContent, AlertStatus, AlertType};
use herald_model::destination::Severity;

use super::alerts::routing;
use super::outbox::Outbox;
use super::time::now_ms;
use crate::store::{AlertRecord, DestinationRecord, NewAlertRecord, Store, StoreError, new_id};

/// Deliveries to `destination` fail for good: record why, and raise it the
/// first time. `whole_app`: the app's token is the trouble, so no
/// destination of that app can carry the news either.
pub async fn destination_failing(
    store: &dyn Store,
    outbox: &Outbox,
    destination: &DestinationRecord,
    problem: &str,
    whole_app: bool,
) -> Result<(), StoreError> {
    let client_id = destination.settings.client_id.clone();
    if !whole_app {
        if !store.set_delivery_problem(&destination.id, Some(problem)).await? {
            return Ok(());
        }
        tracing::warn!(destination.id = %destination.id, problem, "deliveries to the destination fail");
        let name = &destination.settings.display_name;
        let failing = destination.id.clone();
        return raise(
            store,
            outbox,
            format!("Herald cannot deliver alerts to {name}"),
            format!("Alerts for the destination “{name}” are not reaching Slack. {problem}"),
            |d| d.id == failing,
        )
        .await;
    }
    // The app's token: every destination of the app has the problem, and
    // it is one cause, raised once (not at all when Slack's own news of it
    // raised it already).
    let siblings: Vec<DestinationRecord> =
        store.list_destinations().await?.into_iter().filter(|d| d.settings.client_id == client_id).collect();
    // The first destination (oldest) decides whether the cause is news: one
    // row changes once, however many deliveries fail at the same moment.
    let mut news = false;
    for (i, sibling) in siblings.iter().enumerate() {
        let changed = store.set_delivery_problem(&sibling.id, Some(problem)).await?;
        news |= i == 0 && changed;
    }
    let known = store.slack_app(&client_id).await?.is_some_and(|app| app.problem.is_some());
    if !news || known {
        return Ok(());
    }
    tracing::warn!(slack.client_id = %client_id, problem, "deliveries through the Slack app fail");
    let names: Vec<&str> = siblings.iter().map(|d| d.settings.display_name.as_str()).collect();
    raise(
        store,
        outbox,
        format!("Herald cannot deliver alerts to {}", names.join(", ")),
        format!("Alerts for {} are not reaching Slack. {problem}", names.join(", ")),
        |d| d.settings.client_id == client_id,
    )
    .await
}

/// Slack told Herald the app is gone or its tokens are revoked.
pub async fn app_disconnected(store: &dyn Store, outbox: &Outbox, client_id: &str, problem: &str) -> Result<(), StoreError> {
    tracing::warn!(slack.client_id = client_id, problem, "the Slack app is disconnected");
    let names: Vec<String> = store
        .list_destinations()
        .await?
        .into_iter()
        .filter(|d| d.settings.client_id == client_id)
        .map(|d| d.settings.display_name)
        .collect();
    let affected = if names.is_empty() { "No destination uses it yet.".to_owned() } else { format!("Affected: {}.", names.join(", ")) };
    raise(store, outbox, "Herald's Slack app is disconnected".to_owned(), format!("{problem} {affected}"), |d| {
        d.settings.client_id == client_id
    })
    .await
}

async fn raise(
    store: &dyn Store,
    outbox: &Outbox,
    title: String,
    description: String,
    excluded: impl Fn(&DestinationRecord) -> bool,
) -> Result<(), StoreError> {
    let destinations: Vec<DestinationRecord> = store.list_destinations().await?.into_iter().filter(|d| !excluded(d)).collect();
    let routed = routing::route(Severity::Critical, AlertType::SystemError, &[], None, &destinations).unwrap_or_default();
    let now = now_ms();
    let alert = AlertRecord {
        id: new_id(),
        content: AlertContent {
            title,
            severity: Severity::Critical,
            alert_type: AlertType::SystemError,
            detection_id: Some("herald.delivery".to_owned()),
            log_types: Vec::new(),
            tags: vec!["herald".to_owned()],
            description: Some(description),
            runbook: Some(
                "Open the destination in Herald: it says what is wrong and how to fix it. Then use Re-send on the alerts that failed."
                    .to_owned(),
            ),
            reference: None,
        },
        status: AlertStatus::initial(Severity::Critical),
        alert_context: None,
        created_at: now,
        received_at: now,
        assignee: None,
        // Herald's own problems are raised once each already.
        dedup_key: None,
        event_count: 1,
        last_seen_at: now,
        earlier_events: Vec::new(),
    };
    tracing::info!(alert.id = %alert.id, destinations = routed.len(), "raised a system error alert");
    store.insert_alerts(&[NewAlertRecord { alert, destination_ids: routed, fold_since: None }], now).await?;
    outbox.wake();
    Ok(())
}
