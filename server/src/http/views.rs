//! Records as the API shows them: every conversion from what the store
//! keeps to what a response carries is here, so a field added to a view
//! is added in one place. Times become RFC 3339; secrets become hints.

use herald_model::alert::{
    Activity, ActivityAction, ActivitySource, ActivityView, AlertSummary, AlertView, AssigneeView, DeliveryState, DeliveryView,
};
use herald_model::destination::{DeliveryHealthView, DestinationView, SecretHint, SlackAppView};

use crate::domain::destinations::Destination;
use crate::domain::slack_app::socket_mode::Board;
use crate::store::{
    ActivityRecord, AlertListRow, AlertRecord, DeliveryHealth, DeliveryRecord, DestinationRecord, SlackAppRecord, StoredSecret,
};

/// Unix milliseconds as the API shows times: RFC 3339, UTC, whole seconds.
pub fn rfc3339(ms: i64) -> String {
    let at = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    jiff::Timestamp::from_second(at.as_second()).unwrap_or(at).to_string()
}

// ---- destinations ----

fn hint(secret: &Option<StoredSecret>) -> SecretHint {
    SecretHint::of(secret.as_ref().map(|s| s.last_four.as_str()))
}

/// What stops the destination's messages, for the list and the single
/// view alike: the app's trouble (a revoked token) first, else the
/// destination's own (the bot not in the channel).
fn problem(record: &DestinationRecord, app: Option<&SlackAppRecord>) -> Option<String> {
    app.and_then(|a| a.problem.clone()).or_else(|| record.delivery_problem.clone())
}

/// A destination as `GET /api/destinations/{id}` shows it; the list adds
/// how its deliveries have gone ([`destination_in_list`]), and the routes
/// how its Socket Mode connection is ([`with_socket_mode`]).
pub fn destination(d: Destination) -> DestinationView {
    let (record, app) = (d.record, d.app.as_ref());
    DestinationView {
        problem: problem(&record, app),
        client_secret: app.map(|a| hint(&a.client_secret)).unwrap_or_default(),
        signing_secret: app.map(|a| hint(&a.signing_secret)).unwrap_or_default(),
        bot_token: app.map(|a| hint(&a.bot_token)).unwrap_or_default(),
        app_token: app.map(|a| hint(&a.app_token)).unwrap_or_default(),
        socket_mode: None,
        id: record.id,
        kind: record.kind,
        status: record.status,
        wizard_step: record.wizard_step,
        settings: record.settings,
        dedup_window: record.dedup_window,
        health: None,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

pub fn destination_in_list(record: DestinationRecord, apps: &[SlackAppRecord], health: Option<&DeliveryHealth>) -> DestinationView {
    let health = health.map(|h| DeliveryHealthView {
        last_sent_at: h.last_sent_at.map(rfc3339),
        failures_24h: h.failures_24h,
        last_error: h.last_error.clone(),
    });
    let app = apps.iter().find(|a| a.client_id == record.settings.client_id).cloned();
    DestinationView { health: Some(health.unwrap_or_default()), ..destination(Destination { record, app }) }
}

/// The Socket Mode connection of the destination's app, as this replica
/// has it.
pub fn with_socket_mode(view: DestinationView, board: &Board) -> DestinationView {
    DestinationView { socket_mode: board.get(&view.settings.client_id), ..view }
}

pub fn slack_app(app: &SlackAppRecord) -> SlackAppView {
    SlackAppView {
        client_id: app.client_id.clone(),
        client_secret: hint(&app.client_secret),
        signing_secret: hint(&app.signing_secret),
        bot_token: hint(&app.bot_token),
        app_token: hint(&app.app_token),
        socket_mode: None,
    }
}

// ---- alerts ----

pub fn alert_summary(row: AlertListRow) -> AlertSummary {
    AlertSummary {
        id: row.alert.id,
        title: row.alert.content.title,
        severity: row.alert.content.severity,
        alert_type: row.alert.content.alert_type,
        status: row.alert.status,
        detection_id: row.alert.content.detection_id,
        created_at: rfc3339(row.alert.created_at),
        delivery: row.delivery,
        event_count: row.alert.event_count,
        last_seen_at: rfc3339(row.alert.last_seen_at),
    }
}

/// A link to a message: Slack redirects it to the right workspace.
fn permalink(channel: &str, ts: &str) -> String {
    format!("https://slack.com/archives/{channel}/p{}", ts.replace('.', ""))
}

fn delivery_view(d: DeliveryRecord) -> DeliveryView {
    let permalink = match (&d.slack_channel, &d.slack_ts) {
        (Some(channel), Some(ts)) if d.state == DeliveryState::Sent => Some(permalink(channel, ts)),
        _ => None,
    };
    DeliveryView {
        destination_id: d.destination_id,
        destination_name: d.destination_name,
        state: d.state,
        attempts: d.attempts,
        next_attempt_at: (d.state == DeliveryState::Retrying).then(|| rfc3339(d.due_at)),
        last_error: d.last_error,
        slack_channel: d.slack_channel,
        slack_ts: d.slack_ts,
        permalink,
        updated_at: rfc3339(d.updated_at),
    }
}

/// An entry of the history in words.
fn summary(a: &Activity) -> String {
    let who = &a.actor_name;
    let old = a.old_value.as_deref().unwrap_or("—");
    let new = a.new_value.as_deref().unwrap_or("—");
    let comment = a.comment.as_deref().unwrap_or_default();
    match a.action {
        ActivityAction::Status => format!("{who} changed the status from {old} to {new}"),
        ActivityAction::Assign if a.new_value.is_some() => format!("{who} assigned the alert to {new}"),
        ActivityAction::Assign => format!("{who} took the assignment away from {old}"),
        // Alertmanager or Grafana: "Resolved in Grafana too; …".
        ActivityAction::Comment if a.source == ActivitySource::Api => comment.to_owned(),
        ActivityAction::Comment => format!("{who} commented: {comment}"),
        ActivityAction::Resolve if a.source == ActivitySource::Api => format!("Resolved in {who}"),
        ActivityAction::Resolve => format!("{who} resolved the alert: {comment}"),
        ActivityAction::Question => format!("{who} asked {new}: {comment}"),
        ActivityAction::Answer => format!("{who} answered “{old}”: {comment}"),
        ActivityAction::Events if new == "1" => "1 more event".to_owned(),
        ActivityAction::Events => format!("{new} more events"),
    }
}

fn activity_view(record: ActivityRecord) -> ActivityView {
    ActivityView { at: rfc3339(record.at), summary: summary(&record.activity), activity: record.activity }
}

pub fn alert(a: AlertRecord, deliveries: Vec<DeliveryRecord>, activity: Vec<ActivityRecord>) -> AlertView {
    AlertView {
        id: a.id,
        content: a.content,
        status: a.status,
        created_at: rfc3339(a.created_at),
        received_at: rfc3339(a.received_at),
        alert_context: a.alert_context.and_then(|c| serde_json::from_str(&c).ok()),
        assignee: a.assignee.map(|x| AssigneeView { id: x.user_id, name: x.name }),
        deliveries: deliveries.into_iter().map(delivery_view).collect(),
        activity: activity.into_iter().map(activity_view).collect(),
        event_count: a.event_count,
        last_seen_at: rfc3339(a.last_seen_at),
        earlier_events: a
            .earlier_events
            .into_iter()
            .map(|e| herald_model::alert::EarlierEvent { at: rfc3339(e.at), context: e.context })
            .collect(),
    }
}
