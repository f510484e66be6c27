//! The SQLite backend: one file, WAL mode, migrations embedded in the binary.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use herald_model::account::{ApiTokenView, Email, Role, UserPatch, UserView};
use herald_model::destination::{DestinationKind, DestinationSettings, DestinationStatus};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Row as _, SqlitePool};

mod alerts;

use std::collections::HashMap;

use super::migrations;
use super::rows::{self, SLACK_APP_COLUMNS, to_json};
use super::{
    ActivityRecord, AlertFilter, AlertListRow, AlertRecord, ClaimNew, ClaimedDelivery, DeliveryHealth, DeliveryRecord, DestinationRecord,
    Early, Installation, LEASE_SQL, NewAlertRecord, NewApiTokenRecord, NewUserRecord, Outcome, ReminderText, SlackAppRecord,
    SlackAppSecrets, Store, StoreError, Stored, StoredSecret, TriageChange, UserRecord, new_id, now_rfc3339,
};

const DESTINATION_COLUMNS: &str = "id, kind, status, wizard_step, display_name, channel, client_id, severities, \
     alert_kinds, log_types, timezone, created_at, updated_at, delivery_problem, dedup_window, mentions, remind_after, remind_times";

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a destination's settings in column order: display_name, channel,
/// client_id, severities, alert_kinds, log_types, timezone, dedup_window,
/// mentions, remind_after, remind_times.
fn bind_settings<'q>(query: SqliteQuery<'q>, settings: &'q DestinationSettings, dedup_window: u32) -> SqliteQuery<'q> {
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

const USER_COLUMNS: &str = "id, email, display_name, role, enabled, created_at";
const TOKEN_COLUMNS: &str = "id, name, hint, created_at, last_used_at, revoked_at";

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}

pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection for the busy writes (alerts in, claims, outcomes):
    /// they queue here rather than in SQLite's busy handler, which sleeps
    /// in steps of milliseconds. It commits without waiting for the disk
    /// (the worker's bookkeeping: should the machine lose power, a claim or
    /// an outcome may be forgotten and a message sent twice, never lost),
    /// except for alerts, which are on disk before Herald answers.
    writer: Writer,
    /// Every alert is routed with the destinations list: kept here until a
    /// destination changes (only this store changes them).
    destinations: DestinationCache,
    /// Copies the WAL into the database file beside the writer, so that a
    /// commit seldom has to (see [`checkpoint`]).
    checkpointer: std::sync::Mutex<Option<tokio_util::task::AbortOnDropHandle<()>>>,
    /// Single alerts waiting for the writer, stored together.
    together: alerts::Together,
}

/// The one connection that writes, held rather than pooled: a pool pings
/// each connection it gets back (a trip to SQLite's thread) before the next
/// caller may have it, and on the writer every write waited for that in
/// line. Callers take turns in the order they came.
pub(super) struct Writer(tokio::sync::Mutex<Option<sqlx::SqliteConnection>>);

impl Writer {
    pub(super) async fn get(&self) -> Result<tokio::sync::MappedMutexGuard<'_, sqlx::SqliteConnection>, StoreError> {
        tokio::sync::MutexGuard::try_map(self.0.lock().await, Option::as_mut).map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))
    }

    async fn close(&self) {
        use sqlx::Connection as _;
        if let Some(connection) = self.0.lock().await.take()
            && let Err(error) = connection.close().await
        {
            tracing::warn!(%error, "closing the database's writer connection failed");
        }
    }
}

/// A pool of connections to the file. They are kept for the server's life:
/// a connection to a file does not break as one to a server can, so none
/// is pinged before each use (a trip to its thread, as long as most of
/// the statements it would precede) nor closed for its age (the next use
/// would open it again, pragmas and all).
fn connections() -> SqlitePoolOptions {
    SqlitePoolOptions::new().test_before_acquire(false).max_lifetime(None).idle_timeout(None)
}

/// How often the checkpointer copies what was committed into the database
/// file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The WAL's length (pages) past which a commit checkpoints itself, should
/// the checkpointer fall behind: SQLite's default is 1,000. About 16 MB.
const CHECKPOINT_BACKSTOP: &str = "4000";

