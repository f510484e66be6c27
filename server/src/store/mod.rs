//! Storage behind one small trait, with two backends picked by the database
//! URL: SQLite (one server, the default) and PostgreSQL (several replicas),
//! each with its own migrations folder. `server/tests/store/` is the
//! contract both keep.

pub mod copy;
mod migrations;
pub mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use herald_model::account::{ApiTokenView, Email, Role, UserPatch, UserView};
use herald_model::alert::{Activity, AlertContent, AlertStatus, DeliveryState};
use herald_model::destination::{DestinationKind, DestinationSettings, DestinationStatus, Severity};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("a user with this email exists already")]
    EmailTaken,
    #[error("the change would leave no enabled admin")]
    LastAdmin,
    #[error("the destination's setup is finished; drafts only")]
    NotDraft,
}

/// A user with the password hash, for signing in. Never sent anywhere.
pub struct UserRecord {
    pub user: UserView,
    pub password_hash: String,
}

/// What creating a user needs; the password is already hashed.
pub struct NewUserRecord {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationRecord {
    pub id: String,
    pub kind: DestinationKind,
    pub status: DestinationStatus,
    pub wizard_step: u8,
    /// While a draft, as typed; checked once its setup is finished.
    pub settings: DestinationSettings,
    /// Minutes; 0: every event is an alert of its own.
    pub dedup_window: u32,
    /// Why its messages do not get through, until one does.
    pub delivery_problem: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A secret as stored: sealed, with the last four characters for its hint.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub sealed: String,
    pub last_four: String,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredSecret(••••{})", self.last_four)
    }
}

/// The Slack app destinations share, keyed by its client ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackAppRecord {
    pub client_id: String,
    pub client_secret: Option<StoredSecret>,
    pub signing_secret: Option<StoredSecret>,
    pub bot_token: Option<StoredSecret>,
    /// Socket Mode: the app-level token (`xapp-…`).
    pub app_token: Option<StoredSecret>,
    /// What Slack said is wrong (uninstalled, tokens revoked); cleared when a
    /// new bot token is saved.
    pub problem: Option<String>,
    /// Set by an install through Herald (OAuth).
    pub installation: Option<Installation>,
    pub updated_at: String,
}

/// What Slack's OAuth exchange said about where the app is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub enterprise_id: Option<String>,
    /// Org-wide (Enterprise Grid): post by channel ID.
    pub is_enterprise_install: bool,
    pub bot_user_id: String,
    pub app_id: Option<String>,
    pub scopes: String,
    pub refresh_token: Option<StoredSecret>,
    /// Unix seconds.
    pub token_expires_at: Option<i64>,
}

/// Secrets to store for an app; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct SlackAppSecrets {
    pub client_secret: Option<StoredSecret>,
    pub signing_secret: Option<StoredSecret>,
    pub bot_token: Option<StoredSecret>,
    pub app_token: Option<StoredSecret>,
}

/// An alert as stored. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub id: String,
    pub content: AlertContent,
    pub status: AlertStatus,
    pub alert_context: Option<String>,
    pub created_at: i64,
    pub received_at: i64,
    pub assignee: Option<AssigneeRecord>,
    /// Events with this key fold into the alert while it is open.
    pub dedup_key: Option<String>,
    /// Events folded in, the first included.
    pub event_count: u64,
    /// The latest event (`received_at` until a second comes).
    pub last_seen_at: i64,
    /// The events before the latest, newest first.
    pub earlier_events: Vec<EarlierEventRecord>,
}

/// An event folded into an alert before its latest one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EarlierEventRecord {
    /// Unix ms: when it was received.
    pub at: i64,
    /// Its context, compact JSON.
    pub context: Option<String>,
}

/// Who an alert is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssigneeRecord {
    /// The Herald user (gone when the user was deleted).
    pub user_id: Option<String>,
    pub name: String,
    /// Their Slack user ID, when known: the message mentions them.
    pub slack_id: Option<String>,
}

/// A change to an alert's triage, with the history entry that tells it and
/// what Slack should then show.
#[derive(Debug, Clone)]
pub struct TriageChange {
    pub alert_id: String,
    /// Applied only if the status is still this (the change was decided on it).
    pub expected_status: Option<AlertStatus>,
    /// Applied only if the assignee is still this Herald user (`Some(None)`: no one).
    pub expected_assignee: Option<Option<String>>,
    pub status: Option<AlertStatus>,
    /// `Some(None)`: no one.
    pub assignee: Option<Option<AssigneeRecord>>,
    pub activity: Activity,
    /// Update every message of the alert in place.
    pub update_messages: bool,
    /// Reply in every message's thread (mrkdwn).
    pub reply: Option<String>,
}

