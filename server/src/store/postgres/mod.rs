//! The PostgreSQL backend, for several Herald replicas on one database:
//! claims with `FOR UPDATE SKIP LOCKED`, lists as arrays, JSON in `jsonb`,
//! and transaction-scoped advisory locks where SQLite's single writer
//! serialised a check and its write. Migrations run under sqlx's advisory
//! lock, so replicas starting together migrate once.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use herald_model::account::{ApiTokenView, Email, Role, UserPatch, UserView};
use herald_model::destination::{DestinationKind, DestinationSettings, DestinationStatus};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool, Row as _};

mod alerts;

use super::migrations;
use super::rows::{self, SLACK_APP_COLUMNS, to_json};
use super::{
    ActivityRecord, AlertFilter, AlertListRow, AlertRecord, ClaimedDelivery, DeliveryHealth, DeliveryRecord, DestinationRecord,
    Installation, LEASE_SQL, NewAlertRecord, NewApiTokenRecord, NewUserRecord, Outcome, ReminderText, SlackAppRecord, SlackAppSecrets,
    Store, StoreError, Stored, StoredSecret, TriageChange, UserRecord, new_id, now_rfc3339,
};

const DESTINATION_COLUMNS: &str = "id, kind, status, wizard_step, display_name, channel, client_id, severities::text AS severities, \
     alert_kinds::text AS alert_kinds, log_types::text AS log_types, timezone, created_at, updated_at, delivery_problem, dedup_window, \
     mentions::text AS mentions, remind_after, remind_times";
const USER_COLUMNS: &str = "id, email, display_name, role, enabled, created_at";
const TOKEN_COLUMNS: &str = "id, name, hint, created_at, last_used_at, revoked_at";

/// Keys of the transaction-scoped advisory locks Herald takes (any 64-bit
/// number no other program on the database uses).
const LOCK_ADMINS: i64 = 0x4845_5241_4c44_0001;

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds a destination's settings in column order: display_name, channel,
/// client_id, severities, alert_kinds, log_types, timezone, dedup_window,
/// mentions, remind_after, remind_times.
fn bind_settings<'q>(query: PgQuery<'q>, settings: &'q DestinationSettings, dedup_window: u32) -> PgQuery<'q> {
    query
        .bind(&settings.display_name)
        .bind(&settings.channel)
        .bind(&settings.client_id)
        .bind(to_json(&settings.severities))
        .bind(to_json(&settings.alert_kinds))
        .bind(to_json(&settings.log_types))
        .bind(&settings.timezone)
        .bind(i64::from(dedup_window))
        .bind(to_json(&settings.mentions))
        .bind(i64::from(settings.remind_after))
        .bind(i64::from(settings.remind_times))
}

