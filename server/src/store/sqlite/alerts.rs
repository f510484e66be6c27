//! Alerts and the outbox of their deliveries, in SQLite. Batches go in one
//! transaction each; lists of IDs travel as one JSON parameter
//! (`json_each`), so a batch is a handful of statements, not one per row.

use std::collections::HashMap;
use std::sync::Arc;

use herald_model::alert::{ActivitySource, AlertStatus};
use sqlx::{Row as _, SqlitePool};

use super::Writer;
use crate::store::rows::{self, DELIVERY_RANK, state, to_json};
use crate::store::{
    ActivityRecord, AlertFilter, AlertListRow, AlertRecord, ClaimNew, ClaimedDelivery, DeliveryHealth, DeliveryKind, DeliveryRecord, Early,
    NewAlertRecord, Outcome, PostRef, ReminderText, StoreError, Stored, TriageChange,
};

const ALERT_COLUMNS: &str = "id, title, severity, type, status, detection_id, log_types, tags, description, runbook, \
     reference, alert_context, created_at, received_at, assignee_id, assignee_name, assignee_slack_id, dedup_key, event_count, \
     last_seen_at, earlier_events, links";

/// A folded alert's message is updated at most this often (ms), however
/// fast its events come.
const FOLD_UPDATE_GAP_MS: i64 = 10_000;

/// The states a worker may claim from.
const PENDING: &str = "('QUEUED', 'RETRYING', 'SENDING')";

/// The writer connection commits without waiting for the disk unless told
/// otherwise, and each of its busy operations says which it needs in its
/// first trip to SQLite's thread: alerts and people's changes wait for the
/// disk (`FULL`), the worker's claims and outcomes do not (`NORMAL`). The
/// rest run in whichever mode the last left: never less durable than the
/// default.
const FOR_THE_WORKER: &str = "PRAGMA synchronous = NORMAL;";

/// What storing alerts did, and the messages claimed as they were stored.
struct Inserted {
    stored: Vec<Stored>,
    claimed: Vec<ClaimedDelivery>,
}

/// Who claims the new alerts' messages, and where they go once written
/// (see [`Store::insert_alerts_claimed`](crate::store::Store::insert_alerts_claimed)).
type Claiming<'a> = (&'a ClaimNew, Early);

/// Requests of one alert each that came while the writer was busy, stored
/// together when it is free: one commit, one wait for the disk, for all
/// of them. A steady stream of alerts costs a commit each as before; but
/// when the disk is slow, or the writer was held up, the queue behind it
/// goes in at once instead of a disk's wait each, so it cannot grow.
#[derive(Default)]
pub(super) struct Together {
    numbered: std::sync::atomic::AtomicU64,
    waiting: std::sync::Mutex<Vec<Single>>,
}

/// One request's alert, waiting in [`Together`].
struct Single {
    number: u64,
    alert: NewAlertRecord,
    now: i64,
    claiming: Option<(ClaimNew, Early)>,
    done: tokio::sync::oneshot::Sender<Result<Vec<Stored>, StoreError>>,
}

pub(super) async fn insert_alerts(
    writer: &Writer,
    together: &Together,
    alerts: &[NewAlertRecord],
    now: i64,
    claiming: Option<Claiming<'_>>,
) -> Result<Vec<Stored>, StoreError> {
    let [alert] = alerts else {
        let mut connection = writer.get().await?;
        return insert_alerts_on(&mut connection, alerts, now, claiming).await;
    };
    // In the queue first: whoever has the writer next stores it, this
    // request or one before it.
    let number = together.numbered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (done, stored) = tokio::sync::oneshot::channel();
    let claiming = claiming.map(|(claim, early)| (claim.clone(), early));
    let single = Single { number, alert: alert.clone(), now, claiming, done };
    together.waiting.lock().expect("the queue's lock").push(single);
    match writer.get().await {
        Ok(mut connection) => {
            let singles = std::mem::take(&mut *together.waiting.lock().expect("the queue's lock"));
            insert_singles(&mut connection, singles).await;
        }
        Err(error) => {
            let mut waiting = together.waiting.lock().expect("the queue's lock");
            if let Some(at) = waiting.iter().position(|s| s.number == number) {
                waiting.remove(at);
                return Err(error);
            }
        }
    }
    // Dropped unanswered only if whoever took it stopped midway: nothing
    // of it was committed.
    stored.await.map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?
}

/// Stores the singles in one transaction; should that fail, each in one
/// of its own, so that one that cannot be stored fails alone.
async fn insert_singles(connection: &mut sqlx::SqliteConnection, mut singles: Vec<Single>) {
    if singles.len() > 1 {
        tracing::debug!(alerts = singles.len(), "storing single alerts together");
        match insert_together(connection, &mut singles).await {
            Ok(done) => {
                for (single, done) in singles.into_iter().zip(done) {
                    let _ = single.done.send(Ok(done));
                }
                return;
            }
            Err(error) => tracing::warn!(%error, alerts = singles.len(), "storing alerts together failed; storing each alone"),
        }
    }
    for Single { alert, now, claiming, done, .. } in singles {
        let (claim, early) = claiming.unzip();
        let claiming = claim.as_ref().zip(early);
        let _ = done.send(insert_alerts_on(connection, std::slice::from_ref(&alert), now, claiming).await);
    }
}

