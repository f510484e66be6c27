//! `/api/alerts`: programs send alerts (`POST`, with an API token); people
//! list them, read one with its deliveries, and re-send (View Alerts to
//! look, Manage Alerts to re-send).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_model::account::UserView;
use herald_model::alert::{
    AlertList, AlertPatch, AlertStatus, AlertView, AssigneeList, AssigneeView, IngestAnswer, NewComment, parse_comment,
};
use herald_model::api::FieldError;
use herald_model::destination::Severity;
use serde::Deserialize;
use serde_json::Value;

use super::Body;
use super::Query;
use super::views;
use crate::AppState;
use crate::domain::alerts::{ingest, resend, webhook};
use crate::domain::triage::{self, Actor};
use crate::http::auth::{ApiCaller, Authorized, need};
use crate::http::error::ApiError;
use crate::store::{AlertFilter, AlertRecord};

pub async fn create(
    caller: ApiCaller,
    State(state): State<AppState>,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    // Run to its end even should the caller hang up (see `Outbox::store_alerts`).
    let answer = tokio::spawn(async move { ingest::ingest(&*state.store, &state.outbox, &body).await }).await??;
    tracing::debug!(api_token.id = %caller.token.id, alerts = answer.alerts.len(), "alerts received");
    // 202 when anything was taken in (a new alert, or an event folded into
    // one, whose messages are updated); 200 when every alert was a repeat.
    let taken = answer.alerts.iter().any(|a| a.created || a.folded);
    let status = if taken { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(answer)))
}

/// `POST /api/ingest/alertmanager`: a receiver's `webhook_configs` entry.
pub async fn from_alertmanager(
    caller: ApiCaller,
    State(state): State<AppState>,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    from_webhook(caller, state, webhook::Source::Alertmanager, body).await
}

/// `POST /api/ingest/grafana`: a webhook contact point.
pub async fn from_grafana(
    caller: ApiCaller,
    State(state): State<AppState>,
    Body(body): Body<Value>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    from_webhook(caller, state, webhook::Source::Grafana, body).await
}

async fn from_webhook(
    caller: ApiCaller,
    state: AppState,
    source: webhook::Source,
    body: Value,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    let mapping = webhook::Mapping {
        log_type_label: state.settings.ingest_log_type_label.clone(),
        default_severity: state.settings.ingest_default_severity,
    };
    // Run to its end even should the caller hang up (see `Outbox::store_alerts`).
    let (store, outbox) = (state.store.clone(), state.outbox.clone());
    let answer =
        tokio::spawn(async move { webhook::receive(webhook::Sink { store: &*store, outbox: &outbox }, &mapping, source, &body).await })
            .await??;
    tracing::debug!(api_token.id = %caller.token.id, source = source.label(), alerts = answer.alerts.len(), "webhook received");
    // 202 when an alert was new or resolved; 200 when nothing changed.
    let taken = answer.alerts.iter().any(|a| a.created || a.resolved);
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
    let alerts = rows.into_iter().map(views::alert_summary).collect();
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
    Ok(views::alert(alert, deliveries, activity))
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

/// `GET /metrics`, in Prometheus' text format.
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    if let Some(expected) = &state.settings.metrics_token {
        let given = super::auth::bearer(&headers).unwrap_or_default();
        // Compared as hashes: the time taken says nothing about the token.
        if crate::domain::accounts::secrets::hash(&given) != crate::domain::accounts::secrets::hash(&expected.0) {
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
