//! Reading records from rows, once for both backends: SQLite and PostgreSQL
//! return the same columns (PostgreSQL's `jsonb` is selected as text), so a
//! record is built the same way from either.

use herald_model::account::{ApiTokenView, Role, UserView};
use herald_model::alert::{Activity, ActivityAction, ActivitySource, AlertContent, AlertStatus, AlertType, DeliveryState};
use herald_model::destination::{DestinationKind, DestinationSettings, DestinationStatus, Severity};

use super::{
    ActivityRecord, AlertRecord, AssigneeRecord, DeliveryRecord, DestinationRecord, DueReminder, Installation, SlackAppRecord, StoreError,
    StoredSecret,
};

/// A row's columns by name, in the types Herald stores: text, 64-bit
/// integers, booleans, and JSON kept as text.
pub(super) trait Columns {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn maybe_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn maybe_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn flag(&self, column: &str) -> Result<bool, StoreError>;

    fn json<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, StoreError> {
        serde_json::from_str(&self.text(column)?).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    }
}

impl<R> Columns for R
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn maybe_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn maybe_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(column)?)
    }
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

pub(super) fn destination(row: &impl Columns) -> Result<DestinationRecord, StoreError> {
    let kind = row.text("kind")?;
    let status = row.text("status")?;
    Ok(DestinationRecord {
        id: row.text("id")?,
        kind: DestinationKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown destination kind {kind:?}")))?,
        status: DestinationStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("unknown status {status:?}")))?,
        wizard_step: u8::try_from(row.int("wizard_step")?).unwrap_or(1),
        settings: DestinationSettings {
            display_name: row.text("display_name")?,
            channel: row.text("channel")?,
            client_id: row.text("client_id")?,
            severities: row.json("severities")?,
            alert_kinds: row.json("alert_kinds")?,
            log_types: row.json("log_types")?,
            timezone: row.text("timezone")?,
            mentions: row.json("mentions")?,
            remind_after: u32::try_from(row.int("remind_after")?).unwrap_or(0),
            remind_times: u32::try_from(row.int("remind_times")?).unwrap_or(1),
        },
        dedup_window: u32::try_from(row.int("dedup_window")?).unwrap_or(0),
        delivery_problem: row.maybe_text("delivery_problem")?,
        created_at: row.text("created_at")?,
        updated_at: row.text("updated_at")?,
    })
}

/// What [`slack_app`] reads.
pub(super) const SLACK_APP_COLUMNS: &str = "client_id, client_secret, client_secret_hint, signing_secret, signing_secret_hint, \
     bot_token, bot_token_hint, app_token, app_token_hint, problem, team_id, team_name, enterprise_id, is_enterprise_install, \
     bot_user_id, app_id, scopes, refresh_token, refresh_token_hint, token_expires_at, updated_at";

pub(super) fn slack_app(row: &impl Columns) -> Result<SlackAppRecord, StoreError> {
    let secret = |column: &str| -> Result<Option<StoredSecret>, StoreError> {
        let sealed = row.maybe_text(column)?;
        let hint = row.maybe_text(&format!("{column}_hint"))?;
        Ok(sealed.map(|sealed| StoredSecret { sealed, last_four: hint.unwrap_or_default() }))
    };
    Ok(SlackAppRecord {
        client_id: row.text("client_id")?,
        client_secret: secret("client_secret")?,
        signing_secret: secret("signing_secret")?,
        bot_token: secret("bot_token")?,
        app_token: secret("app_token")?,
        problem: row.maybe_text("problem")?,
        installation: match row.maybe_text("bot_user_id")? {
            None => None,
            Some(bot_user_id) => Some(Installation {
                team_id: row.maybe_text("team_id")?,
                team_name: row.maybe_text("team_name")?,
                enterprise_id: row.maybe_text("enterprise_id")?,
                is_enterprise_install: row.flag("is_enterprise_install")?,
                bot_user_id,
                app_id: row.maybe_text("app_id")?,
                scopes: row.maybe_text("scopes")?.unwrap_or_default(),
                refresh_token: secret("refresh_token")?,
                token_expires_at: row.maybe_int("token_expires_at")?,
            }),
        },
        updated_at: row.text("updated_at")?,
    })
}