/// An entry as stored: when it happened (Unix ms), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub at: i64,
    pub activity: Activity,
}

/// What a delivery row asks of Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryKind {
    /// The alert's message.
    Post,
    /// The message again, as the alert is now (`chat.update`).
    Update,
    /// A reply in the message's thread (mrkdwn).
    Reply(String),
}

/// Where the alert's message to a destination is, for updates and replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRef {
    pub state: DeliveryState,
    pub channel: Option<String>,
    pub ts: Option<String>,
}

/// An alert to store with the destinations it is routed to.
#[derive(Debug, Clone)]
pub struct NewAlertRecord {
    pub alert: AlertRecord,
    pub destination_ids: Vec<String>,
    /// Fold it into the newest OPEN or TRIAGED alert of the same key and
    /// severity whose latest event came at this time (Unix ms) or later and
    /// whose messages include every one of `destination_ids`; `None`: never.
    pub fold_since: Option<i64>,
}

/// What storing one alert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: String,
    /// `false`: an alert with this ID existed, or it was folded into one.
    pub created: bool,
    pub deliveries: usize,
    /// Folded into the alert `id`: counted there, its messages updated.
    pub folded: bool,
}

/// Who claims new alerts' messages as they are stored
/// ([`Store::insert_alerts_claimed`]).
#[derive(Debug, Clone)]
pub struct ClaimNew {
    /// The lease the sender holds, and the holder's name in it.
    pub lease: &'static str,
    pub holder: String,
    /// How long the claim holds.
    pub lease_ms: i64,
}

/// Where a store hands messages claimed as their alerts are stored, before
/// the commit ([`Store::insert_alerts_claimed`]).
pub type Early = tokio::sync::oneshot::Sender<Vec<ClaimedDelivery>>;

/// A delivery a worker claimed: its alert, and where it goes.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    /// Which claim this is: the outcome names it.
    pub claim: i64,
    pub destination_id: String,
    /// Attempts so far (not counting this one).
    pub attempts: u32,
    pub alert: Arc<AlertRecord>,
    pub kind: DeliveryKind,
    /// For updates and replies: the alert's message to this destination.
    pub post: Option<PostRef>,
}

/// How an attempt at a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        channel: String,
        ts: String,
    },
    /// Nothing to do after all (an update of a message not posted yet: it
    /// will be posted as the alert is then).
    Done,
    /// Try again at `due_at` (ms); counts as an attempt.
    Retry {
        due_at: i64,
        error: String,
    },
    /// Not sent yet: the channel's pace or Slack's Retry-After; not an attempt.
    Wait {
        due_at: i64,
    },
    /// Given up.
    Failed {
        error: String,
    },
}

/// A reminder that is due: a reply in the alert's thread at one
/// destination, for an alert still Open and unassigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub alert_id: String,
    pub destination_id: String,
    pub severity: Severity,
    /// Which reminder this is: 1 for the first.
    pub number: u32,
    /// How many the destination sends at most.
    pub times: u32,
    /// The minutes (of the destinations' settings) since the alert came in.
    pub minutes: u64,
}

/// The reply a reminder sends, built by the caller (the domain).
pub type ReminderText<'a> = &'a (dyn Fn(&DueReminder) -> String + Send + Sync);

/// A row of the deliveries table, for the alert page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub destination_id: String,
    pub destination_name: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub due_at: i64,
    pub slack_channel: Option<String>,
    pub slack_ts: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

/// Which alerts the list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub severities: Vec<Severity>,
    pub statuses: Vec<AlertStatus>,
    /// Unix ms bounds on the alert's creation time.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only alerts that events were folded into.
    pub repeated: bool,
    pub limit: u32,
}

/// An alert in the list, with its least advanced delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertListRow {
    pub alert: AlertRecord,
    pub delivery: Option<DeliveryState>,
}

/// How deliveries to one destination have gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryHealth {
    /// Unix ms of the last message that got through.
    pub last_sent_at: Option<i64>,
    /// Deliveries failed or retrying in the last 24 hours.
    pub failures_24h: u64,
    pub last_error: Option<String>,
}

