//! `/api/alerts`: programs send alerts (`POST`, with an API token); people
//! list them, read one with its deliveries, and re-send (View Alerts to
//! look, Manage Alerts to re-send).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_model::account::UserView;
use herald_model::alert::{
    ActivityAction, ActivityView, AlertList, AlertPatch, AlertStatus, AlertSummary, AlertView, AssigneeList, AssigneeView, DeliveryState,
    DeliveryView, IngestAnswer, NewComment, parse_comment,
};
use herald_model::api::FieldError;
use herald_model::destination::Severity;
use serde::Deserialize;
use serde_json::Value;

use super::Body;
use super::Query;
use crate::AppState;
use crate::domain::alerts::{ingest, resend};
use crate::domain::triage::{self, Actor};
use crate::http::auth::{ApiCaller, Authorized, need};
use crate::http::error::ApiError;
use crate::store::{Activity, ActivityRecord, AlertFilter, AlertRecord, DeliveryRecord};

pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    let answer = ingest::ingest(&*state.store, &state.outbox, &body).await?;
    tracing::debug!(api_token.id = %caller.token.id, alerts = answer.alerts.len(), "alerts received");
    // 202 when anything was taken in (a new alert, or an event folded into
    // one, whose messages are updated); 200 when every alert was a repeat.
    let taken = answer.alerts.iter().any(|a| a.created || a.folded);
    let status = if taken { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(answer)))
}

/// `?severity=HIGH,CRITICAL&status=OPEN&since=<RFC 3339>&until=…&repeated=true&limit=100`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    severity: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// `true`: only alerts that events were folded into.
    repeated: Option<bool>,
    limit: Option<u32>,
}

fn parse_list<T>(field: &str, value: Option<&str>, parse: impl Fn(&str) -> Option<T>, expected: &str) -> Result<Vec<T>, FieldError> {
    let mut out = Vec::new();
    for item in value.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(parse(item).ok_or_else(|| FieldError::new(field, format!("Unknown {field} {item:?}: use {expected}.")))?);
    }
    Ok(out)
}

fn parse_time(field: &str, value: Option<&str>) -> Result<Option<i64>, FieldError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim()
                .parse::<jiff::Timestamp>()
                .map(|t| t.as_millisecond())
                .map_err(|_| FieldError::new(field, format!("{field} must be an RFC 3339 time such as 2026-11-29T08:00:00Z.")))
        })
        .transpose()
}

pub async fn list(
    _: Authorized<need::ViewAlerts>,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let filter = AlertFilter {
        severities: parse_list("severity", query.severity.as_deref(), Severity::parse, "INFO, LOW, MEDIUM, HIGH or CRITICAL")?,
        statuses: parse_list("status", query.status.as_deref(), AlertStatus::parse, "OPEN, TRIAGED, RESOLVED or CLOSED")?,
        since: parse_time("since", query.since.as_deref())?,
        until: parse_time("until", query.until.as_deref())?,
        repeated: query.repeated.unwrap_or(false),
        limit: query.limit.unwrap_or(100).clamp(1, 500),
    };
    let rows = state.store.list_alerts(&filter).await?;
    let alerts = rows
        .into_iter()
        .map(|row| AlertSummary {
            id: row.alert.id,
            title: row.alert.title,
            severity: row.alert.severity,
            alert_type: row.alert.alert_type,
            status: row.alert.status,
            detection_id: row.alert.detection_id,
            created_at: rfc3339(row.alert.created_at),
            delivery: row.delivery,
            event_count: row.alert.event_count,
            last_seen_at: rfc3339(row.alert.last_seen_at),
        })
        .collect();
    Ok(Json(AlertList { alerts }))
}