/// Should the commit fail after the claimed messages went early, each is
/// stored again alone, claiming nothing this time: its messages are queued
/// and go again, twice, never lost.
async fn insert_together(connection: &mut sqlx::SqliteConnection, singles: &mut [Single]) -> Result<Vec<Vec<Stored>>, StoreError> {
    use sqlx::Connection as _;
    let mut tx = connection.begin_with(BEGIN_ALERTS).await?;
    let mut all = Vec::with_capacity(singles.len());
    for single in singles.iter() {
        let claim = single.claiming.as_ref().map(|(claim, _)| claim);
        all.push(insert_within(&mut tx, std::slice::from_ref(&single.alert), single.now, claim).await?);
    }
    let stored =
        singles.iter_mut().zip(all).map(|(single, done)| hand_early(single.claiming.take().map(|(_, early)| early), done)).collect();
    tx.commit().await?;
    Ok(stored)
}

/// Hands the claimed messages to `early`, if any were, before the commit.
fn hand_early(early: Option<Early>, done: Inserted) -> Vec<Stored> {
    if let Some(early) = early
        && !done.claimed.is_empty()
    {
        let _ = early.send(done.claimed);
    }
    done.stored
}

/// IMMEDIATE: the write lock first (waiting for it if need be). A fold
/// reads before it writes, and a transaction that read cannot wait for
/// the lock: SQLite answers "database is locked" at once if another
/// connection wrote meanwhile.
///
/// Alerts wait for the disk (see [`FOR_THE_WORKER`]).
const BEGIN_ALERTS: &str = "PRAGMA synchronous = FULL; BEGIN IMMEDIATE";

async fn insert_alerts_on(
    connection: &mut sqlx::SqliteConnection,
    alerts: &[NewAlertRecord],
    now: i64,
    claiming: Option<Claiming<'_>>,
) -> Result<Vec<Stored>, StoreError> {
    use sqlx::Connection as _;
    let (claim, early) = claiming.unzip();
    let mut tx = connection.begin_with(BEGIN_ALERTS).await?;
    let done = insert_within(&mut tx, alerts, now, claim).await?;
    let stored = hand_early(early, done);
    tx.commit().await?;
    Ok(stored)
}

/// Stores a request's alerts in the transaction `tx` is in.
async fn insert_within(
    tx: &mut sqlx::SqliteConnection,
    alerts: &[NewAlertRecord],
    now: i64,
    claim: Option<&ClaimNew>,
) -> Result<Inserted, StoreError> {
    let mut done = Inserted { stored: Vec::with_capacity(alerts.len()), claimed: Vec::new() };
    // A batch none of whose alerts folds goes in a few statements for the
    // lot; otherwise each alert in turn, and nothing claimed: an event
    // folding right after its alert would find the message on its way, and
    // queue an update to follow it at once rather than a while later.
    if alerts.len() > 1 && !any_folds(tx, alerts).await? {
        insert_plain(tx, alerts, now, claim, &mut done).await?;
    } else {
        let claim = claim.filter(|_| alerts.len() == 1);
        for new in alerts {
            match fold(tx, new, now).await? {
                Some(folded) => done.stored.push(folded),
                None => insert_plain(tx, std::slice::from_ref(new), now, claim, &mut done).await?,
            }
        }
    }
    Ok(done)
}

/// Whether an alert of the batch may fold into another: one stored (as
/// [`fold`] would find it), or one before it in the batch (the same key and
/// severity, taken to fold without looking further). One question for the
/// whole batch.
async fn any_folds(tx: &mut sqlx::SqliteConnection, alerts: &[NewAlertRecord]) -> Result<bool, StoreError> {
    let foldable: Vec<serde_json::Value> = alerts
        .iter()
        .filter_map(|new| {
            let (key, since) = (new.alert.dedup_key.as_ref()?, new.fold_since?);
            Some(serde_json::json!([key, new.alert.content.severity.as_str(), since, new.alert.id, new.destination_ids]))
        })
        .collect();
    let mut keys = std::collections::HashSet::with_capacity(foldable.len());
    if !foldable.iter().all(|f| keys.insert((&f[0], &f[1]))) {
        return Ok(true);
    }
    if foldable.is_empty() {
        return Ok(false);
    }
    let folds: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM json_each(?) AS j WHERE EXISTS (SELECT 1 FROM alerts \
           WHERE dedup_key = j.value ->> 0 AND severity = j.value ->> 1 AND status IN ('OPEN', 'TRIAGED') \
           AND coalesce(last_seen_at, received_at) >= j.value ->> 2 AND NOT EXISTS (SELECT 1 FROM alerts AS r WHERE r.id = j.value ->> 3) \
           AND NOT EXISTS (SELECT 1 FROM json_each(j.value -> 4) AS d WHERE d.value NOT IN \
             (SELECT destination_id FROM deliveries WHERE alert_id = alerts.id AND kind = 'POST'))))",
    )
    .bind(to_json(&foldable))
    .fetch_one(&mut *tx)
    .await?;
    Ok(folds)
}