/// What creating an API token stores: the hash, never the token.
pub struct NewApiTokenRecord {
    pub name: String,
    pub token_hash: String,
    pub hint: String,
    pub created_by: Option<String>,
}

/// Everything Herald persists goes through this trait.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database can run a query (`/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Finishes writes and closes connections (at shutdown).
    async fn close(&self);

    // ---- destinations ----

    /// All destinations, oldest first.
    async fn list_destinations(&self) -> Result<Vec<DestinationRecord>, StoreError>;

    async fn create_destination(
        &self,
        kind: DestinationKind,
        settings: &DestinationSettings,
        dedup_window: u32,
    ) -> Result<DestinationRecord, StoreError>;

    async fn destination(&self, id: &str) -> Result<Option<DestinationRecord>, StoreError>;

    /// Replaces the settings (checked by the caller); a draft's wizard step
    /// only ever moves forward.
    async fn update_destination(
        &self,
        id: &str,
        settings: &DestinationSettings,
        dedup_window: u32,
        wizard_step: Option<u8>,
    ) -> Result<DestinationRecord, StoreError>;

    /// Saves a draft's values as typed; `NotDraft` once its setup is
    /// finished, so a late autosave cannot overwrite checked settings.
    async fn save_draft(
        &self,
        id: &str,
        settings: &DestinationSettings,
        dedup_window: u32,
        wizard_step: u8,
    ) -> Result<DestinationRecord, StoreError>;

    async fn set_destination_status(&self, id: &str, status: DestinationStatus) -> Result<DestinationRecord, StoreError>;

    async fn delete_destination(&self, id: &str) -> Result<(), StoreError>;

    // ---- the Slack app ----

    async fn slack_app(&self, client_id: &str) -> Result<Option<SlackAppRecord>, StoreError>;

    /// The most recently changed app: the one new destinations reuse.
    async fn latest_slack_app(&self) -> Result<Option<SlackAppRecord>, StoreError>;

    /// Creates the app or updates the secrets given, keeping the others.
    async fn upsert_slack_app(&self, client_id: &str, secrets: &SlackAppSecrets) -> Result<SlackAppRecord, StoreError>;

    async fn list_slack_apps(&self) -> Result<Vec<SlackAppRecord>, StoreError>;

    async fn set_slack_app_problem(&self, client_id: &str, problem: Option<&str>) -> Result<(), StoreError>;

    /// Drops the app's app-level token (the app leaves Socket Mode); the
    /// app as it is now, `None` when there is no such app.
    async fn forget_app_token(&self, client_id: &str) -> Result<Option<SlackAppRecord>, StoreError>;

    /// Stores an installation: the new bot token with what Slack said about
    /// it, in one write.
    async fn save_installation(
        &self,
        client_id: &str,
        bot_token: &StoredSecret,
        installation: &Installation,
    ) -> Result<SlackAppRecord, StoreError>;

    /// Replaces a rotating token pair in one write, if the refresh token is
    /// still `old_refresh` (sealed); `false` when something replaced it.
    async fn rotate_tokens(
        &self,
        client_id: &str,
        old_refresh: &str,
        bot_token: &StoredSecret,
        refresh_token: &StoredSecret,
        expires_at: i64,
    ) -> Result<bool, StoreError>;

    /// Forgets an event whose handling failed, so Slack's retry is handled.
    async fn forget_slack_event(&self, event_id: &str) -> Result<(), StoreError>;

    /// Records a new install's state for a destination.
    async fn create_oauth_state(&self, state_hash: &str, destination_id: &str, expires_at: i64) -> Result<(), StoreError>;

    /// Uses up a state: the destination it was made for, if it existed, was
    /// unused and had not expired. A second use finds nothing.
    async fn take_oauth_state(&self, state_hash: &str, now: i64) -> Result<Option<String>, StoreError>;

    /// Remembers an Events API event (or a request from Slack, by its
    /// signature) for a day; `false` when it was handled before (a retry
    /// from Slack, or a replay).
    async fn record_slack_event(&self, event_id: &str) -> Result<bool, StoreError>;

    // ---- alerts and their deliveries (the outbox) ----

    /// Stores the alerts and one queued delivery per destination, all in
    /// one transaction. An alert whose ID exists already is left as it is
    /// and queues nothing.
    async fn insert_alerts(&self, alerts: &[NewAlertRecord], now: i64) -> Result<Vec<Stored>, StoreError>;

    /// As [`Store::insert_alerts`], and, when `claim.holder` holds the lease
    /// `claim.lease` at `now`, the new alerts' messages are claimed in the
    /// same transaction (claim 1, until `now + claim.lease_ms`) and go
    /// through `early` as soon as they are written, before the commit waits
    /// for the disk: the sender may start while it waits. Folds and the
    /// messages' updates are queued as always, and a batch of several
    /// alerts one of which folds claims nothing. A store may claim none
    /// (`early` is then dropped unused): PostgreSQL, whose replicas could
    /// see the lease change hands mid-transaction, does not.
    ///
    /// Should the commit fail after the hand-over, the messages went for
    /// alerts that were not stored (the client, answered with the error,
    /// sends the alerts again).
    async fn insert_alerts_claimed(
        &self,
        alerts: &[NewAlertRecord],
        now: i64,
        claim: &ClaimNew,
        early: Early,
    ) -> Result<Vec<Stored>, StoreError> {
        let _ = (claim, early);
        self.insert_alerts(alerts, now).await
    }

    /// Claims up to `limit` deliveries due at `now` (ms), and those whose
    /// earlier claim lapsed, until `now + lease_ms`.
    async fn claim_deliveries(&self, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Records how attempts ended (delivery ID, claim, outcome), in one
    /// transaction; an outcome for a claim that is over changes nothing. A
    /// message that got through clears its destination's delivery problem.
    async fn finish_deliveries(&self, outcomes: &[(i64, i64, Outcome)], now: i64) -> Result<(), StoreError>;

    /// Makes every claim due now: when a worker takes the delivery lease,
    /// no other worker can hold one (see [`Store::take_lease`]).
    async fn release_claims(&self, now: i64) -> Result<u64, StoreError>;

    /// Queues an alert's deliveries again (all, or to one destination), as
    /// new; how many. One being sent right now is left to finish.
    async fn requeue(&self, alert_id: &str, destination_id: Option<&str>, now: i64) -> Result<u64, StoreError>;

    async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError>;

    /// Applies a triage change, records it in the history and queues the
    /// Slack updates and replies, in one transaction; the alert after it, or
    /// `None` when the alert is gone or no longer as expected.
    async fn apply_triage(&self, change: &TriageChange, now: i64) -> Result<Option<AlertRecord>, StoreError>;

    /// Sends the reminders due at `now` (Unix ms; a minute of the
    /// destinations' settings is `minute_ms`), up to `limit`, in one
    /// transaction: for an alert still OPEN and unassigned, a reply with
    /// `text` in the thread of its message at the destination, and the
    /// next one booked or, after the last, the reminder dropped (several
    /// due at once, after a pause, send only the latest); for an alert
    /// triaged meanwhile, a destination no longer active or whose
    /// reminders were turned off, only dropped. How many replies were
    /// queued.
    async fn send_reminders(&self, now: i64, minute_ms: i64, limit: u32, text: ReminderText<'_>) -> Result<u64, StoreError>;

    /// The alert's history, oldest first.
    async fn activity_of(&self, alert_id: &str) -> Result<Vec<ActivityRecord>, StoreError>;

    async fn deliveries_of(&self, alert_id: &str) -> Result<Vec<DeliveryRecord>, StoreError>;

    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertListRow>, StoreError>;

    /// Sets or clears why deliveries to a destination fail; `true` when
    /// that changed it (so a cause is raised once).
    async fn set_delivery_problem(&self, destination_id: &str, problem: Option<&str>) -> Result<bool, StoreError>;

    /// Per destination ID.
    async fn delivery_health(&self, now: i64) -> Result<std::collections::HashMap<String, DeliveryHealth>, StoreError>;

    /// Deliveries not yet sent or given up.
    async fn queue_depth(&self) -> Result<u64, StoreError>;

    // ---- leases: jobs one server at a time does ----

    /// Takes the lease `name` for `holder` until `now + lease_ms` (Unix
    /// ms), or renews it; `false` while another holder's lease runs.
    async fn take_lease(&self, name: &str, holder: &str, now: i64, lease_ms: i64) -> Result<bool, StoreError>;

    /// Gives the lease up, if `holder` has it (a server stopping).
    async fn drop_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    // ---- the secret key's check value ----

    /// A value sealed with the key when the database was first used: it
    /// tells, at start-up, whether the key file is the right one.
    async fn key_check(&self) -> Result<Option<String>, StoreError>;

    /// Keeps `sealed` as the check value unless there is one already (a
    /// replica that started at the same moment set it); the value kept.
    async fn set_key_check(&self, sealed: &str) -> Result<String, StoreError>;

    // ---- users ----

    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Fails with `EmailTaken` when the email is in use, in any case.
    async fn create_user(&self, user: NewUserRecord) -> Result<UserView, StoreError>;

    /// Looks the email up without regard to case.
    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError>;

    /// All users, by email.
    async fn list_users(&self) -> Result<Vec<UserView>, StoreError>;

    /// Applies the change, refusing (`LastAdmin`) any that would leave no
    /// enabled admin; disabling a user also ends their sessions.
    async fn update_user(&self, id: &str, patch: &UserPatch) -> Result<UserView, StoreError>;

    // ---- sessions ----

    async fn create_session(&self, token_hash: &str, user_id: &str, now: i64, expires_at: i64) -> Result<(), StoreError>;

    /// The enabled user whose unexpired session this is.
    async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<UserView>, StoreError>;

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Retention: deletes up to `limit` alerts whose last change is before
    /// `changed_before` (Unix ms), with their deliveries and history; how
    /// many went.
    async fn prune_alerts(&self, changed_before: i64, limit: u32) -> Result<u64, StoreError>;

    /// Housekeeping (Unix seconds): expired sessions and install states,
    /// Slack event IDs older than a day.
    async fn prune_bookkeeping(&self, now: i64) -> Result<(), StoreError>;

    /// Housekeeping: forgets sessions that expired before `now`.
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError>;

    // ---- API tokens ----

    async fn create_api_token(&self, token: NewApiTokenRecord) -> Result<ApiTokenView, StoreError>;

    /// All tokens, newest first, revoked ones included.
    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, StoreError>;

    /// Marks the token revoked (once; revoking again changes nothing).
    async fn revoke_api_token(&self, id: &str) -> Result<ApiTokenView, StoreError>;

    /// The unrevoked token with this hash, its last-used time set to now.
    async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenView>, StoreError>;
}

/// Takes or renews a lease (name, holder, now, lease ms): a row back when
/// the holder has it. The same SQL on both backends.
const LEASE_SQL: &str = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3 + $4) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE leases.holder = excluded.holder OR leases.expires_at <= $3 RETURNING holder";