/// How long start-up waits for PostgreSQL to answer.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Worth another try: the server is not up yet, or starting.
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        // 57P03: the database system is starting up.
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code == "57P03"),
        _ => false,
    }
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects with up to `pool_size` connections and migrates.
    pub async fn open(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let options: PgConnectOptions = url.parse().context("HERALD_DATABASE_URL: cannot read it as a PostgreSQL URL")?;
        let server = format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or("(the user's database)"));
        // A database starting beside Herald gets a few seconds; the error
        // then says why the last try failed (the pool's own would not).
        let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
        loop {
            match sqlx::PgConnection::connect_with(&options).await {
                Ok(connection) => {
                    let _ = connection.close().await;
                    break;
                }
                Err(error) if tokio::time::Instant::now() >= deadline || !is_transient(&error) => {
                    return Err(error).with_context(|| format!("connecting to PostgreSQL at {server}"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {server}"))?;
        Migrator::new(migrations::POSTGRES)
            .await
            .context("loading the embedded migrations")?
            .run(&pool)
            .await
            .with_context(|| format!("migrating the PostgreSQL database {server}"))?;
        Ok(PgStore { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn list_destinations(&self) -> Result<Vec<DestinationRecord>, StoreError> {
        let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY created_at, seq");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::destination).collect()
    }

    async fn create_destination(
        &self,
        kind: DestinationKind,
        settings: &DestinationSettings,
        dedup_window: u32,
    ) -> Result<DestinationRecord, StoreError> {
        let now = now_rfc3339();
        let sql = format!(
            "INSERT INTO destinations (id, kind, status, wizard_step, display_name, channel, client_id, severities, \
             alert_kinds, log_types, timezone, dedup_window, mentions, remind_after, remind_times, created_at, updated_at) \
             VALUES ($1, $2, 'DRAFT', 1, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11::jsonb, $12, $13, $14, $15) \
             RETURNING {DESTINATION_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql).bind(new_id()).bind(kind.as_str()), settings, dedup_window)
            .bind(&now)
            .bind(&now)
            .fetch_one(&self.pool)
            .await?;
        rows::destination(&row)
    }

    async fn destination(&self, id: &str) -> Result<Option<DestinationRecord>, StoreError> {
        let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(rows::destination).transpose()
    }

    async fn update_destination(
        &self,
        id: &str,
        settings: &DestinationSettings,
        dedup_window: u32,
        wizard_step: Option<u8>,
    ) -> Result<DestinationRecord, StoreError> {
        let sql = format!(
            "UPDATE destinations SET display_name = $1, channel = $2, client_id = $3, severities = $4::jsonb, \
             alert_kinds = $5::jsonb, log_types = $6::jsonb, timezone = $7, dedup_window = $8, \
             mentions = $9::jsonb, remind_after = $10, remind_times = $11, \
             wizard_step = greatest(wizard_step, coalesce($12, wizard_step)), updated_at = $13 \
             WHERE id = $14 RETURNING {DESTINATION_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql), settings, dedup_window)
            .bind(wizard_step.map(i64::from))
            .bind(now_rfc3339())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        rows::destination(&row.ok_or(StoreError::NotFound("destination"))?)
    }

    async fn save_draft(
        &self,
        id: &str,
        settings: &DestinationSettings,
        dedup_window: u32,
        wizard_step: u8,
    ) -> Result<DestinationRecord, StoreError> {
        let sql = format!(
            "UPDATE destinations SET display_name = $1, channel = $2, client_id = $3, severities = $4::jsonb, \
             alert_kinds = $5::jsonb, log_types = $6::jsonb, timezone = $7, dedup_window = $8, \
             mentions = $9::jsonb, remind_after = $10, remind_times = $11, \
             wizard_step = greatest(wizard_step, $12), updated_at = $13 \
             WHERE id = $14 AND status = 'DRAFT' RETURNING {DESTINATION_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql), settings, dedup_window)
            .bind(i64::from(wizard_step))
            .bind(now_rfc3339())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => rows::destination(&row),
            None if self.destination(id).await?.is_some() => Err(StoreError::NotDraft),
            None => Err(StoreError::NotFound("destination")),
        }
    }

    async fn set_destination_status(&self, id: &str, status: DestinationStatus) -> Result<DestinationRecord, StoreError> {
        let sql = format!("UPDATE destinations SET status = $1, updated_at = $2 WHERE id = $3 RETURNING {DESTINATION_COLUMNS}");
        let row = sqlx::query(&sql).bind(status.as_str()).bind(now_rfc3339()).bind(id).fetch_optional(&self.pool).await?;
        rows::destination(&row.ok_or(StoreError::NotFound("destination"))?)
    }

    async fn delete_destination(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM destinations WHERE id = $1").bind(id).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("destination"));
        }
        Ok(())
    }

    async fn slack_app(&self, client_id: &str) -> Result<Option<SlackAppRecord>, StoreError> {
        let sql = format!("SELECT {SLACK_APP_COLUMNS} FROM slack_apps WHERE client_id = $1");
        sqlx::query(&sql).bind(client_id).fetch_optional(&self.pool).await?.as_ref().map(rows::slack_app).transpose()
    }

    async fn latest_slack_app(&self) -> Result<Option<SlackAppRecord>, StoreError> {
        let sql = format!("SELECT {SLACK_APP_COLUMNS} FROM slack_apps ORDER BY updated_at DESC, id LIMIT 1");
        sqlx::query(&sql).fetch_optional(&self.pool).await?.as_ref().map(rows::slack_app).transpose()
    }

    async fn upsert_slack_app(&self, client_id: &str, secrets: &SlackAppSecrets) -> Result<SlackAppRecord, StoreError> {
        let now = now_rfc3339();
        let sealed = |s: &Option<StoredSecret>| s.as_ref().map(|s| s.sealed.clone());
        let hint = |s: &Option<StoredSecret>| s.as_ref().map(|s| s.last_four.clone());
        let sql = format!(
            "INSERT INTO slack_apps AS a (id, client_id, client_secret, client_secret_hint, signing_secret, signing_secret_hint, \
             bot_token, bot_token_hint, app_token, app_token_hint, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (client_id) DO UPDATE SET \
               client_secret = coalesce(excluded.client_secret, a.client_secret), \
               client_secret_hint = coalesce(excluded.client_secret_hint, a.client_secret_hint), \
               signing_secret = coalesce(excluded.signing_secret, a.signing_secret), \
               signing_secret_hint = coalesce(excluded.signing_secret_hint, a.signing_secret_hint), \
               bot_token = coalesce(excluded.bot_token, a.bot_token), \
               bot_token_hint = coalesce(excluded.bot_token_hint, a.bot_token_hint), \
               app_token = coalesce(excluded.app_token, a.app_token), \
               app_token_hint = coalesce(excluded.app_token_hint, a.app_token_hint), \
               problem = CASE WHEN excluded.bot_token IS NULL THEN a.problem END, \
               refresh_token = CASE WHEN excluded.bot_token IS NULL THEN a.refresh_token END, \
               refresh_token_hint = CASE WHEN excluded.bot_token IS NULL THEN a.refresh_token_hint END, \
               token_expires_at = CASE WHEN excluded.bot_token IS NULL THEN a.token_expires_at END, \
               updated_at = excluded.updated_at \
             RETURNING {SLACK_APP_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new_id())
            .bind(client_id)
            .bind(sealed(&secrets.client_secret))
            .bind(hint(&secrets.client_secret))
            .bind(sealed(&secrets.signing_secret))
            .bind(hint(&secrets.signing_secret))
            .bind(sealed(&secrets.bot_token))
            .bind(hint(&secrets.bot_token))
            .bind(sealed(&secrets.app_token))
            .bind(hint(&secrets.app_token))
            .bind(&now)
            .bind(&now)
            .fetch_one(&self.pool)
            .await?;
        rows::slack_app(&row)
    }

    async fn list_slack_apps(&self) -> Result<Vec<SlackAppRecord>, StoreError> {
        let sql = format!("SELECT {SLACK_APP_COLUMNS} FROM slack_apps ORDER BY client_id");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::slack_app).collect()
    }

    async fn forget_app_token(&self, client_id: &str) -> Result<Option<SlackAppRecord>, StoreError> {
        let sql = format!(
            "UPDATE slack_apps SET app_token = NULL, app_token_hint = NULL, updated_at = $1 WHERE client_id = $2 \
             RETURNING {SLACK_APP_COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(now_rfc3339()).bind(client_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::slack_app).transpose()
    }

    async fn set_slack_app_problem(&self, client_id: &str, problem: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE slack_apps SET problem = $1, updated_at = $2 WHERE client_id = $3")
            .bind(problem)
            .bind(now_rfc3339())
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn save_installation(&self, client_id: &str, bot_token: &StoredSecret, i: &Installation) -> Result<SlackAppRecord, StoreError> {
        let sql = format!(
            "UPDATE slack_apps SET bot_token = $1, bot_token_hint = $2, problem = NULL, team_id = $3, team_name = $4, \
             enterprise_id = $5, is_enterprise_install = $6, bot_user_id = $7, app_id = $8, scopes = $9, refresh_token = $10, \
             refresh_token_hint = $11, token_expires_at = $12, updated_at = $13 WHERE client_id = $14 RETURNING {SLACK_APP_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&bot_token.sealed)
            .bind(&bot_token.last_four)
            .bind(i.team_id.as_deref())
            .bind(i.team_name.as_deref())
            .bind(i.enterprise_id.as_deref())
            .bind(i.is_enterprise_install)
            .bind(&i.bot_user_id)
            .bind(i.app_id.as_deref())
            .bind(&i.scopes)
            .bind(i.refresh_token.as_ref().map(|t| t.sealed.as_str()))
            .bind(i.refresh_token.as_ref().map(|t| t.last_four.as_str()))
            .bind(i.token_expires_at)
            .bind(now_rfc3339())
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        rows::slack_app(&row.ok_or(StoreError::NotFound("Slack app"))?)
    }

    async fn rotate_tokens(
        &self,
        client_id: &str,
        old_refresh: &str,
        bot_token: &StoredSecret,
        refresh_token: &StoredSecret,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE slack_apps SET bot_token = $1, bot_token_hint = $2, refresh_token = $3, refresh_token_hint = $4, \
             token_expires_at = $5, updated_at = $6 WHERE client_id = $7 AND refresh_token = $8",
        )
        .bind(&bot_token.sealed)
        .bind(&bot_token.last_four)
        .bind(&refresh_token.sealed)
        .bind(&refresh_token.last_four)
        .bind(expires_at)
        .bind(now_rfc3339())
        .bind(client_id)
        .bind(old_refresh)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn forget_slack_event(&self, event_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM slack_events WHERE event_id = $1").bind(event_id).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_oauth_state(&self, state_hash: &str, destination_id: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(expires_at - 3600).execute(&self.pool).await?;
        sqlx::query("INSERT INTO oauth_states (state_hash, destination_id, expires_at) VALUES ($1, $2, $3)")
            .bind(state_hash)
            .bind(destination_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_oauth_state(&self, state_hash: &str, now: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE oauth_states SET used = TRUE WHERE state_hash = $1 AND NOT used AND expires_at > $2 RETURNING destination_id",
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn record_slack_event(&self, event_id: &str) -> Result<bool, StoreError> {
        // Slack retries within minutes; a day of memory is plenty.
        let day_ago = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - 86_400).map(|t| t.to_string()).unwrap_or_default();
        sqlx::query("DELETE FROM slack_events WHERE received_at < $1").bind(day_ago).execute(&self.pool).await?;
        let done = sqlx::query("INSERT INTO slack_events (event_id, received_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING")
            .bind(event_id)
            .bind(now_rfc3339())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_alerts(&self, alerts: &[NewAlertRecord], now: i64) -> Result<Vec<Stored>, StoreError> {
        alerts::insert_alerts(&self.pool, alerts, now).await
    }

    async fn claim_deliveries(&self, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<ClaimedDelivery>, StoreError> {
        alerts::claim_deliveries(&self.pool, now, lease_ms, limit).await
    }

    async fn finish_deliveries(&self, outcomes: &[(i64, i64, Outcome)], now: i64) -> Result<(), StoreError> {
        alerts::finish_deliveries(&self.pool, outcomes, now).await
    }

    async fn release_claims(&self, now: i64) -> Result<u64, StoreError> {
        alerts::release_claims(&self.pool, now).await
    }

    async fn requeue(&self, alert_id: &str, destination_id: Option<&str>, now: i64) -> Result<u64, StoreError> {
        alerts::requeue(&self.pool, alert_id, destination_id, now).await
    }

    async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        alerts::alert(&self.pool, id).await
    }

    async fn apply_triage(&self, change: &TriageChange, now: i64) -> Result<Option<AlertRecord>, StoreError> {
        alerts::apply_triage(&self.pool, change, now).await
    }

    async fn send_reminders(&self, now: i64, minute_ms: i64, limit: u32, text: ReminderText<'_>) -> Result<u64, StoreError> {
        alerts::send_reminders(&self.pool, now, minute_ms, limit, text).await
    }

    async fn activity_of(&self, alert_id: &str) -> Result<Vec<ActivityRecord>, StoreError> {
        alerts::activity_of(&self.pool, alert_id).await
    }

    async fn deliveries_of(&self, alert_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        alerts::deliveries_of(&self.pool, alert_id).await
    }

    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertListRow>, StoreError> {
        alerts::list_alerts(&self.pool, filter).await
    }

    async fn set_delivery_problem(&self, destination_id: &str, problem: Option<&str>) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE destinations SET delivery_problem = $1 WHERE id = $2 AND delivery_problem IS DISTINCT FROM $1")
            .bind(problem)
            .bind(destination_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delivery_health(&self, now: i64) -> Result<HashMap<String, DeliveryHealth>, StoreError> {
        alerts::delivery_health(&self.pool, now).await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        alerts::queue_depth(&self.pool).await
    }

    async fn take_lease(&self, name: &str, holder: &str, now: i64, lease_ms: i64) -> Result<bool, StoreError> {
        // The conflicting row is locked: two replicas asking at once take turns.
        let taken = sqlx::query(LEASE_SQL).bind(name).bind(holder).bind(now).bind(lease_ms).fetch_optional(&self.pool).await?;
        Ok(taken.is_some())
    }

    async fn drop_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2").bind(name).bind(holder).execute(&self.pool).await?;
        Ok(())
    }

    async fn key_check(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE name = 'key_check'").fetch_optional(&self.pool).await?)
    }

    async fn set_key_check(&self, sealed: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO settings (name, value) VALUES ('key_check', $1) ON CONFLICT (name) DO NOTHING")
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE name = 'key_check'").fetch_one(&self.pool).await?)
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.pool).await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn create_user(&self, user: NewUserRecord) -> Result<UserView, StoreError> {
        let sql = format!(
            "INSERT INTO users (id, email, email_key, display_name, password_hash, role, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new_id())
            .bind(user.email.as_str())
            .bind(user.email.key())
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(now_rfc3339())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| if is_unique_violation(&e) { StoreError::EmailTaken } else { e.into() })?;
        rows::user(&row)
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_key = $1");
        let row = sqlx::query(&sql).bind(email.key()).fetch_optional(&self.pool).await?;
        row.map(|row| Ok(UserRecord { user: rows::user(&row)?, password_hash: row.try_get("password_hash")? })).transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserView>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email_key");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::user).collect()
    }

    async fn update_user(&self, id: &str, patch: &UserPatch) -> Result<UserView, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Changes to users take turns, so the admin count below sees every
        // other one and two demotions on two replicas cannot race.
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK_ADMINS).execute(&mut *tx).await?;
        let sql = format!(
            "UPDATE users SET role = coalesce($1, role), enabled = coalesce($2, enabled), \
             display_name = coalesce($3, display_name) WHERE id = $4 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(patch.role.map(Role::as_str))
            .bind(patch.enabled)
            .bind(patch.display_name.as_deref())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let user = rows::user(&row)?;
        let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'ADMIN' AND enabled").fetch_one(&mut *tx).await?;
        if admins == 0 {
            tx.rollback().await?;
            return Err(StoreError::LastAdmin);
        }
        if !user.enabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn create_session(&self, token_hash: &str, user_id: &str, now: i64, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<UserView>, StoreError> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.enabled",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row = sqlx::query(&sql).bind(token_hash).bind(now).fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn prune_alerts(&self, changed_before: i64, limit: u32) -> Result<u64, StoreError> {
        alerts::prune_alerts(&self.pool, changed_before, limit).await
    }

    async fn prune_bookkeeping(&self, now: i64) -> Result<(), StoreError> {
        let day_ago = jiff::Timestamp::from_second(now - 86_400).map(|t| t.to_string()).unwrap_or_default();
        sqlx::query("DELETE FROM slack_events WHERE received_at < $1").bind(day_ago).execute(&self.pool).await?;
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn create_api_token(&self, token: NewApiTokenRecord) -> Result<ApiTokenView, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (id, name, token_hash, hint, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new_id())
            .bind(&token.name)
            .bind(&token.token_hash)
            .bind(&token.hint)
            .bind(token.created_by.as_deref())
            .bind(now_rfc3339())
            .fetch_one(&self.pool)
            .await?;
        rows::api_token(&row)
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, seq DESC");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::api_token).collect()
    }

    async fn revoke_api_token(&self, id: &str) -> Result<ApiTokenView, StoreError> {
        let sql = format!("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING {TOKEN_COLUMNS}");
        let row = sqlx::query(&sql).bind(now_rfc3339()).bind(id).fetch_optional(&self.pool).await?;
        rows::api_token(&row.ok_or(StoreError::NotFound("API token"))?)
    }

    async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenView>, StoreError> {
        // Last-used is kept to the minute: a write on every ingest request
        // would cost more than the request.
        let now = now_rfc3339();
        let minute_ago = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_secs(60))
            .map(|t| jiff::Timestamp::from_second(t.as_second()).unwrap_or(t).to_string());
        let sql = format!(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL \
             AND (last_used_at IS NULL OR last_used_at < $3) RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(&now).bind(token_hash).bind(minute_ago.unwrap_or(now.clone())).fetch_optional(&self.pool).await?;
        if let Some(row) = row {
            return rows::api_token(&row).map(Some);
        }
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
        let row = sqlx::query(&sql).bind(token_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::api_token).transpose()
    }
}

/// Scratch databases on a PostgreSQL server, for the tests (each gets its
/// own) and the benchmark.
pub mod scratch {
    use anyhow::Context as _;
    use sqlx::Connection as _;

    /// A new, empty database, dropped (with whatever is still connected to
    /// it) when this is.
    pub struct Database {
        pub url: String,
    }

    impl Database {
        /// On the server `url` names: any database there the user may
        /// connect to, as a user that may create databases.
        pub async fn create(url: &str) -> anyhow::Result<Database> {
            let name = format!("herald_scratch_{}", super::new_id());
            let mut connection = sqlx::PgConnection::connect(url).await.context("connecting to the PostgreSQL server for the tests")?;
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.with_context(|| format!("creating {name}"))?;
            connection.close().await?;
            let mut scratch = url::Url::parse(url).context("reading the PostgreSQL URL")?;
            scratch.set_path(&name);
            Ok(Database { url: scratch.to_string() })
        }

        async fn drop_it(url: &str) -> anyhow::Result<()> {
            let mut server = url::Url::parse(url)?;
            let name = server.path().trim_start_matches('/').to_owned();
            server.set_path("/postgres");
            let mut connection = sqlx::PgConnection::connect(server.as_str()).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut connection).await?;
            connection.close().await?;
            Ok(())
        }
    }

    impl Drop for Database {
        fn drop(&mut self) {
            let url = self.url.clone();
            // Often dropped inside a test's runtime, which cannot be blocked on.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(Database::drop_it(&url))
            });
            if let Ok(Err(error)) = dropped.join() {
                tracing::warn!("could not drop a scratch database: {error:#}");
            }
        }
    }
}
