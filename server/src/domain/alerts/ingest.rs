//! Alerts coming in (`POST /api/alerts`): check the body, route each alert, and store alerts
//! and deliveries in one transaction before answering, so an accepted alert
//! is never lost.

use herald_model::alert::{Accepted, AlertStatus, IngestAnswer, IngestBody, NewAlert, parse_ingest};
use herald_model::api::FieldError;
use serde_json::Value;
use std::sync::atomic::Ordering::Relaxed;

use super::routing;
use crate::domain::error::Error;
use crate::domain::outbox::Outbox;
use crate::domain::time::now_ms;
use crate::store::{AlertRecord, NewAlertRecord, Store, new_id};

/// Checks and stores the alerts of one request; the answer says, for each,
/// whether it was new, folded into an open alert, or seen before.
pub async fn ingest(store: &dyn Store, outbox: &Outbox, body: &Value) -> Result<IngestAnswer, Error> {
    let destinations = store.list_destinations().await?;
    // Unknown destinations and impossible times are named along with every
    // other problem.
    let mut unknown = unknown_destinations(body, &destinations);
    unknown.extend(impossible_times(body));
    let (alerts, batch) = match parse_ingest(body) {
        Ok(_) if !unknown.is_empty() => return Err(Error::invalid(unknown)),
        Ok(IngestBody::One(alert)) => (vec![*alert], false),
        Ok(IngestBody::Batch(alerts)) => (alerts, true),
        Err(mut errors) => {
            errors.extend(unknown);
            // By item, each item's fields in the order they were checked.
            errors.sort_by_key(|e| item_index(&e.field));
            return Err(Error::invalid(errors));
        }
    };
    let now = now_ms();
    let mut records = Vec::with_capacity(alerts.len());
    let mut errors = Vec::new();
    for (i, alert) in alerts.into_iter().enumerate() {
        let field = |name: &str| if batch { format!("alerts[{i}].{name}") } else { name.to_owned() };
        // Checked by `impossible_times` already.
        let created_at =
            alert.created_at.as_deref().and_then(|at| at.parse::<jiff::Timestamp>().ok()).map_or(now, |at| at.as_millisecond());
        match routing::route_new(&alert, &destinations) {
            Ok(destination_ids) => {
                let fold_since = fold_window(&destination_ids, &destinations).map(|window| now - window);
                records.push(NewAlertRecord { alert: record(alert, created_at, now), destination_ids, fold_since });
            }
            Err(unknown) => errors.push(FieldError::new(
                field("destinations"),
                format!("No destination has the ID {}: GET /api/destinations lists them.", unknown.join(", ")),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let stored = outbox.store_alerts(store, &records, now).await?;
    let created = stored.iter().filter(|s| s.created).count();
    let folded = stored.iter().filter(|s| s.folded).count();
    let metrics = &outbox.metrics;
    metrics.alerts_ingested.fetch_add(created as u64, Relaxed);
    metrics.alerts_folded.fetch_add(folded as u64, Relaxed);
    metrics.alerts_repeated.fetch_add((stored.len() - created - folded) as u64, Relaxed);
    let alerts = stored
        .into_iter()
        .map(|s| Accepted { alert_id: s.id, created: s.created, deliveries: s.deliveries, folded: s.folded, resolved: false })
        .collect();
    Ok(IngestAnswer { alerts })
}

/// `destinations` IDs no destination has, per alert of the body as sent.
fn unknown_destinations(body: &Value, destinations: &[crate::store::DestinationRecord]) -> Vec<FieldError> {
    let check = |alert: &Value, field: String| -> Option<FieldError> {
        let named = alert.get("destinations")?.as_array()?;
        let unknown: Vec<&str> = named.iter().filter_map(Value::as_str).filter(|id| !destinations.iter().any(|d| d.id == *id)).collect();
        (!unknown.is_empty())
            .then(|| FieldError::new(field, format!("No destination has the ID {}: GET /api/destinations lists them.", unknown.join(", "))))
    };
    match body.get("alerts").and_then(Value::as_array) {
        Some(items) => items.iter().enumerate().filter_map(|(i, a)| check(a, format!("alerts[{i}].destinations"))).collect(),
        None => check(body, "destinations".to_owned()).into_iter().collect(),
    }
}

/// `createdAt` values shaped like RFC 3339 that are no time (month 13).
fn impossible_times(body: &Value) -> Vec<FieldError> {
    let check = |alert: &Value, field: String| -> Option<FieldError> {
        let at = alert.get("createdAt")?.as_str()?;
        let shaped = herald_model::alert::looks_like_rfc3339(at);
        (shaped && at.parse::<jiff::Timestamp>().is_err())
            .then(|| FieldError::new(field, format!("createdAt {at:?} is not a real time: use RFC 3339 such as 2026-11-29T08:00:00Z.")))
    };
    match body.get("alerts").and_then(Value::as_array) {
        Some(items) => items.iter().enumerate().filter_map(|(i, a)| check(a, format!("alerts[{i}].createdAt"))).collect(),
        None => check(body, "createdAt".to_owned()).into_iter().collect(),
    }
}

/// How far back (ms) an event may fold into an open alert with its key:
/// the shortest window of the destinations it goes to, `None` when one of
/// them has folding off. An alert that goes nowhere folds within the
/// default window, so the list stays readable too.
fn fold_window(routed: &[String], destinations: &[crate::store::DestinationRecord]) -> Option<i64> {
    let minutes = destinations
        .iter()
        .filter(|d| routed.contains(&d.id))
        .map(|d| d.dedup_window)
        .min()
        .unwrap_or(herald_model::destination::DEFAULT_DEDUP_WINDOW);
    (minutes > 0).then(|| i64::from(minutes) * 60_000)
}

/// The key events fold by: the one sent, else the detection and the title.
fn dedup_key(alert: &NewAlert) -> String {
    match &alert.dedup_key {
        Some(key) => format!("key:{key}"),
        None => format!("detection:{}\u{1f}{}", alert.content.detection_id.as_deref().unwrap_or_default(), alert.content.title),
    }
}

/// `alerts[12].title` → 12; fields of a single alert → 0.
fn item_index(field: &str) -> usize {
    field.strip_prefix("alerts[").and_then(|rest| rest.split(']').next()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn record(alert: NewAlert, created_at: i64, now: i64) -> AlertRecord {
    let dedup_key = Some(dedup_key(&alert));
    AlertRecord {
        id: alert.alert_id.unwrap_or_else(new_id),
        status: AlertStatus::initial(alert.content.severity),
        content: alert.content,
        alert_context: alert.alert_context,
        created_at,
        received_at: now,
        assignee: None,
        dedup_key,
        event_count: 1,
        last_seen_at: now,
        earlier_events: Vec::new(),
    }
}