/// A new random identifier: 128 bits, hex.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system random source");
    hex::encode(bytes)
}

/// Now, as stored in `*_at` text columns: RFC 3339, UTC, whole seconds.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now).to_string()
}

/// Where the data lives: a SQLite file for one server, PostgreSQL for several.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    /// May hold a password: never printed.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(url) => f.debug_tuple("Sqlite").field(url).finish(),
            DatabaseUrl::Postgres(_) => f.write_str("Postgres(***)"),
        }
    }
}

/// Claims the database for this Herald server, where one file cannot be
/// shared: a second server on the same SQLite file is refused (see
/// [`sqlite::ServerLock`]). Held until dropped; commands like
/// `herald user add` do not claim it.
pub fn claim_for_server(url: &DatabaseUrl) -> anyhow::Result<Option<sqlite::ServerLock>> {
    match url {
        DatabaseUrl::Sqlite(url) => sqlite::ServerLock::claim(url).map(Some),
        DatabaseUrl::Postgres(_) => Ok(None),
    }
}

/// Connections a PostgreSQL store keeps when not told (`HERALD_DATABASE_POOL`).
pub const DEFAULT_POOL: u32 = 10;

/// Connects to the database the URL names, creating and migrating it if needed.
pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Arc<dyn Store>> {
    connect(url, DEFAULT_POOL).await
}

/// [`open`], with up to `pool` connections to PostgreSQL (SQLite keeps its
/// own few: one file has one writer).
pub async fn connect(url: &DatabaseUrl, pool: u32) -> anyhow::Result<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite(url) => Ok(Arc::new(sqlite::SqliteStore::open(url).await?)),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(postgres::PgStore::open(url, pool).await?)),
    }
}

/// Creates a folder (and its parents) that only its owner may enter; an
/// existing one is left as it is.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
