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
            Cause::Delivery,
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
        Cause::Delivery,
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
    raise(store, outbox, Cause::Delivery, "Herald's Slack app is disconnected".to_owned(), format!("{problem} {affected}"), |d| {
        d.settings.client_id == client_id
    })
    .await
}

/// Socket Mode is down for the app: Slack refused its app-level token, or
/// the connection has stayed closed too long. Alerts still reach Slack
/// (that is the bot token), but clicks and Slack's events do not reach
/// Herald. Every replica that notices raises the same alert, which folds
/// into one while it is open.
pub async fn socket_mode_down(store: &dyn Store, outbox: &Outbox, client_id: &str, problem: &str) -> Result<(), StoreError> {
    tracing::warn!(slack.client_id = client_id, problem, "Socket Mode is down for the Slack app");
    let description = format!(
        "Herald's connection to Slack (Socket Mode) is down: buttons, modals and Slack's events do not reach Herald until it is back. {problem}"
    );
    let cause = Cause::SocketMode { client_id };
    raise(store, outbox, cause, "Herald does not hear from Slack".to_owned(), description, |_| false).await
}

/// What a System Error is about.
enum Cause<'a> {
    Delivery,
    SocketMode { client_id: &'a str },
}

async fn raise(
    store: &dyn Store,
    outbox: &Outbox,
    cause: Cause<'_>,
    title: String,
    description: String,
    excluded: impl Fn(&DestinationRecord) -> bool,
) -> Result<(), StoreError> {
    let destinations: Vec<DestinationRecord> = store.list_destinations().await?.into_iter().filter(|d| !excluded(d)).collect();
    let routed = routing::route(Severity::Critical, AlertType::SystemError, &[], None, &destinations).unwrap_or_default();
    let now = now_ms();
    let (detection, runbook, dedup_key, fold_since) = match cause {
        Cause::Delivery => (
            "herald.delivery",
            "Open the destination in Herald: it says what is wrong and how to fix it. Then use Re-send on the alerts that failed.",
            None,
            None,
        ),
        Cause::SocketMode { client_id } => (
            "herald.socket_mode",
            "Open Destinations in Herald: it says why the connection is down. A refused app-level token needs a new one (Basic Information → App-Level Tokens, scope connections:write), saved in the destination.",
            Some(format!("herald.socket_mode:{client_id}")),
            Some(now - 24 * 3_600_000),
        ),
    };
    let alert = AlertRecord {
        id: new_id(),
        content: AlertContent {
            title,
            severity: Severity::Critical,
            alert_type: AlertType::SystemError,
            detection_id: Some(detection.to_owned()),
            log_types: Vec::new(),
            tags: vec!["herald".to_owned()],
            description: Some(description),
            runbook: Some(runbook.to_owned()),
            reference: None,
            links: Vec::new(),
        },
        status: AlertStatus::initial(Severity::Critical),
        alert_context: None,
        created_at: now,
        received_at: now,
        assignee: None,
        // Herald's own problems are raised once each already; one several
        // replicas notice folds into one.
        dedup_key,
        event_count: 1,
        last_seen_at: now,
        earlier_events: Vec::new(),
    };
    tracing::info!(alert.id = %alert.id, destinations = routed.len(), "raised a system error alert");
    store.insert_alerts(&[NewAlertRecord { alert, destination_ids: routed, fold_since }], now).await?;
    outbox.wake();
    Ok(())
}