/// Copies committed pages from the WAL into the database file, on a
/// connection of its own, every [`CHECKPOINT_EVERY`]. Left to SQLite, the
/// commit that takes the WAL past 1,000 pages does it, on the writer: some
/// ten milliseconds, every few hundred at 200 alerts a second, with every
/// alert behind it waiting. A passive checkpoint waits for no one and no
/// one waits for it; the writer starts the WAL over once it is all copied.
/// While the WAL (`wal`) stays as it was when all of it was copied, there
/// is nothing to do: an idle server does not wake SQLite's thread.
async fn checkpoint(mut connection: sqlx::SqliteConnection, wal: std::path::PathBuf) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The WAL's length and last change, when it was last copied whole.
    let mut copied = None;
    loop {
        every.tick().await;
        let seen = std::fs::metadata(&wal).and_then(|m| Ok((m.len(), m.modified()?))).ok();
        if seen.is_some() && seen == copied {
            continue;
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut connection).await {
            // Frames in the WAL, frames copied: a reader of an older
            // snapshot may hold some back.
            Ok((_, frames, done)) => copied = seen.filter(|_| done >= frames),
            Err(error) => tracing::warn!(%error, "copying the WAL into the database file failed; commits will do it"),
        }
    }
}

#[derive(Default)]
struct DestinationCache {
    generation: std::sync::atomic::AtomicU64,
    list: std::sync::RwLock<Option<(u64, std::sync::Arc<Vec<DestinationRecord>>)>>,
}

impl DestinationCache {
    fn get(&self) -> (u64, Option<Vec<DestinationRecord>>) {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let cached = self.list.read().expect("the cache's lock");
        let hit = cached.as_ref().filter(|(g, _)| *g == generation).map(|(_, list)| list.as_ref().clone());
        (generation, hit)
    }