pub async fn get(
    _: Authorized<need::ViewAlerts>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AlertView>, ApiError> {
    let alert = state.store.alert(&id).await?.ok_or_else(|| ApiError::not_found("There is no alert with this ID."))?;
    full_view(&state, alert).await.map(Json)
}

async fn full_view(state: &AppState, alert: AlertRecord) -> Result<AlertView, ApiError> {
    let deliveries = state.store.deliveries_of(&alert.id).await?;
    let activity = state.store.activity_of(&alert.id).await?;
    Ok(view(alert, deliveries, activity))
}

fn console_actor(user: UserView) -> Actor {
    Actor::console(user)
}

/// Changes the status and/or the assignee from the console; Slack follows.
pub async fn update(
    Authorized { user, .. }: Authorized<need::ManageAlerts>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(patch): Body<AlertPatch>,
) -> Result<Json<AlertView>, ApiError> {
    let actor = console_actor(user);
    let mut alert = state.store.alert(&id).await?.ok_or_else(|| ApiError::not_found("There is no alert with this ID."))?;
    if let Some(assignee_id) = &patch.assignee_id {
        let assignee = triage::assignee(&*state.store, &state.apps, assignee_id).await?;
        alert = triage::assign(state.triage(), &id, &actor, assignee).await?;
    }
    if let Some(status) = patch.status {
        alert = triage::set_status(state.triage(), &id, &actor, status).await?;
    }
    full_view(&state, alert).await.map(Json)
}

/// A comment in the alert's history, and in each of its Slack threads.
pub async fn add_comment(
    Authorized { user, .. }: Authorized<need::ManageAlerts>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(new): Body<NewComment>,
) -> Result<(StatusCode, Json<AlertView>), ApiError> {
    let comment = parse_comment("comment", &new.comment)?;
    let alert = triage::comment(state.triage(), &id, &console_actor(user), &comment).await?;
    Ok((StatusCode::CREATED, Json(full_view(&state, alert).await?)))
}

/// People an alert can be assigned to: enabled users.
pub async fn assignees(_: Authorized<need::ViewAlerts>, State(state): State<AppState>) -> Result<Json<AssigneeList>, ApiError> {
    let users = state.store.list_users().await?;
    let users = users.into_iter().filter(|u| u.enabled).map(|u| AssigneeView { id: Some(u.id), name: u.display_name }).collect();
    Ok(Json(AssigneeList { users }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resend {
    /// Only this destination; all of the alert's when absent.
    destination_id: Option<String>,
}

/// Queues the alert's messages again, as new: for a delivery that failed,
/// once its cause is fixed, or to post it again.
pub async fn resend(
    _: Authorized<need::ManageAlerts>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AlertView>, ApiError> {
    // A bare POST re-sends everywhere; a body may name one destination.
    let resend: Resend = if body.iter().all(u8::is_ascii_whitespace) {
        Resend::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("Send {{}} or {{\"destinationId\": \"…\"}}: {e}."))
        })?
    };
    let alert = resend::resend(&*state.store, &state.outbox, &id, resend.destination_id.as_deref()).await?;
    full_view(&state, alert).await.map(Json)
}

use crate::domain::destinations::rfc3339_ms as rfc3339;

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
        ActivityAction::Comment => format!("{who} commented: {comment}"),
        ActivityAction::Resolve => format!("{who} resolved the alert: {comment}"),
        ActivityAction::Question => format!("{who} asked {new}: {comment}"),
        ActivityAction::Answer => format!("{who} answered “{old}”: {comment}"),
        ActivityAction::Events if new == "1" => "1 more event".to_owned(),
        ActivityAction::Events => format!("{new} more events"),
    }
}

fn activity_view(record: ActivityRecord) -> ActivityView {
    let summary = summary(&record.activity);
    let a = record.activity;
    ActivityView {
        at: rfc3339(record.at),
        summary,
        actor_name: a.actor_name,
        source: a.source,
        action: a.action,
        old_value: a.old_value,
        new_value: a.new_value,
        comment: a.comment,
    }
}

fn view(a: AlertRecord, deliveries: Vec<DeliveryRecord>, activity: Vec<ActivityRecord>) -> AlertView {
    AlertView {
        id: a.id,
        title: a.title,
        severity: a.severity,
        alert_type: a.alert_type,
        status: a.status,
        detection_id: a.detection_id,
        log_types: a.log_types,
        description: a.description,
        runbook: a.runbook,
        reference: a.reference,
        tags: a.tags,
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

/// `GET /metrics`, in Prometheus' text format.
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    if let Some(expected) = &state.settings.metrics_token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compared as hashes: the time taken says nothing about the token.
        if crate::domain::accounts::secrets::hash(given.trim()) != crate::domain::accounts::secrets::hash(&expected.0) {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "metrics_token",
                "/metrics needs Authorization: Bearer with HERALD_METRICS_TOKEN.",
            )
            .with_header(axum::http::header::WWW_AUTHENTICATE, "Bearer"));
        }
    }
    let depth = state.outbox.queue_depth(&*state.store).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.outbox.metrics.render(depth)))
}