pub(super) fn user(row: &impl Columns) -> Result<UserView, StoreError> {
    let role = row.text("role")?;
    Ok(UserView {
        id: row.text("id")?,
        email: row.text("email")?,
        display_name: row.text("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
        enabled: row.flag("enabled")?,
        created_at: row.text("created_at")?,
    })
}

pub(super) fn api_token(row: &impl Columns) -> Result<ApiTokenView, StoreError> {
    Ok(ApiTokenView {
        id: row.text("id")?,
        name: row.text("name")?,
        hint: row.text("hint")?,
        created_at: row.text("created_at")?,
        last_used_at: row.maybe_text("last_used_at")?,
        revoked_at: row.maybe_text("revoked_at")?,
    })
}

pub(super) fn alert(row: &impl Columns) -> Result<AlertRecord, StoreError> {
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("unknown alert {what} {value:?}"));
    let severity = row.text("severity")?;
    let alert_type = row.text("type")?;
    let status = row.text("status")?;
    let received_at = row.int("received_at")?;
    Ok(AlertRecord {
        id: row.text("id")?,
        content: AlertContent {
            title: row.text("title")?,
            severity: Severity::parse(&severity).ok_or_else(|| corrupt("severity", &severity))?,
            alert_type: AlertType::parse(&alert_type).ok_or_else(|| corrupt("type", &alert_type))?,
            detection_id: row.maybe_text("detection_id")?,
            log_types: row.json("log_types")?,
            tags: row.json("tags")?,
            description: row.maybe_text("description")?,
            runbook: row.maybe_text("runbook")?,
            reference: row.maybe_text("reference")?,
            links: row.json("links")?,
        },
        status: AlertStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        alert_context: row.maybe_text("alert_context")?,
        created_at: row.int("created_at")?,
        received_at,
        assignee: row.maybe_text("assignee_name")?.map(|name| AssigneeRecord {
            user_id: row.maybe_text("assignee_id").ok().flatten(),
            name,
            slack_id: row.maybe_text("assignee_slack_id").ok().flatten(),
        }),
        dedup_key: row.maybe_text("dedup_key")?,
        event_count: u64::try_from(row.int("event_count")?).unwrap_or(1),
        last_seen_at: row.maybe_int("last_seen_at")?.unwrap_or(received_at),
        earlier_events: row.json("earlier_events")?,
    })
}

pub(super) fn state(value: &str) -> Result<DeliveryState, StoreError> {
    DeliveryState::parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {value:?}")))
}

/// The least advanced delivery of an alert, as ranked in SQL: failed (0),
/// retrying, sending, queued, sent (4).
pub(super) const DELIVERY_RANK: &str = "CASE state WHEN 'FAILED' THEN 0 WHEN 'RETRYING' THEN 1 WHEN 'SENDING' THEN 2 \
     WHEN 'QUEUED' THEN 3 ELSE 4 END";

pub(super) fn ranked_delivery(rank: Option<i64>) -> Option<DeliveryState> {
    rank.map(|rank| match rank {
        0 => DeliveryState::Failed,
        1 => DeliveryState::Retrying,
        2 => DeliveryState::Sending,
        3 => DeliveryState::Queued,
        _ => DeliveryState::Sent,
    })
}

/// A row of `deliveries` joined with its destination's `display_name`.
pub(super) fn delivery(row: &impl Columns) -> Result<DeliveryRecord, StoreError> {
    Ok(DeliveryRecord {
        destination_id: row.text("destination_id")?,
        destination_name: row.text("display_name")?,
        state: state(&row.text("state")?)?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(0),
        due_at: row.int("due_at")?,
        slack_channel: row.maybe_text("slack_channel")?,
        slack_ts: row.maybe_text("slack_ts")?,
        last_error: row.maybe_text("last_error")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(super) fn activity(row: &impl Columns) -> Result<ActivityRecord, StoreError> {
    let source = row.text("source")?;
    let action = row.text("action")?;
    Ok(ActivityRecord {
        at: row.int("at")?,
        activity: Activity {
            actor_id: row.maybe_text("actor_id")?,
            actor_name: row.text("actor_name")?,
            source: ActivitySource::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("activity source {source:?}")))?,
            action: ActivityAction::parse(&action).ok_or_else(|| StoreError::Corrupt(format!("activity action {action:?}")))?,
            old_value: row.maybe_text("old_value")?,
            new_value: row.maybe_text("new_value")?,
            comment: row.maybe_text("comment")?,
        },
    })
}

/// A row of the reminders query (alert_id, destination_id, since, sent,
/// remind_after, remind_times, severity, waiting) at `now` (Unix ms; a
/// minute of the settings is `minute_ms`): the reminder to send, or `None`
/// when it is only to be dropped. Reminders missed while none was sent
/// count as sent: the one sent now is the latest due.
pub(super) fn due_reminder(row: &impl Columns, now: i64, minute_ms: i64) -> Result<Option<DueReminder>, StoreError> {
    let sent = u32::try_from(row.int("sent")?).unwrap_or(u32::MAX);
    let (after, times) = (row.int("remind_after")?, u32::try_from(row.int("remind_times")?).unwrap_or(0));
    if !row.flag("waiting")? || after <= 0 || sent >= times {
        return Ok(None);
    }
    let waited = (now - row.int("since")?).max(0);
    let passed = u32::try_from(waited / after.saturating_mul(minute_ms).max(1)).unwrap_or(u32::MAX);
    let severity = row.text("severity")?;
    Ok(Some(DueReminder {
        alert_id: row.text("alert_id")?,
        destination_id: row.text("destination_id")?,
        severity: Severity::parse(&severity).ok_or_else(|| StoreError::Corrupt(format!("unknown severity {severity:?}")))?,
        number: passed.clamp(sent + 1, times),
        times,
        minutes: u64::try_from(waited / minute_ms.max(1)).unwrap_or(0),
    }))
}