/// Inserts alerts that do not fold, with their deliveries and reminders,
/// in two statements, whatever their number: a third when a destination
/// reminds, a fourth to count the deliveries of alerts sent before. What
/// each did goes on `done.stored`, in their order; the deliveries claimed
/// for `claim` (when its holder holds the lease) on `done.claimed`.
async fn insert_plain(
    tx: &mut sqlx::SqliteConnection,
    alerts: &[NewAlertRecord],
    now: i64,
    claim: Option<&ClaimNew>,
    done: &mut Inserted,
) -> Result<(), StoreError> {
    let Inserted { stored, claimed } = done;
    let rows: Vec<serde_json::Value> = alerts
        .iter()
        .map(|new| {
            let a = &new.alert;
            serde_json::json!([
                a.id,
                a.content.title,
                a.content.severity.as_str(),
                a.content.alert_type.as_str(),
                a.status.as_str(),
                a.content.detection_id,
                to_json(&a.content.log_types),
                to_json(&a.content.tags),
                a.content.description,
                a.content.runbook,
                a.content.reference,
                a.alert_context,
                a.created_at,
                a.received_at,
                a.dedup_key,
                to_json(&a.content.links),
                new.destination_ids,
            ])
        })
        .collect();
    let mut created: std::collections::HashSet<String> = sqlx::query_scalar(
        "INSERT INTO alerts (id, title, severity, type, status, detection_id, log_types, tags, description, runbook, \
         reference, alert_context, created_at, received_at, dedup_key, links) \
         SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, \
           j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, j.value ->> 11, j.value ->> 12, j.value ->> 13, \
           j.value ->> 14, j.value ->> 15 \
         FROM json_each(?) AS j WHERE true ORDER BY j.key ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(to_json(&rows))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    // Of alerts sent twice in the batch, the first is the one created.
    let first: Vec<bool> = alerts.iter().map(|new| created.remove(&new.alert.id)).collect();
    // Each alert created, with the destinations it goes to.
    let routes = |keep: &dyn Fn(usize) -> bool| -> Vec<(&str, &[String])> {
        (0..alerts.len()).filter(|&i| first[i] && keep(i)).map(|i| (alerts[i].alert.id.as_str(), &alerts[i].destination_ids[..])).collect()
    };
    let mut deliveries: HashMap<String, usize> = HashMap::new();
    // (alert, destination) of the Open alerts' messages whose destination reminds.
    let mut reminded: Vec<(String, String)> = Vec::new();
    let routed = routes(&|i| !alerts[i].destination_ids.is_empty());
    if !routed.is_empty() {
        // Claimed (SENDING, claim 1) when the claimant holds the lease now.
        let (lease, holder, lease_ms) = claim.map_or(("", "", 0), |c| (c.lease, c.holder.as_str(), c.lease_ms));
        let made: Vec<(i64, String, String, bool, bool)> = sqlx::query_as(
            "WITH held(yes) AS (SELECT EXISTS (SELECT 1 FROM leases WHERE name = ? AND holder = ? AND expires_at > ?)) \
             INSERT INTO deliveries (alert_id, destination_id, state, due_at, updated_at, claim) \
             SELECT a.value ->> 0, d.value, iif(held.yes, 'SENDING', 'QUEUED'), iif(held.yes, ? + ?, ?), ?, held.yes \
             FROM held, json_each(?) AS a, json_each(a.value -> 1) AS d \
             WHERE d.value IN (SELECT id FROM destinations) ORDER BY a.key, d.key ON CONFLICT DO NOTHING \
             RETURNING id, alert_id, destination_id, (SELECT remind_after > 0 FROM destinations WHERE id = destination_id), \
               state = 'SENDING'",
        )
        .bind(lease)
        .bind(holder)
        .bind(now)
        .bind(now)
        .bind(lease_ms)
        .bind(now)
        .bind(now)
        .bind(to_json(&routed))
        .fetch_all(&mut *tx)
        .await?;
        let open: std::collections::HashSet<&str> =
            alerts.iter().filter(|new| new.alert.status == AlertStatus::Open).map(|new| new.alert.id.as_str()).collect();
        // The alerts as stored, for the claimed messages.
        let by_id: HashMap<&str, &NewAlertRecord> =
            if claim.is_some() { alerts.iter().map(|new| (new.alert.id.as_str(), new)).collect() } else { HashMap::new() };
        let mut records: HashMap<&str, Arc<AlertRecord>> = HashMap::new();
        for (id, alert_id, destination_id, reminds, is_claimed) in made {
            if reminds && open.contains(alert_id.as_str()) {
                reminded.push((alert_id.clone(), destination_id.clone()));
            }
            if is_claimed && let Some(new) = by_id.get(alert_id.as_str()) {
                let alert = records.entry(new.alert.id.as_str()).or_insert_with(|| Arc::new(new.alert.clone())).clone();
                claimed.push(ClaimedDelivery { id, claim: 1, destination_id, attempts: 0, alert, kind: DeliveryKind::Post, post: None });
            }
            *deliveries.entry(alert_id).or_default() += 1;
        }
    }
    if !reminded.is_empty() {
        sqlx::query("INSERT INTO reminders (alert_id, destination_id, since) SELECT value ->> 0, value ->> 1, ? FROM json_each(?)")
            .bind(now)
            .bind(to_json(&reminded))
            .execute(&mut *tx)
            .await?;
    }
    // Repeats: how many destinations the first one went to.
    let repeats: Vec<&str> = alerts.iter().zip(&first).filter(|(_, made)| !**made).map(|(new, _)| new.alert.id.as_str()).collect();
    let mut earlier: HashMap<String, i64> = HashMap::new();
    if !repeats.is_empty() {
        earlier = sqlx::query_as(
            "SELECT alert_id, count(*) FROM deliveries WHERE alert_id IN (SELECT value FROM json_each(?)) GROUP BY alert_id",
        )
        .bind(to_json(&repeats))
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    }
    for (new, made) in alerts.iter().zip(first) {
        let id = &new.alert.id;
        let deliveries = if made {
            deliveries.get(id).copied().unwrap_or(0)
        } else {
            usize::try_from(earlier.get(id).copied().unwrap_or(0)).unwrap_or(0)
        };
        stored.push(Stored { id: id.clone(), created: made, deliveries, folded: false });
    }
    Ok(())
}

/// Folds the alert into an open one with its key, if there is one (see
/// [`NewAlertRecord::fold_since`]): one more event, the latest context, the
/// history's count of events, and an update of each message posted, at most
/// one every [`FOLD_UPDATE_GAP_MS`]. An alert sent with an `alertId` seen
/// before is a repeat, not an event.
async fn fold(tx: &mut sqlx::SqliteConnection, new: &NewAlertRecord, now: i64) -> Result<Option<Stored>, StoreError> {
    let a = &new.alert;
    let (Some(key), Some(since)) = (&a.dedup_key, new.fold_since) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE dedup_key = ? AND severity = ? AND status IN ('OPEN', 'TRIAGED') \
         AND coalesce(last_seen_at, received_at) >= ? AND NOT EXISTS (SELECT 1 FROM alerts WHERE id = ?) \
         AND NOT EXISTS (SELECT 1 FROM json_each(?) AS j WHERE j.value NOT IN \
           (SELECT destination_id FROM deliveries WHERE alert_id = alerts.id AND kind = 'POST')) \
         ORDER BY received_at DESC, rowid DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(key)
        .bind(a.content.severity.as_str())
        .bind(since)
        .bind(&a.id)
        .bind(to_json(&new.destination_ids))
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let into = rows::alert(&row)?;
    let mut earlier = into.earlier_events;
    earlier.insert(0, crate::store::EarlierEventRecord { at: into.last_seen_at, context: into.alert_context });
    earlier.truncate(herald_model::alert::MAX_EARLIER_EVENTS);
    sqlx::query("UPDATE alerts SET event_count = event_count + 1, last_seen_at = ?, alert_context = ?, earlier_events = ? WHERE id = ?")
        .bind(now)
        .bind(&a.alert_context)
        .bind(to_json(&earlier))
        .bind(&into.id)
        .execute(&mut *tx)
        .await?;
    // "12 more events": one entry for a run of them, the latest at its end.
    let counted = sqlx::query(
        "UPDATE alert_activity SET at = ?, new_value = CAST(CAST(new_value AS INTEGER) + 1 AS TEXT) WHERE id = \
         (SELECT id FROM alert_activity WHERE alert_id = ? ORDER BY at DESC, id DESC LIMIT 1) AND action = 'EVENTS'",
    )
    .bind(now)
    .bind(&into.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if counted == 0 {
        sqlx::query(
            "INSERT INTO alert_activity (alert_id, at, actor_name, source, action, new_value) VALUES (?, ?, ?, 'API', 'EVENTS', '1')",
        )
        .bind(&into.id)
        .bind(now)
        .bind(ActivitySource::Api.label())
        .execute(&mut *tx)
        .await?;
    }
    // A message not claimed yet is built as the alert is when it goes; one
    // that is (or is being) posted gets an update, unless one is waiting
    // already (it too is built when it goes).
    sqlx::query(
        "INSERT INTO deliveries (alert_id, destination_id, kind, state, due_at, updated_at) \
         SELECT p.alert_id, p.destination_id, 'UPDATE', 'QUEUED', max(?, coalesce((SELECT max(u.updated_at) FROM deliveries u \
           WHERE u.alert_id = p.alert_id AND u.destination_id = p.destination_id AND u.state = 'SENT'), 0) + ?), ? \
         FROM deliveries p WHERE p.alert_id = ? AND p.kind = 'POST' AND p.state IN ('SENT', 'SENDING') \
         AND NOT EXISTS (SELECT 1 FROM deliveries q WHERE q.alert_id = p.alert_id AND q.destination_id = p.destination_id \
           AND q.kind = 'UPDATE' AND q.state IN ('QUEUED', 'RETRYING')) ORDER BY p.id",
    )
    .bind(now)
    .bind(FOLD_UPDATE_GAP_MS)
    .bind(now)
    .bind(&into.id)
    .execute(&mut *tx)
    .await?;
    let deliveries: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE alert_id = ? AND kind = 'POST'")
        .bind(&into.id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(Some(Stored { id: into.id, created: false, deliveries: usize::try_from(deliveries).unwrap_or(0), folded: true }))
}

pub(super) async fn claim_deliveries(writer: &Writer, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let mut connection = writer.get().await?;
    let sql = format!(
        "{FOR_THE_WORKER} UPDATE deliveries SET state = 'SENDING', due_at = ?, claim = claim + 1 WHERE id IN \
         (SELECT id FROM deliveries WHERE state IN {PENDING} AND kind = 'POST' AND due_at <= ? ORDER BY due_at, id LIMIT ?) \
         OR id IN (SELECT id FROM deliveries WHERE state IN {PENDING} AND kind != 'POST' AND due_at <= ? \
            AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.alert_id = deliveries.alert_id \
              AND p.destination_id = deliveries.destination_id AND p.kind = 'POST' AND p.state IN {PENDING}) \
            AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.alert_id = deliveries.alert_id \
              AND e.destination_id = deliveries.destination_id AND e.kind != 'POST' AND e.id < deliveries.id AND e.state IN {PENDING}) \
          ORDER BY due_at, id LIMIT ?) \
         RETURNING id, alert_id, destination_id, attempts, claim, kind, body"
    );
    // Updates and replies take at most a quarter of the room: never more
    // than `limit` in all.
    let follow_up_limit = limit / 4;
    let rows = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit - follow_up_limit)
        .bind(now)
        .bind(follow_up_limit)
        .fetch_all(&mut *connection)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut claimed = Vec::with_capacity(rows.len());
    let mut alert_ids = Vec::with_capacity(rows.len());
    let mut follow_ups = false;
    for row in &rows {
        let alert_id: String = row.try_get("alert_id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let id: i64 = row.try_get("id")?;
        let kind = match row.try_get::<String, _>("kind")?.as_str() {
            "UPDATE" => DeliveryKind::Update,
            "REPLY" => DeliveryKind::Reply(row.try_get::<Option<String>, _>("body")?.unwrap_or_default()),
            _ => DeliveryKind::Post,
        };
        follow_ups |= kind != DeliveryKind::Post;
        claimed.push((id, row.try_get::<i64, _>("claim")?, row.try_get::<String, _>("destination_id")?, attempts, alert_id.clone(), kind));
        alert_ids.push(alert_id);
    }
    alert_ids.sort_unstable();
    alert_ids.dedup();
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id IN (SELECT value FROM json_each(?))");
    let mut alerts = HashMap::with_capacity(alert_ids.len());
    for row in sqlx::query(&sql).bind(to_json(&alert_ids)).fetch_all(&mut *connection).await? {
        match rows::alert(&row) {
            Ok(alert) => {
                alerts.insert(alert.id.clone(), Arc::new(alert));
            }
            Err(error) => tracing::error!(%error, "a stored alert cannot be read"),
        }
    }
    // Updates and replies need the alert's message: where it is, if posted.
    let mut posts: HashMap<(String, String), PostRef> = HashMap::new();
    if follow_ups {
        let rows = sqlx::query(
            "SELECT alert_id, destination_id, state, slack_channel, slack_ts FROM deliveries \
             WHERE kind = 'POST' AND alert_id IN (SELECT value FROM json_each(?))",
        )
        .bind(to_json(&alert_ids))
        .fetch_all(&mut *connection)
        .await?;
        for row in rows {
            posts.insert(
                (row.try_get("alert_id")?, row.try_get("destination_id")?),
                PostRef {
                    state: state(&row.try_get::<String, _>("state")?)?,
                    channel: row.try_get("slack_channel")?,
                    ts: row.try_get("slack_ts")?,
                },
            );
        }
    }
    // An alert that cannot be read fails its deliveries, and only those.
    let unreadable: Vec<i64> = claimed.iter().filter(|c| !alerts.contains_key(&c.4)).map(|c| c.0).collect();
    if !unreadable.is_empty() {
        sqlx::query(
            "UPDATE deliveries SET state = 'FAILED', last_error = 'The stored alert cannot be read; see the server log.', \
             updated_at = ? WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(now)
        .bind(to_json(&unreadable))
        .execute(&mut *connection)
        .await?;
    }
    Ok(claimed
        .into_iter()
        .filter_map(|(id, claim, destination_id, attempts, alert_id, kind)| {
            let alert = alerts.get(&alert_id)?.clone();
            let post = (kind != DeliveryKind::Post).then(|| posts.get(&(alert_id, destination_id.clone())).cloned()).flatten();
            Some(ClaimedDelivery { id, claim, destination_id, attempts: u32::try_from(attempts).unwrap_or(0), alert, kind, post })
        })
        .collect())
}

/// Records the outcomes; `true` when a destination's delivery problem was
/// cleared by a message that got through.
pub(super) async fn finish_deliveries(writer: &Writer, outcomes: &[(i64, i64, Outcome)], now: i64) -> Result<bool, StoreError> {
    use sqlx::Connection as _;
    let mut connection = writer.get().await?;
    let mut tx = connection.begin_with(format!("{FOR_THE_WORKER} BEGIN")).await?;
    let mut cleared = false;
    // Each outcome counts only for the claim it ends (`claim`, still
    // SENDING): a later claim records its own.
    let sent: Vec<(i64, i64, &str, &str)> = outcomes
        .iter()
        .filter_map(|(id, claim, o)| match o {
            Outcome::Sent { channel, ts } => Some((*id, *claim, channel.as_str(), ts.as_str())),
            _ => None,
        })
        .collect();
    if !sent.is_empty() {
        // Messages that got through (nearly all of them): one statement.
        sqlx::query(
            "UPDATE deliveries SET state = 'SENT', attempts = attempts + 1, slack_channel = j.value ->> 2, \
             slack_ts = j.value ->> 3, last_error = NULL, updated_at = ? FROM json_each(?) AS j \
             WHERE deliveries.id = j.value ->> 0 AND deliveries.claim = j.value ->> 1 AND deliveries.state = 'SENDING'",
        )
        .bind(now)
        .bind(to_json(&sent))
        .execute(&mut *tx)
        .await?;
        let ids: Vec<i64> = sent.iter().map(|s| s.0).collect();
        let done = sqlx::query(
            "UPDATE destinations SET delivery_problem = NULL WHERE delivery_problem IS NOT NULL AND id IN \
             (SELECT destination_id FROM deliveries WHERE id IN (SELECT value FROM json_each(?)))",
        )
        .bind(to_json(&ids))
        .execute(&mut *tx)
        .await?;
        cleared = done.rows_affected() > 0;
    }
    for (id, claim, outcome) in outcomes {
        let query = match outcome {
            Outcome::Sent { .. } => continue,
            Outcome::Done => sqlx::query(
                "UPDATE deliveries SET state = 'SENT', attempts = attempts + 1, last_error = NULL, updated_at = ? \
                 WHERE id = ? AND claim = ? AND state = 'SENDING'",
            )
            .bind(now),
            Outcome::Retry { due_at, error } => sqlx::query(
                "UPDATE deliveries SET state = 'RETRYING', attempts = attempts + 1, due_at = ?, last_error = ?, updated_at = ? \
                 WHERE id = ? AND claim = ? AND state = 'SENDING'",
            )
            .bind(due_at)
            .bind(error)
            .bind(now),
            Outcome::Wait { due_at } => sqlx::query(
                "UPDATE deliveries SET state = CASE attempts WHEN 0 THEN 'QUEUED' ELSE 'RETRYING' END, due_at = ? \
                 WHERE id = ? AND claim = ? AND state = 'SENDING'",
            )
            .bind(due_at),
            Outcome::Failed { error } => sqlx::query(
                "UPDATE deliveries SET state = 'FAILED', attempts = attempts + 1, last_error = ?, updated_at = ? \
                 WHERE id = ? AND claim = ? AND state = 'SENDING'",
            )
            .bind(error)
            .bind(now),
        };
        query.bind(id).bind(claim).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(cleared)
}

pub(super) async fn release_claims(writer: &Writer, now: i64) -> Result<u64, StoreError> {
    let mut connection = writer.get().await?;
    let done = sqlx::query(
        "UPDATE deliveries SET state = CASE attempts WHEN 0 THEN 'QUEUED' ELSE 'RETRYING' END, due_at = ? WHERE state = 'SENDING'",
    )
    .bind(now)
    .execute(&mut *connection)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn requeue(writer: &Writer, alert_id: &str, destination_id: Option<&str>, now: i64) -> Result<u64, StoreError> {
    use sqlx::Connection as _;
    let mut connection = writer.get().await?;
    let mut tx = connection.begin().await?;
    let requeue = |kinds: &'static str| {
        sqlx::query(if kinds == "POST" {
            "UPDATE deliveries SET state = 'QUEUED', attempts = 0, due_at = ?, last_error = NULL, updated_at = ? \
             WHERE alert_id = ? AND (? IS NULL OR destination_id = ?) AND state != 'SENDING' AND kind = 'POST'"
        } else {
            // The thread replies that failed for want of the message follow
            // it again, in their order, once it is posted.
            "UPDATE deliveries SET state = 'QUEUED', attempts = 0, due_at = ?, last_error = NULL, updated_at = ? \
             WHERE alert_id = ? AND (? IS NULL OR destination_id = ?) AND state = 'FAILED' AND kind = 'REPLY'"
        })
        .bind(now)
        .bind(now)
        .bind(alert_id)
        .bind(destination_id)
        .bind(destination_id)
    };
    let posts = requeue("POST").execute(&mut *tx).await?.rows_affected();
    if posts > 0 {
        requeue("REPLY").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(posts)
}

pub(super) async fn alert(pool: &SqlitePool, id: &str) -> Result<Option<AlertRecord>, StoreError> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?");
    sqlx::query(&sql).bind(id).fetch_optional(pool).await?.as_ref().map(rows::alert).transpose()
}

pub(super) async fn deliveries_of(pool: &SqlitePool, alert_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.destination_id, t.display_name, d.state, d.attempts, d.due_at, d.slack_channel, d.slack_ts, d.last_error, \
         d.updated_at FROM deliveries d JOIN destinations t ON t.id = d.destination_id WHERE d.alert_id = ? AND d.kind = 'POST' \
         ORDER BY t.display_name, d.id",
    )
    .bind(alert_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::delivery).collect()
}

pub(super) async fn list_alerts(pool: &SqlitePool, filter: &AlertFilter) -> Result<Vec<AlertListRow>, StoreError> {
    // The least advanced delivery: failed, retrying, sending, queued, sent.
    let sql = format!(
        "SELECT {ALERT_COLUMNS}, (SELECT min({DELIVERY_RANK}) FROM deliveries WHERE alert_id = alerts.id AND kind = 'POST') AS delivery_rank \
         FROM alerts WHERE (? = '[]' OR severity IN (SELECT value FROM json_each(?))) \
         AND (? = '[]' OR status IN (SELECT value FROM json_each(?))) \
         AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?) AND (NOT ? OR event_count > 1) \
         ORDER BY created_at DESC, rowid DESC LIMIT ?"
    );
    let severities = to_json(&filter.severities);
    let statuses = to_json(&filter.statuses);
    let rows = sqlx::query(&sql)
        .bind(&severities)
        .bind(&severities)
        .bind(&statuses)
        .bind(&statuses)
        .bind(filter.since)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.until)
        .bind(filter.repeated)
        .bind(filter.limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let delivery = rows::ranked_delivery(row.try_get("delivery_rank")?);
            Ok(AlertListRow { alert: rows::alert(row)?, delivery })
        })
        .collect()
}

pub(super) async fn set_delivery_problem(writer: &Writer, destination_id: &str, problem: Option<&str>) -> Result<bool, StoreError> {
    let mut connection = writer.get().await?;
    let done = sqlx::query("UPDATE destinations SET delivery_problem = ? WHERE id = ? AND delivery_problem IS NOT ?")
        .bind(problem)
        .bind(destination_id)
        .bind(problem)
        .execute(&mut *connection)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn delivery_health(pool: &SqlitePool, now: i64) -> Result<HashMap<String, DeliveryHealth>, StoreError> {
    let day_ago = now - 86_400_000;
    let rows = sqlx::query(
        "SELECT t.id, \
         (SELECT max(updated_at) FROM deliveries WHERE destination_id = t.id AND state = 'SENT' AND kind = 'POST') \
            AS last_sent_at, \
         (SELECT count(*) FROM deliveries WHERE destination_id = t.id AND state IN ('FAILED', 'RETRYING') AND updated_at >= ? \
            AND kind = 'POST') AS failures, \
         (SELECT last_error FROM deliveries WHERE destination_id = t.id AND last_error IS NOT NULL AND kind = 'POST' \
            ORDER BY updated_at DESC LIMIT 1) AS last_error \
         FROM destinations t",
    )
    .bind(day_ago)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let failures: i64 = row.try_get("failures")?;
            Ok((
                row.try_get("id")?,
                DeliveryHealth {
                    last_sent_at: row.try_get("last_sent_at")?,
                    failures_24h: u64::try_from(failures).unwrap_or(0),
                    last_error: row.try_get("last_error")?,
                },
            ))
        })
        .collect()
}

/// Deletes up to `limit` alerts (their deliveries and history with them)
/// whose last change — arrival, a delivery, an activity — is older than
/// `changed_before`, oldest first; none with a delivery still to go.
pub(super) async fn prune_alerts(writer: &Writer, changed_before: i64, limit: u32) -> Result<u64, StoreError> {
    let mut connection = writer.get().await?;
    let sql = format!(
        "DELETE FROM alerts WHERE id IN (SELECT a.id FROM alerts a WHERE a.received_at < ?1 \
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND (d.updated_at >= ?1 OR d.state IN {PENDING})) \
           AND NOT EXISTS (SELECT 1 FROM alert_activity t WHERE t.alert_id = a.id AND t.at >= ?1) \
           ORDER BY a.received_at LIMIT ?2)"
    );
    let done = sqlx::query(&sql).bind(changed_before).bind(i64::from(limit)).execute(&mut *connection).await?;
    Ok(done.rows_affected())
}

pub(super) async fn queue_depth(pool: &SqlitePool) -> Result<u64, StoreError> {
    let sql = format!(
        "SELECT (SELECT count(*) FROM deliveries WHERE state IN {PENDING} AND kind = 'POST') \
         + (SELECT count(*) FROM deliveries WHERE state IN {PENDING} AND kind != 'POST')"
    );
    let count: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) async fn apply_triage(writer: &Writer, change: &TriageChange, now: i64) -> Result<Option<AlertRecord>, StoreError> {
    let mut connection = writer.get().await?;
    apply_triage_on(&mut connection, change, now).await
}

async fn apply_triage_on(
    connection: &mut sqlx::SqliteConnection,
    change: &TriageChange,
    now: i64,
) -> Result<Option<AlertRecord>, StoreError> {
    use sqlx::Connection as _;
    // A person's change: on disk before Herald answers, like an alert.
    let mut tx = connection.begin_with("PRAGMA synchronous = FULL; BEGIN").await?;
    let (set_assignee, assignee) = match &change.assignee {
        None => (false, None),
        Some(assignee) => (true, assignee.as_ref()),
    };
    let sql = format!(
        "UPDATE alerts SET status = coalesce(?, status), \
         assignee_id = CASE WHEN ? THEN ? ELSE assignee_id END, \
         assignee_name = CASE WHEN ? THEN ? ELSE assignee_name END, \
         assignee_slack_id = CASE WHEN ? THEN ? ELSE assignee_slack_id END \
         WHERE id = ? AND (? IS NULL OR status = ?) AND (NOT ? OR assignee_id IS ?) RETURNING {ALERT_COLUMNS}"
    );
    let expected_status = change.expected_status.map(AlertStatus::as_str);
    let (check_assignee, expected_assignee) = match &change.expected_assignee {
        Some(id) => (true, id.as_deref()),
        None => (false, None),
    };
    let row = sqlx::query(&sql)
        .bind(change.status.map(AlertStatus::as_str))
        .bind(set_assignee)
        .bind(assignee.and_then(|a| a.user_id.as_deref()))
        .bind(set_assignee)
        .bind(assignee.map(|a| a.name.as_str()))
        .bind(set_assignee)
        .bind(assignee.and_then(|a| a.slack_id.as_deref()))
        .bind(&change.alert_id)
        .bind(expected_status)
        .bind(expected_status)
        .bind(check_assignee)
        .bind(expected_assignee)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        // Gone, or changed meanwhile (two clicks at once): the caller looks again.
        return Ok(None);
    };
    let alert = rows::alert(&row)?;
    let a = &change.activity;
    sqlx::query(
        "INSERT INTO alert_activity (alert_id, at, actor_id, actor_name, source, action, old_value, new_value, comment) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&change.alert_id)
    .bind(now)
    .bind(&a.actor_id)
    .bind(&a.actor_name)
    .bind(a.source.as_str())
    .bind(a.action.as_str())
    .bind(&a.old_value)
    .bind(&a.new_value)
    .bind(&a.comment)
    .execute(&mut *tx)
    .await?;
    // Follow the alert's messages wherever they were (or will be) posted.
    let follow = |kind: &'static str| {
        sqlx::query(
            "INSERT INTO deliveries (alert_id, destination_id, kind, body, state, due_at, updated_at) \
             SELECT alert_id, destination_id, ?, ?, 'QUEUED', ?, ? FROM deliveries \
             WHERE alert_id = ? AND kind = 'POST' AND state != 'FAILED' ORDER BY id",
        )
        .bind(kind)
    };
    if change.update_messages {
        follow("UPDATE").bind(None::<String>).bind(now).bind(now).bind(&change.alert_id).execute(&mut *tx).await?;
    }
    if let Some(reply) = &change.reply {
        follow("REPLY").bind(reply).bind(now).bind(now).bind(&change.alert_id).execute(&mut *tx).await?;
    }
    if alert.status != AlertStatus::Open || alert.assignee.is_some() {
        // Someone triaged it: no more reminders.
        sqlx::query("DELETE FROM reminders WHERE alert_id = ?").bind(&change.alert_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(alert))
}

pub(super) async fn send_reminders(
    writer: &Writer,
    now: i64,
    minute_ms: i64,
    limit: u32,
    text: ReminderText<'_>,
) -> Result<u64, StoreError> {
    use sqlx::Connection as _;
    let mut connection = writer.get().await?;
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    // Due, or to drop: the alert triaged meanwhile, its destination no
    // longer active or its reminders turned off, or all sent already.
    let due = sqlx::query(
        "SELECT r.alert_id, r.destination_id, r.since, r.sent, d.remind_after, d.remind_times, a.severity, \
           a.status = 'OPEN' AND a.assignee_name IS NULL AND d.status = 'ACTIVE' AS waiting \
         FROM reminders r JOIN destinations d ON d.id = r.destination_id JOIN alerts a ON a.id = r.alert_id \
         WHERE r.since + (r.sent + 1) * d.remind_after * ? <= ? OR d.remind_after = 0 OR r.sent >= d.remind_times \
           OR a.status != 'OPEN' OR a.assignee_name IS NOT NULL OR d.status != 'ACTIVE' \
         LIMIT ?",
    )
    .bind(minute_ms)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut queued = 0;
    for row in &due {
        let (alert_id, destination_id): (String, String) = (row.try_get("alert_id")?, row.try_get("destination_id")?);
        let reminder = rows::due_reminder(row, now, minute_ms)?;
        let finished = sqlx::query("DELETE FROM reminders WHERE alert_id = ? AND destination_id = ?").bind(&alert_id).bind(&destination_id);
        let Some(reminder) = reminder else {
            finished.execute(&mut *tx).await?;
            continue;
        };
        queued += sqlx::query(
            "INSERT INTO deliveries (alert_id, destination_id, kind, body, state, due_at, updated_at) \
             SELECT alert_id, destination_id, 'REPLY', ?, 'QUEUED', ?, ? FROM deliveries \
             WHERE alert_id = ? AND destination_id = ? AND kind = 'POST' AND state != 'FAILED'",
        )
        .bind(text(&reminder))
        .bind(now)
        .bind(now)
        .bind(&alert_id)
        .bind(&destination_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if reminder.number >= reminder.times {
            finished.execute(&mut *tx).await?;
        } else {
            // Those missed while no one sent (Herald down, the setting
            // shortened) are skipped: one reminder now, not a burst.
            sqlx::query("UPDATE reminders SET sent = ? WHERE alert_id = ? AND destination_id = ?")
                .bind(i64::from(reminder.number))
                .bind(&alert_id)
                .bind(&destination_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

pub(super) async fn activity_of(pool: &SqlitePool, alert_id: &str) -> Result<Vec<ActivityRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT at, actor_id, actor_name, source, action, old_value, new_value, comment FROM alert_activity WHERE alert_id = ? ORDER BY at, id",
    )
    .bind(alert_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::activity).collect()
}
