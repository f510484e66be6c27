//! Alerts from the tools teams already run, as their webhooks send them:
//! Prometheus Alertmanager (`POST /api/ingest/alertmanager`, version 4)
//! and Grafana Alerting (`POST /api/ingest/grafana`, the same alert list
//! with Grafana's links and values).
//!
//! Each alert of a notification is one Herald alert, identified by its
//! fingerprint and `startsAt`: the same firing sent again every
//! `repeat_interval` is a repeat and sends nothing; a new firing after a
//! resolve is a new alert. `status: resolved` resolves the alert from the
//! source: its messages are updated in place and each thread says so,
//! unless an analyst closed it already (then only the history notes it).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use herald_model::alert::{
    Accepted, Activity, ActivityAction, ActivitySource, AlertContent, AlertStatus, AlertType, IngestAnswer, Link, MAX_BATCH,
    MAX_CONTEXT_BYTES, MAX_REFERENCE_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, web_link,
};
use herald_model::api::FieldError;
use herald_model::blocks::cut;
use herald_model::destination::Severity;
use herald_model::text::without_nul;
use serde::Deserialize;
use serde_json::{Value, json};

use super::routing;
use crate::domain::error::Error;
use crate::domain::outbox::Outbox;
use crate::domain::time::now_ms;
use crate::store::{AlertRecord, NewAlertRecord, Store, TriageChange};

/// Which tool sent the notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Alertmanager,
    Grafana,
}

impl Source {
    /// As the history and the threads name it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Alertmanager => "Alertmanager",
            Source::Grafana => "Grafana",
        }
    }

    /// The `source` label of the metrics.
    pub fn label(self) -> &'static str {
        match self {
            Source::Alertmanager => "alertmanager",
            Source::Grafana => "grafana",
        }
    }

    /// Alert IDs start with it, so two tools never share one.
    fn id_prefix(self) -> &'static str {
        match self {
            Source::Alertmanager => "am",
            Source::Grafana => "grafana",
        }
    }
}

/// How a labelled alert becomes a Herald alert where the label names vary
/// between teams (`HERALD_INGEST_LOG_TYPE_LABEL`,
/// `HERALD_INGEST_DEFAULT_SEVERITY`).
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The label whose value is the alert's log type (`job`).
    pub log_type_label: String,
    /// For a `severity` label missing or not one Herald knows.
    pub default_severity: Severity,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping { log_type_label: "job".to_owned(), default_severity: Severity::Medium }
    }
}

impl Mapping {
    /// `labels.severity`, any case: `critical`; `error`, `high`; `warning`,
    /// `medium`; `low`; `info`; otherwise the default.
    pub fn severity(&self, label: Option<&str>) -> Severity {
        match label.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("critical" | "crit" | "fatal" | "emergency" | "page") => Severity::Critical,
            Some("error" | "high" | "major") => Severity::High,
            Some("warning" | "warn" | "medium" | "minor") => Severity::Medium,
            Some("low") => Severity::Low,
            Some("info" | "informational" | "none") => Severity::Info,
            _ => self.default_severity,
        }
    }
}

/// A webhook notification: the fields Herald reads; every label and
/// annotation is kept in each alert's context.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group_key: Option<String>,
    #[serde(default)]
    truncated_alerts: Option<u64>,
    #[serde(default)]
    receiver: Option<String>,
    #[serde(default, rename = "externalURL")]
    external_url: Option<String>,
    /// Grafana's organisation.
    #[serde(default)]
    org_id: Option<i64>,
    alerts: Vec<SourceAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceAlert {
    status: String,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    starts_at: String,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    // Grafana's.
    #[serde(default, rename = "silenceURL")]
    silence_url: Option<String>,
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(default, rename = "imageURL")]
    image_url: Option<String>,
    #[serde(default)]
    values: Option<Value>,
    #[serde(default)]
    value_string: Option<String>,
}

/// Where alerts go: the store, and the outbox that carries them to Slack.
#[derive(Clone, Copy)]
pub struct Sink<'a> {
    pub store: &'a dyn Store,
    pub outbox: &'a Outbox,
}

/// One alert of the notification, read.
struct Read {
    record: AlertRecord,
    firing: bool,
}