    /// Keeps a list read at `generation`, unless a change came since.
    fn put(&self, generation: u64, list: &[DestinationRecord]) {
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            *self.list.write().expect("the cache's lock") = Some((generation, std::sync::Arc::new(list.to_vec())));
        }
    }

    /// After every change to a destination.
    fn changed(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A Herald server's claim on its SQLite file: an exclusive lock on
/// `<file>.lock`, which names the process holding it. Two servers on one
/// file would each deliver every alert, so the second is refused. The
/// kernel drops the lock when the process ends, however it ends.
pub struct ServerLock {
    _file: std::fs::File,
}

impl ServerLock {
    pub fn claim(url: &str) -> anyhow::Result<ServerLock> {
        let options =
            SqliteConnectOptions::from_str(url).with_context(|| format!("HERALD_DATABASE_URL: cannot read {url:?} as a SQLite URL"))?;
        let database = options.get_filename().to_path_buf();
        let mut path = database.clone().into_os_string();
        path.push(".lock");
        let path = std::path::PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::store::private_dir(dir).with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let mut open = std::fs::OpenOptions::new();
        open.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        let mut file = open.open(&path).with_context(|| format!("opening the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let holder = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
                anyhow::bail!(
                    "Another Herald server is already using the database {}{holder}: stop it first, or give this one its own                      HERALD_DATABASE_URL. Two servers on one SQLite file would each deliver every alert; for several replicas,                      use PostgreSQL (HERALD_DATABASE_URL=postgres://…).",
                    database.display()
                );
            }
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(error).with_context(|| format!("locking {} for this server", path.display()));
            }
        }
        use std::io::Write as _;
        file.set_len(0).and_then(|()| write!(file, "{}", std::process::id())).with_context(|| format!("writing {}", path.display()))?;
        Ok(ServerLock { _file: file })
    }
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("HERALD_DATABASE_URL: cannot read {url:?} as a SQLite URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before Herald answers, so an accepted
            // alert survives a power cut too, not just a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("wal_autocheckpoint", CHECKPOINT_BACKSTOP);
        let file = options.get_filename().to_path_buf();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty() && file.as_path() != std::path::Path::new(":memory:")) {
            crate::store::private_dir(dir).with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let pool = connections()
            .max_connections(6)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("opening the SQLite database {}", file.display()))?;
        // The database holds sealed secrets and every alert: its owner's only.
        #[cfg(unix)]
        if file.is_file() {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} readable by its owner only", file.display()))?;
        }
        Migrator::new(migrations::SQLITE)
            .await
            .context("loading the embedded migrations")?
            .run(&pool)
            .await
            .with_context(|| format!("migrating the SQLite database {}", file.display()))?;
        let writer = options
            .clone()
            .synchronous(SqliteSynchronous::Normal)
            .connect()
            .await
            .with_context(|| format!("opening the SQLite database {}", file.display()))?;
        let checkpointer = options.connect().await.with_context(|| format!("opening the SQLite database {}", file.display()))?;
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        let checkpointer = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(checkpoint(checkpointer, wal.into())));
        Ok(SqliteStore {
            pool,
            writer: Writer(tokio::sync::Mutex::new(Some(writer))),
            destinations: DestinationCache::default(),
            checkpointer: std::sync::Mutex::new(Some(checkpointer)),
            together: alerts::Together::default(),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        drop(self.checkpointer.lock().expect("the checkpointer's lock").take());
        self.writer.close().await;
        self.pool.close().await;
    }

    async fn list_destinations(&self) -> Result<Vec<DestinationRecord>, StoreError> {
        let (generation, cached) = self.destinations.get();
        if let Some(list) = cached {
            return Ok(list);
        }
        let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY created_at, rowid");
        let list: Vec<DestinationRecord> =
            sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::destination).collect::<Result<_, _>>()?;
        self.destinations.put(generation, &list);
        Ok(list)
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
             VALUES (?, ?, 'DRAFT', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {DESTINATION_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql).bind(new_id()).bind(kind.as_str()), settings, dedup_window)
            .bind(&now)
            .bind(&now)
            .fetch_one(&self.pool)
            .await;
        self.destinations.changed();
        rows::destination(&row?)
    }

    async fn destination(&self, id: &str) -> Result<Option<DestinationRecord>, StoreError> {
        let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE id = ?");
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
            "UPDATE destinations SET display_name = ?, channel = ?, client_id = ?, severities = ?, alert_kinds = ?, \
             log_types = ?, timezone = ?, dedup_window = ?, mentions = ?, remind_after = ?, remind_times = ?, wizard_step = max(wizard_step, coalesce(?, wizard_step)), updated_at = ? \
             WHERE id = ? RETURNING {DESTINATION_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql), settings, dedup_window)
            .bind(wizard_step.map(i64::from))
            .bind(now_rfc3339())
            .bind(id)
            .fetch_optional(&self.pool)
            .await;
        self.destinations.changed();
        rows::destination(&row?.ok_or(StoreError::NotFound("destination"))?)
    }

    async fn save_draft(
        &self,
        id: &str,
        settings: &DestinationSettings,
        dedup_window: u32,
        wizard_step: u8,
    ) -> Result<DestinationRecord, StoreError> {
        let sql = format!(
            "UPDATE destinations SET display_name = ?, channel = ?, client_id = ?, severities = ?, alert_kinds = ?, \
             log_types = ?, timezone = ?, dedup_window = ?, mentions = ?, remind_after = ?, remind_times = ?, wizard_step = max(wizard_step, ?), updated_at = ? \
             WHERE id = ? AND status = 'DRAFT' RETURNING {DESTINATION_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql), settings, dedup_window)
            .bind(i64::from(wizard_step))
            .bind(now_rfc3339())
            .bind(id)
            .fetch_optional(&self.pool)
            .await;
        self.destinations.changed();
        match row? {
            Some(row) => rows::destination(&row),
            None if self.destination(id).await?.is_some() => Err(StoreError::NotDraft),
            None => Err(StoreError::NotFound("destination")),
        }
    }

    async fn list_slack_apps(&self) -> Result<Vec<SlackAppRecord>, StoreError> {
        let sql = format!("SELECT {SLACK_APP_COLUMNS} FROM slack_apps ORDER BY client_id");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::slack_app).collect()
    }

    async fn forget_app_token(&self, client_id: &str) -> Result<Option<SlackAppRecord>, StoreError> {
        let sql = format!(
            "UPDATE slack_apps SET app_token = NULL, app_token_hint = NULL, updated_at = ? WHERE client_id = ? \
             RETURNING {SLACK_APP_COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(now_rfc3339()).bind(client_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::slack_app).transpose()
    }

    async fn set_slack_app_problem(&self, client_id: &str, problem: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE slack_apps SET problem = ?, updated_at = ? WHERE client_id = ?")
            .bind(problem)
            .bind(now_rfc3339())
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn save_installation(&self, client_id: &str, bot_token: &StoredSecret, i: &Installation) -> Result<SlackAppRecord, StoreError> {
        let sql = format!(
            "UPDATE slack_apps SET bot_token = ?, bot_token_hint = ?, problem = NULL, team_id = ?, team_name = ?, \
             enterprise_id = ?, is_enterprise_install = ?, bot_user_id = ?, app_id = ?, scopes = ?, refresh_token = ?, \
             refresh_token_hint = ?, token_expires_at = ?, updated_at = ? WHERE client_id = ? RETURNING {SLACK_APP_COLUMNS}"
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
            "UPDATE slack_apps SET bot_token = ?, bot_token_hint = ?, refresh_token = ?, refresh_token_hint = ?, \
             token_expires_at = ?, updated_at = ? WHERE client_id = ? AND refresh_token = ?",
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
        sqlx::query("DELETE FROM slack_events WHERE event_id = ?").bind(event_id).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_oauth_state(&self, state_hash: &str, destination_id: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < ?").bind(expires_at - 3600).execute(&self.pool).await?;
        sqlx::query("INSERT INTO oauth_states (state_hash, destination_id, expires_at) VALUES (?, ?, ?)")
            .bind(state_hash)
            .bind(destination_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_oauth_state(&self, state_hash: &str, now: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE oauth_states SET used = 1 WHERE state_hash = ? AND used = 0 AND expires_at > ? RETURNING destination_id",
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn record_slack_event(&self, event_id: &str) -> Result<bool, StoreError> {
        // Slack retries within minutes; a day of memory is plenty.
        let day_ago = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - 86_400).map(|t| t.to_string()).unwrap_or_default();
        sqlx::query("DELETE FROM slack_events WHERE received_at < ?").bind(day_ago).execute(&self.pool).await?;
        let done = sqlx::query("INSERT INTO slack_events (event_id, received_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING")
            .bind(event_id)
            .bind(now_rfc3339())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_alerts(&self, alerts: &[NewAlertRecord], now: i64) -> Result<Vec<Stored>, StoreError> {
        alerts::insert_alerts(&self.writer, &self.together, alerts, now, None).await
    }

    async fn insert_alerts_claimed(
        &self,
        alerts: &[NewAlertRecord],
        now: i64,
        claim: &ClaimNew,
        early: Early,
    ) -> Result<Vec<Stored>, StoreError> {
        alerts::insert_alerts(&self.writer, &self.together, alerts, now, Some((claim, early))).await
    }

    async fn claim_deliveries(&self, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<ClaimedDelivery>, StoreError> {
        alerts::claim_deliveries(&self.writer, now, lease_ms, limit).await
    }

    async fn finish_deliveries(&self, outcomes: &[(i64, i64, Outcome)], now: i64) -> Result<(), StoreError> {
        // A problem cleared is a change to the destination (its record).
        if alerts::finish_deliveries(&self.writer, outcomes, now).await? {
            self.destinations.changed();
        }
        Ok(())
    }

    async fn release_claims(&self, now: i64) -> Result<u64, StoreError> {
        alerts::release_claims(&self.writer, now).await
    }

    async fn requeue(&self, alert_id: &str, destination_id: Option<&str>, now: i64) -> Result<u64, StoreError> {
        alerts::requeue(&self.writer, alert_id, destination_id, now).await
    }

    async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        alerts::alert(&self.pool, id).await
    }

    async fn apply_triage(&self, change: &TriageChange, now: i64) -> Result<Option<AlertRecord>, StoreError> {
        alerts::apply_triage(&self.writer, change, now).await
    }

    async fn send_reminders(&self, now: i64, minute_ms: i64, limit: u32, text: ReminderText<'_>) -> Result<u64, StoreError> {
        alerts::send_reminders(&self.writer, now, minute_ms, limit, text).await
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
        let changed = alerts::set_delivery_problem(&self.writer, destination_id, problem).await?;
        if changed {
            self.destinations.changed();
        }
        Ok(changed)
    }

    async fn delivery_health(&self, now: i64) -> Result<HashMap<String, DeliveryHealth>, StoreError> {
        alerts::delivery_health(&self.pool, now).await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        alerts::queue_depth(&self.pool).await
    }

    async fn take_lease(&self, name: &str, holder: &str, now: i64, lease_ms: i64) -> Result<bool, StoreError> {
        // fetch_all: the statement runs to its end, so SQLite's write lock
        // is not held by a half-read RETURNING until the connection's next use.
        let taken =
            sqlx::query(LEASE_SQL).bind(name).bind(holder).bind(now).bind(lease_ms).fetch_all(&mut *self.writer.get().await?).await?;
        Ok(!taken.is_empty())
    }

    async fn drop_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *self.writer.get().await?)
            .await?;
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

    async fn set_destination_status(&self, id: &str, status: DestinationStatus) -> Result<DestinationRecord, StoreError> {
        let sql = format!("UPDATE destinations SET status = ?, updated_at = ? WHERE id = ? RETURNING {DESTINATION_COLUMNS}");
        let row = sqlx::query(&sql).bind(status.as_str()).bind(now_rfc3339()).bind(id).fetch_optional(&self.pool).await;
        self.destinations.changed();
        rows::destination(&row?.ok_or(StoreError::NotFound("destination"))?)
    }

    async fn delete_destination(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM destinations WHERE id = ?").bind(id).execute(&self.pool).await;
        self.destinations.changed();
        if done?.rows_affected() == 0 {
            return Err(StoreError::NotFound("destination"));
        }
        Ok(())
    }

    async fn slack_app(&self, client_id: &str) -> Result<Option<SlackAppRecord>, StoreError> {
        let sql = format!("SELECT {SLACK_APP_COLUMNS} FROM slack_apps WHERE client_id = ?");
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
            "INSERT INTO slack_apps (id, client_id, client_secret, client_secret_hint, signing_secret, signing_secret_hint, \
             bot_token, bot_token_hint, app_token, app_token_hint, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (client_id) DO UPDATE SET \
               client_secret = coalesce(excluded.client_secret, client_secret), \
               client_secret_hint = coalesce(excluded.client_secret_hint, client_secret_hint), \
               signing_secret = coalesce(excluded.signing_secret, signing_secret), \
               signing_secret_hint = coalesce(excluded.signing_secret_hint, signing_secret_hint), \
               bot_token = coalesce(excluded.bot_token, bot_token), \
               bot_token_hint = coalesce(excluded.bot_token_hint, bot_token_hint), \
               app_token = coalesce(excluded.app_token, app_token), \
               app_token_hint = coalesce(excluded.app_token_hint, app_token_hint), \
               problem = CASE WHEN excluded.bot_token IS NULL THEN problem END, \
               refresh_token = CASE WHEN excluded.bot_token IS NULL THEN refresh_token END, \
               refresh_token_hint = CASE WHEN excluded.bot_token IS NULL THEN refresh_token_hint END, \
               token_expires_at = CASE WHEN excluded.bot_token IS NULL THEN token_expires_at END, \
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

    async fn count_users(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.pool).await?;
        Ok(count as u64)
    }

    async fn create_user(&self, user: NewUserRecord) -> Result<UserView, StoreError> {
        let sql = format!(
            "INSERT INTO users (id, email, email_key, display_name, password_hash, role, enabled, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, 1, ?) RETURNING {USER_COLUMNS}"
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
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_key = ?");
        let row = sqlx::query(&sql).bind(email.key()).fetch_optional(&self.pool).await?;
        row.map(|row| Ok(UserRecord { user: rows::user(&row)?, password_hash: row.try_get("password_hash")? })).transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserView>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email_key");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::user).collect()
    }

    async fn update_user(&self, id: &str, patch: &UserPatch) -> Result<UserView, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The write comes first: it takes SQLite's write lock, so the admin
        // count below sees every other change and two demotions cannot race.
        let sql = format!(
            "UPDATE users SET role = coalesce(?, role), enabled = coalesce(?, enabled), \
             display_name = coalesce(?, display_name) WHERE id = ? RETURNING {USER_COLUMNS}"
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
        let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'ADMIN' AND enabled = 1").fetch_one(&mut *tx).await?;
        if admins == 0 {
            tx.rollback().await?;
            return Err(StoreError::LastAdmin);
        }
        if !user.enabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn create_session(&self, token_hash: &str, user_id: &str, now: i64, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
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
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.enabled = 1",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row = sqlx::query(&sql).bind(token_hash).bind(now).fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn prune_alerts(&self, changed_before: i64, limit: u32) -> Result<u64, StoreError> {
        alerts::prune_alerts(&self.writer, changed_before, limit).await
    }

    async fn prune_bookkeeping(&self, now: i64) -> Result<(), StoreError> {
        let day_ago = jiff::Timestamp::from_second(now - 86_400).map(|t| t.to_string()).unwrap_or_default();
        sqlx::query("DELETE FROM slack_events WHERE received_at < ?").bind(day_ago).execute(&self.pool).await?;
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < ?").bind(now).execute(&self.pool).await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?").bind(now).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn create_api_token(&self, token: NewApiTokenRecord) -> Result<ApiTokenView, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (id, name, token_hash, hint, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING {TOKEN_COLUMNS}"
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
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, rowid DESC");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(rows::api_token).collect()
    }

    async fn revoke_api_token(&self, id: &str) -> Result<ApiTokenView, StoreError> {
        let sql = format!("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING {TOKEN_COLUMNS}");
        let row = sqlx::query(&sql).bind(now_rfc3339()).bind(id).fetch_optional(&self.pool).await?;
        rows::api_token(&row.ok_or(StoreError::NotFound("API token"))?)
    }

    async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenView>, StoreError> {
        // Last-used is kept to the minute: a write (and a disk flush) on
        // every ingest request would halve the rate Herald takes alerts at.
        let now = now_rfc3339();
        let minute_ago = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_secs(60))
            .map(|t| jiff::Timestamp::from_second(t.as_second()).unwrap_or(t).to_string());
        // Read first: an UPDATE takes the write lock even when it changes
        // nothing, which would queue every request behind the writer.
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL");
        let row = sqlx::query(&sql).bind(token_hash).fetch_optional(&self.pool).await?;
        let Some(token) = row.as_ref().map(rows::api_token).transpose()? else { return Ok(None) };
        let minute_ago = minute_ago.unwrap_or(now.clone());
        if token.last_used_at.as_deref().is_some_and(|at| at >= minute_ago.as_str()) {
            return Ok(Some(token));
        }
        let sql = format!(
            "UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ? AND revoked_at IS NULL \
             AND (last_used_at IS NULL OR last_used_at < ?) RETURNING {TOKEN_COLUMNS}"
        );
        // On the writer: every request of that moment comes here, and on
        // another connection each would wait for the writer's lock in
        // SQLite's busy handler, which sleeps in steps of up to 100 ms.
        let updated = sqlx::query(&sql).bind(&now).bind(token_hash).bind(&minute_ago).fetch_all(&mut *self.writer.get().await?).await?;
        match updated.first() {
            Some(row) => rows::api_token(row).map(Some),
            None => Ok(Some(token)),
        }
    }
}