/// Takes a notification in: firing alerts stored and routed like
/// `POST /api/alerts` (in the same transaction as their deliveries),
/// resolved ones resolved from the source.
pub async fn receive(t: Sink<'_>, mapping: &Mapping, source: Source, body: &Value) -> Result<IngestAnswer, Error> {
    let notification: Notification = serde_json::from_value(body.clone()).map_err(|error| {
        let example = match source {
            Source::Alertmanager => "Alertmanager's webhook_configs send it (version 4)",
            Source::Grafana => "a Grafana webhook contact point sends it",
        };
        Error::invalid(vec![FieldError::new("body", format!("Send the notification as {example}: {error}."))])
    })?;
    let now = now_ms();
    let read = read(&notification, mapping, source, now)?;
    let metrics = &t.outbox.metrics;
    let truncated = notification.truncated_alerts.unwrap_or(0);
    if truncated > 0 {
        let counter = match source {
            Source::Alertmanager => &metrics.truncated_alertmanager,
            Source::Grafana => &metrics.truncated_grafana,
        };
        counter.fetch_add(truncated, Relaxed);
        tracing::warn!(source = source.label(), truncated, "the notification left alerts out (max_alerts)");
    }

    let destinations = t.store.list_destinations().await?;
    let mut answers = Vec::with_capacity(read.len());
    let mut new = Vec::new();
    let mut resolved = Vec::new();
    for alert in read {
        if alert.firing {
            let content = &alert.record.content;
            let destination_ids = routing::route(content.severity, content.alert_type, &content.log_types, None, &destinations)
                .expect("no destinations named, none unknown");
            new.push(NewAlertRecord { alert: alert.record, destination_ids, fold_since: None });
        } else {
            match t.store.alert(&alert.record.id).await? {
                Some(known) => resolved.push(known),
                // Recorded, so the history is whole, but not sent.
                None => new.push(NewAlertRecord { alert: alert.record, destination_ids: Vec::new(), fold_since: None }),
            }
        }
    }
    for chunk in new.chunks(MAX_BATCH) {
        let stored = t.outbox.store_alerts(t.store, chunk, now).await?;
        let created = stored.iter().filter(|s| s.created).count();
        metrics.alerts_ingested.fetch_add(created as u64, Relaxed);
        metrics.alerts_repeated.fetch_add((stored.len() - created) as u64, Relaxed);
        answers.extend(stored.into_iter().map(|s| Accepted {
            alert_id: s.id,
            created: s.created,
            deliveries: s.deliveries,
            folded: false,
            resolved: false,
        }));
    }
    for alert in resolved {
        let changed = resolve_from_source(t, source, &alert).await?;
        if changed {
            metrics.resolved_from_source.fetch_add(1, Relaxed);
        }
        let deliveries = t.store.deliveries_of(&alert.id).await?.len();
        answers.push(Accepted { alert_id: alert.id, created: false, deliveries, folded: false, resolved: changed });
    }
    tracing::debug!(source = source.label(), alerts = answers.len(), "webhook notification received");
    Ok(IngestAnswer { alerts: answers })
}

/// The alert `source` says is resolved: Resolved, its messages updated
/// and a reply in each thread; when someone closed it already, a line in
/// the history, once. `true` when the status changed.
async fn resolve_from_source(t: Sink<'_>, source: Source, alert: &AlertRecord) -> Result<bool, Error> {
    let activity = |action, comment: Option<String>| Activity {
        actor_id: None,
        actor_name: source.name().to_owned(),
        source: ActivitySource::Api,
        action,
        old_value: Some(alert.status.label().to_owned()),
        new_value: Some(AlertStatus::Resolved.label().to_owned()),
        comment,
    };
    let open = matches!(alert.status, AlertStatus::Open | AlertStatus::Triaged);
    let change = if open {
        TriageChange {
            alert_id: alert.id.clone(),
            // An analyst's change made meanwhile stands.
            expected_status: Some(alert.status),
            expected_assignee: None,
            status: Some(AlertStatus::Resolved),
            assignee: None,
            activity: activity(ActivityAction::Resolve, None),
            update_messages: true,
            reply: Some(format!("Resolved in {}.", source.name())),
        }
    } else {
        // Said once: a notification sent again adds nothing.
        let history = t.store.activity_of(&alert.id).await?;
        if history.iter().any(|a| a.activity.source == ActivitySource::Api && a.activity.actor_name == source.name()) {
            return Ok(false);
        }
        let comment = format!("Resolved in {} too; the status stays {}.", source.name(), alert.status.label());
        TriageChange {
            alert_id: alert.id.clone(),
            expected_status: Some(alert.status),
            expected_assignee: None,
            status: None,
            assignee: None,
            activity: Activity { new_value: None, ..activity(ActivityAction::Comment, Some(comment)) },
            update_messages: false,
            reply: None,
        }
    };
    let applied = t.store.apply_triage(&change, now_ms()).await?;
    if applied.is_some() {
        tracing::info!(alert.id = %alert.id, source = source.label(), "alert resolved at its source");
        t.outbox.wake();
    }
    Ok(open && applied.is_some())
}

/// Every alert of the notification as Herald keeps it; `Err` names each
/// alert that cannot be one (`alerts[3].startsAt`).
fn read(notification: &Notification, mapping: &Mapping, source: Source, now: i64) -> Result<Vec<Read>, Error> {
    let mut out = Vec::with_capacity(notification.alerts.len());
    let mut errors = Vec::new();
    for (i, alert) in notification.alerts.iter().enumerate() {
        let firing = match alert.status.as_str() {
            "firing" => true,
            "resolved" => false,
            other => {
                errors.push(FieldError::new(format!("alerts[{i}].status"), format!("Unknown status {other:?}: firing or resolved.")));
                continue;
            }
        };
        let Ok(starts_at) = alert.starts_at.parse::<jiff::Timestamp>() else {
            errors.push(FieldError::new(
                format!("alerts[{i}].startsAt"),
                format!("startsAt {:?} is not an RFC 3339 time such as 2026-12-04T08:00:00Z.", alert.starts_at),
            ));
            continue;
        };
        let empty = BTreeMap::new();
        let labels = alert.labels.as_ref().unwrap_or(&empty);
        let annotations = alert.annotations.as_ref().unwrap_or(&empty);
        let fingerprint = match alert.fingerprint.as_deref().map(str::trim) {
            Some(f) if !f.is_empty() && f.len() <= 64 && f.chars().all(|c| c.is_ascii_alphanumeric()) => f.to_ascii_lowercase(),
            // Older senders: the labels make the alert, as they do there.
            _ => fingerprint_of(labels),
        };
        let starts_ms = starts_at.as_millisecond();
        let id = format!("{}-{fingerprint}-{starts_ms}", source.id_prefix());
        let text = |value: Option<&String>, limit: usize| -> Option<String> {
            value.map(|v| without_nul(v.trim())).filter(|v| !v.is_empty()).map(|v| cut(&v, limit))
        };
        let alertname = text(labels.get("alertname"), MAX_SHORT_CHARS * 4);
        let title = text(annotations.get("summary"), MAX_TITLE_CHARS)
            .or_else(|| text(labels.get("alertname"), MAX_TITLE_CHARS))
            .unwrap_or_else(|| format!("Alert from {}", source.name()));
        let reference =
            alert.generator_url.as_deref().filter(|u| u.chars().count() <= MAX_REFERENCE_CHARS).and_then(|u| web_link(u.trim()).ok());
        let content = AlertContent {
            title,
            severity: mapping.severity(labels.get("severity").map(String::as_str)),
            alert_type: AlertType::Rule,
            detection_id: alertname,
            log_types: text(labels.get(&mapping.log_type_label), MAX_SHORT_CHARS).into_iter().collect(),
            description: text(annotations.get("description"), MAX_TEXT_CHARS),
            runbook: text(annotations.get("runbook_url"), MAX_TEXT_CHARS),
            reference,
            tags: Vec::new(),
            links: links(alert, source),
        };
        let status = if firing { AlertStatus::initial(content.severity) } else { AlertStatus::Resolved };
        out.push(Read {
            record: AlertRecord {
                id,
                status,
                content,
                alert_context: Some(context(notification, alert, &fingerprint)),
                created_at: starts_ms,
                received_at: now,
                assignee: None,
                dedup_key: Some(format!("{}:{fingerprint}", source.label())),
                event_count: 1,
                last_seen_at: now,
                earlier_events: Vec::new(),
            },
            firing,
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(Error::invalid(errors)) }
}

/// Grafana's pages for the alert, as buttons: its dashboard, its panel,
/// and the form that silences it. A link that is not one is left out (it
/// stays in the context).
fn links(alert: &SourceAlert, source: Source) -> Vec<Link> {
    let silence = format!("Silence in {}", source.name());
    [("Open dashboard", &alert.dashboard_url), ("Open panel", &alert.panel_url), (silence.as_str(), &alert.silence_url)]
        .into_iter()
        .filter_map(|(label, url)| {
            let url = url.as_deref().map(str::trim).filter(|u| !u.is_empty() && u.chars().count() <= MAX_REFERENCE_CHARS)?;
            web_link(url).ok().map(|url| Link { label: label.to_owned(), url })
        })
        .collect()
}

/// The alert as sent, with the notification's fields that say where it
/// came from; cut to the context limit (long annotations first).
fn context(notification: &Notification, alert: &SourceAlert, fingerprint: &str) -> String {
    let mut context = json!({
        "status": alert.status,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": alert.starts_at,
        "fingerprint": fingerprint,
    });
    let object = context.as_object_mut().expect("an object");
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value.filter(|v| !v.is_null() && v.as_str() != Some("")) {
            object.insert(key.to_owned(), value);
        }
    };
    // Alertmanager's "no end yet".
    put("endsAt", alert.ends_at.clone().filter(|e| !e.starts_with("0001-")).map(Value::from));
    put("generatorURL", alert.generator_url.clone().map(Value::from));
    put("silenceURL", alert.silence_url.clone().map(Value::from));
    put("dashboardURL", alert.dashboard_url.clone().map(Value::from));
    put("panelURL", alert.panel_url.clone().map(Value::from));
    put("imageURL", alert.image_url.clone().map(Value::from));
    put("values", alert.values.clone());
    put("valueString", alert.value_string.clone().map(Value::from));
    put("receiver", notification.receiver.clone().map(Value::from));
    put("groupKey", notification.group_key.clone().map(Value::from));
    put("externalURL", notification.external_url.clone().map(Value::from));
    put("orgId", notification.org_id.map(Value::from));
    put("version", notification.version.clone().map(Value::from));
    put("truncatedAlerts", notification.truncated_alerts.filter(|n| *n > 0).map(Value::from));
    let compact = without_nul(&context.to_string());
    if compact.len() <= MAX_CONTEXT_BYTES {
        return compact;
    }
    // Too long to keep whole: each annotation and label cut, then only
    // the labels.
    let shortened = |map: &Option<BTreeMap<String, String>>| -> Value {
        map.iter().flatten().map(|(k, v)| (cut(k, 200), Value::from(cut(v, 1_000)))).collect::<serde_json::Map<_, _>>().into()
    };
    for key in ["values", "valueString", "imageURL", "generatorURL", "silenceURL", "dashboardURL", "panelURL"] {
        object_of(&mut context).remove(key);
    }
    object_of(&mut context).insert("labels".into(), shortened(&alert.labels));
    object_of(&mut context).insert("annotations".into(), shortened(&alert.annotations));
    object_of(&mut context).insert("cut".into(), Value::from(true));
    let compact = without_nul(&context.to_string());
    if compact.len() <= MAX_CONTEXT_BYTES {
        return compact;
    }
    json!({"status": alert.status, "fingerprint": fingerprint, "startsAt": alert.starts_at, "cut": true}).to_string()
}

fn object_of(value: &mut Value) -> &mut serde_json::Map<String, Value> {
    value.as_object_mut().expect("an object")
}

/// A stable fingerprint of the labels, for senders that send none.
fn fingerprint_of(labels: &BTreeMap<String, String>) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for (name, value) in labels {
        hash.update(name.as_bytes());
        hash.update([0xff]);
        hash.update(value.as_bytes());
        hash.update([0xff]);
    }
    hex::encode(&hash.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_labels_map_to_herald_severities_and_the_rest_to_the_default() {
        let mapping = Mapping { default_severity: Severity::Low, ..Mapping::default() };
        assert_eq!(mapping.severity(Some("critical")), Severity::Critical);
        assert_eq!(mapping.severity(Some("Error")), Severity::High);
        assert_eq!(mapping.severity(Some("high")), Severity::High);
        assert_eq!(mapping.severity(Some("warning")), Severity::Medium);
        assert_eq!(mapping.severity(Some("info")), Severity::Info);
        assert_eq!(mapping.severity(Some("p3")), Severity::Low);
        assert_eq!(mapping.severity(None), Severity::Low);
    }

    #[test]
    fn an_alert_without_a_fingerprint_is_known_by_its_labels() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let a = fingerprint_of(&labels(&[("alertname", "Down"), ("instance", "a")]));
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint_of(&labels(&[("instance", "a"), ("alertname", "Down")])));
        assert_ne!(a, fingerprint_of(&labels(&[("alertname", "Down"), ("instance", "b")])));
        // Name and value cannot trade characters.
        assert_ne!(fingerprint_of(&labels(&[("ab", "c")])), fingerprint_of(&labels(&[("a", "bc")])));
    }

    #[test]
    fn a_context_too_long_keeps_the_labels_and_cuts_the_annotations() {
        let alert: SourceAlert = serde_json::from_value(json!({
            "status": "firing", "startsAt": "2026-12-04T08:00:00Z",
            "labels": {"alertname": "Big"}, "annotations": {"description": "x".repeat(100_000)}
        }))
        .unwrap();
        let notification: Notification = serde_json::from_value(json!({"alerts": []})).unwrap();
        let context: Value = serde_json::from_str(&context(&notification, &alert, "f")).unwrap();
        assert_eq!(context["labels"], json!({"alertname": "Big"}));
        assert_eq!(context["cut"], true);
        assert_eq!(context["annotations"]["description"].as_str().unwrap().chars().count(), 1_000);
    }
}
