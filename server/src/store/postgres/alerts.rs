//! Alerts and the outbox of their deliveries, in PostgreSQL. Batches go in
//! one transaction each and lists travel as array parameters; workers on
//! any replica claim with `FOR UPDATE SKIP LOCKED`, so no two take the same
//! delivery and none waits for another.

use std::collections::HashMap;
use std::sync::Arc;

use herald_model::alert::{ActivitySource, AlertStatus};
use sqlx::{PgPool, Row as _};

use crate::store::rows::{self, DELIVERY_RANK, state, to_json};
use crate::store::{
    ActivityRecord, AlertFilter, AlertListRow, AlertRecord, ClaimedDelivery, DeliveryHealth, DeliveryKind, DeliveryRecord, NewAlertRecord,
    Outcome, PostRef, ReminderText, StoreError, Stored, TriageChange,
};

const ALERT_COLUMNS: &str = "id, title, severity, type, status, detection_id, log_types::text AS log_types, tags::text AS tags, \
     description, runbook, reference, alert_context, created_at, received_at, assignee_id, assignee_name, assignee_slack_id, dedup_key, \
     event_count, last_seen_at, earlier_events::text AS earlier_events, links::text AS links";

/// A folded alert's message is updated at most this often (ms), however
/// fast its events come.
const FOLD_UPDATE_GAP_MS: i64 = 10_000;

/// The states a worker may claim from.
const PENDING: &str = "('QUEUED', 'RETRYING', 'SENDING')";

pub(super) async fn insert_alerts(pool: &PgPool, alerts: &[NewAlertRecord], now: i64) -> Result<Vec<Stored>, StoreError> {
    let mut tx = pool.begin().await?;
    // Events of one key fold on one replica at a time: a second batch with
    // the key waits here, then finds the alert the first made or folded
    // into. Taken in one order, so two batches cannot deadlock.
    let mut keys: Vec<&str> = alerts.iter().filter(|n| n.fold_since.is_some()).filter_map(|n| n.alert.dedup_key.as_deref()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key).execute(&mut *tx).await?;
    }
    let mut stored = Vec::with_capacity(alerts.len());
    for new in alerts {
        let a = &new.alert;
        if let Some(folded) = fold(&mut tx, new, now).await? {
            stored.push(folded);
            continue;
        }
        let inserted = sqlx::query(
            "INSERT INTO alerts (id, title, severity, type, status, detection_id, log_types, tags, description, runbook, \
             reference, alert_context, created_at, received_at, dedup_key, links) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16::jsonb) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&a.id)
        .bind(&a.content.title)
        .bind(a.content.severity.as_str())
        .bind(a.content.alert_type.as_str())
        .bind(a.status.as_str())
        .bind(&a.content.detection_id)
        .bind(to_json(&a.content.log_types))
        .bind(to_json(&a.content.tags))
        .bind(&a.content.description)
        .bind(&a.content.runbook)
        .bind(&a.content.reference)
        .bind(&a.alert_context)
        .bind(a.created_at)
        .bind(a.received_at)
        .bind(&a.dedup_key)
        .bind(to_json(&a.content.links))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let mut deliveries = 0;
        if inserted && !new.destination_ids.is_empty() {
            deliveries = sqlx::query(
                "INSERT INTO deliveries (alert_id, destination_id, state, due_at, updated_at) \
                 SELECT $1, d.id, 'QUEUED', $2, $2 FROM unnest($3::text[]) WITH ORDINALITY AS d (id, n) \
                 WHERE d.id IN (SELECT id FROM destinations) ORDER BY d.n ON CONFLICT DO NOTHING",
            )
            .bind(&a.id)
            .bind(now)
            .bind(&new.destination_ids)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        if inserted && deliveries > 0 && a.status == AlertStatus::Open {
            sqlx::query(
                "INSERT INTO reminders (alert_id, destination_id, since) SELECT $1, id, $2 FROM destinations \
                 WHERE remind_after > 0 AND id = ANY($3::text[])",
            )
            .bind(&a.id)
            .bind(now)
            .bind(&new.destination_ids)
            .execute(&mut *tx)
            .await?;
        }
        if !inserted {
            // A repeat: say how many destinations the first one went to.
            let existing: i64 =
                sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE alert_id = $1").bind(&a.id).fetch_one(&mut *tx).await?;
            deliveries = usize::try_from(existing).unwrap_or(0);
        }
        stored.push(Stored { id: a.id.clone(), created: inserted, deliveries, folded: false });
    }
    tx.commit().await?;
    Ok(stored)
}

/// Folds the alert into an open one with its key, if there is one (see
/// [`NewAlertRecord::fold_since`]), as the SQLite backend does: one more
/// event, the latest context, the history's count of events, and an update
/// of each message posted, at most one every [`FOLD_UPDATE_GAP_MS`].
async fn fold(tx: &mut sqlx::PgConnection, new: &NewAlertRecord, now: i64) -> Result<Option<Stored>, StoreError> {
    let a = &new.alert;
    let (Some(key), Some(since)) = (&a.dedup_key, new.fold_since) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE dedup_key = $1 AND severity = $2 AND status IN ('OPEN', 'TRIAGED') \
         AND coalesce(last_seen_at, received_at) >= $3 AND NOT EXISTS (SELECT 1 FROM alerts WHERE id = $4) \
         AND NOT EXISTS (SELECT 1 FROM unnest($5::text[]) AS j (id) WHERE j.id NOT IN \
           (SELECT destination_id FROM deliveries WHERE alert_id = alerts.id AND kind = 'POST')) \
         ORDER BY received_at DESC, seq DESC LIMIT 1 FOR UPDATE"
    );
    let row = sqlx::query(&sql)
        .bind(key)
        .bind(a.content.severity.as_str())
        .bind(since)
        .bind(&a.id)
        .bind(&new.destination_ids)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let into = rows::alert(&row)?;
    let mut earlier = into.earlier_events;
    earlier.insert(0, crate::store::EarlierEventRecord { at: into.last_seen_at, context: into.alert_context });
    earlier.truncate(herald_model::alert::MAX_EARLIER_EVENTS);
    sqlx::query(
        "UPDATE alerts SET event_count = event_count + 1, last_seen_at = $1, alert_context = $2, earlier_events = $3::jsonb WHERE id = $4",
    )
    .bind(now)
    .bind(&a.alert_context)
    .bind(to_json(&earlier))
    .bind(&into.id)
    .execute(&mut *tx)
    .await?;
    // "12 more events": one entry for a run of them, the latest at its end.
    let counted = sqlx::query(
        "UPDATE alert_activity SET at = $1, new_value = (new_value::bigint + 1)::text WHERE id = \
         (SELECT id FROM alert_activity WHERE alert_id = $2 ORDER BY at DESC, id DESC LIMIT 1) AND action = 'EVENTS'",
    )
    .bind(now)
    .bind(&into.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if counted == 0 {
        sqlx::query(
            "INSERT INTO alert_activity (alert_id, at, actor_name, source, action, new_value) VALUES ($1, $2, $3, 'API', 'EVENTS', '1')",
        )
        .bind(&into.id)
        .bind(now)
        .bind(ActivitySource::Api.label())
        .execute(&mut *tx)
        .await?;
    }
    // A message not claimed yet is built as the alert is when it goes; one
    // that is (or is being) posted gets an update, unless one is waiting.
    sqlx::query(
        "INSERT INTO deliveries (alert_id, destination_id, kind, state, due_at, updated_at) \
         SELECT p.alert_id, p.destination_id, 'UPDATE', 'QUEUED', greatest($1, coalesce((SELECT max(u.updated_at) FROM deliveries u \
           WHERE u.alert_id = p.alert_id AND u.destination_id = p.destination_id AND u.state = 'SENT'), 0) + $2), $1 \
         FROM deliveries p WHERE p.alert_id = $3 AND p.kind = 'POST' AND p.state IN ('SENT', 'SENDING') \
         AND NOT EXISTS (SELECT 1 FROM deliveries q WHERE q.alert_id = p.alert_id AND q.destination_id = p.destination_id \
           AND q.kind = 'UPDATE' AND q.state IN ('QUEUED', 'RETRYING')) ORDER BY p.id",
    )
    .bind(now)
    .bind(FOLD_UPDATE_GAP_MS)
    .bind(&into.id)
    .execute(&mut *tx)
    .await?;
    let deliveries: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE alert_id = $1 AND kind = 'POST'")
        .bind(&into.id)
        .fetch_one(&mut *tx)
        .await?;
    Ok(Some(Stored { id: into.id, created: false, deliveries: usize::try_from(deliveries).unwrap_or(0), folded: true }))
}

pub(super) async fn claim_deliveries(pool: &PgPool, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<ClaimedDelivery>, StoreError> {
    // Rows another worker is claiming right now are skipped, not waited for.
    let sql = format!(
        "WITH posts AS (SELECT id FROM deliveries WHERE state IN {PENDING} AND kind = 'POST' AND due_at <= $2 \
           ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED), \
         follow_ups AS (SELECT id FROM deliveries d WHERE state IN {PENDING} AND kind != 'POST' AND due_at <= $2 \
            AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.alert_id = d.alert_id \
              AND p.destination_id = d.destination_id AND p.kind = 'POST' AND p.state IN {PENDING}) \
            AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.alert_id = d.alert_id \
              AND e.destination_id = d.destination_id AND e.kind != 'POST' AND e.id < d.id AND e.state IN {PENDING}) \
           ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
         UPDATE deliveries SET state = 'SENDING', due_at = $1, claim = claim + 1 \
         FROM (SELECT id FROM posts UNION ALL SELECT id FROM follow_ups) AS due WHERE deliveries.id = due.id \
         RETURNING deliveries.id, alert_id, destination_id, attempts, claim, kind, body"
    );
    // Updates and replies take at most a quarter of the room: never more
    // than `limit` in all.
    let follow_up_limit = limit / 4;
    let rows = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(now)
        .bind(i64::from(limit - follow_up_limit))
        .bind(i64::from(follow_up_limit))
        .fetch_all(pool)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut claimed = Vec::with_capacity(rows.len());
    let mut alert_ids = Vec::with_capacity(rows.len());
    let mut follow_ups = false;
    for row in &rows {
        let alert_id: String = row.try_get("alert_id")?;
        let kind = match row.try_get::<String, _>("kind")?.as_str() {
            "UPDATE" => DeliveryKind::Update,
            "REPLY" => DeliveryKind::Reply(row.try_get::<Option<String>, _>("body")?.unwrap_or_default()),
            _ => DeliveryKind::Post,
        };
        follow_ups |= kind != DeliveryKind::Post;
        let attempts: i64 = row.try_get("attempts")?;
        claimed.push((
            row.try_get::<i64, _>("id")?,
            row.try_get::<i64, _>("claim")?,
            row.try_get::<String, _>("destination_id")?,
            attempts,
            alert_id.clone(),
            kind,
        ));
        alert_ids.push(alert_id);
    }
    // The rows come back in no set order: hand them on oldest first.
    claimed.sort_by_key(|c| c.0);
    alert_ids.sort_unstable();
    alert_ids.dedup();
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ANY($1)");
    let mut alerts = HashMap::with_capacity(alert_ids.len());
    for row in sqlx::query(&sql).bind(&alert_ids).fetch_all(pool).await? {
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
            "SELECT alert_id, destination_id, state, slack_channel, slack_ts FROM deliveries WHERE kind = 'POST' AND alert_id = ANY($1)",
        )
        .bind(&alert_ids)
        .fetch_all(pool)
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
             updated_at = $1 WHERE id = ANY($2)",
        )
        .bind(now)
        .bind(&unreadable)
        .execute(pool)
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

pub(super) async fn finish_deliveries(pool: &PgPool, outcomes: &[(i64, i64, Outcome)], now: i64) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    // Each outcome counts only for the claim it ends (`claim`, still
    // SENDING): a later claim records its own.
    let mut sent: (Vec<i64>, Vec<i64>, Vec<&str>, Vec<&str>) = Default::default();
    for (id, claim, outcome) in outcomes {
        if let Outcome::Sent { channel, ts } = outcome {
            sent.0.push(*id);
            sent.1.push(*claim);
            sent.2.push(channel);
            sent.3.push(ts);
        }
    }
    if !sent.0.is_empty() {
        // Messages that got through (nearly all of them): one statement.
        sqlx::query(
            "UPDATE deliveries SET state = 'SENT', attempts = attempts + 1, slack_channel = j.channel, slack_ts = j.ts, \
             last_error = NULL, updated_at = $1 FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS j (id, claim, channel, ts) \
             WHERE deliveries.id = j.id AND deliveries.claim = j.claim AND deliveries.state = 'SENDING'",
        )
        .bind(now)
        .bind(&sent.0)
        .bind(&sent.1)
        .bind(&sent.2)
        .bind(&sent.3)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE destinations SET delivery_problem = NULL WHERE delivery_problem IS NOT NULL AND id IN \
             (SELECT destination_id FROM deliveries WHERE id = ANY($1))",
        )
        .bind(&sent.0)
        .execute(&mut *tx)
        .await?;
    }
    for (id, claim, outcome) in outcomes {
        let query = match outcome {
            Outcome::Sent { .. } => continue,
            Outcome::Done => sqlx::query(
                "UPDATE deliveries SET state = 'SENT', attempts = attempts + 1, last_error = NULL, updated_at = $1 \
                 WHERE id = $2 AND claim = $3 AND state = 'SENDING'",
            )
            .bind(now),
            Outcome::Retry { due_at, error } => sqlx::query(
                "UPDATE deliveries SET state = 'RETRYING', attempts = attempts + 1, due_at = $1, last_error = $2, updated_at = $3 \
                 WHERE id = $4 AND claim = $5 AND state = 'SENDING'",
            )
            .bind(due_at)
            .bind(error)
            .bind(now),
            Outcome::Wait { due_at } => sqlx::query(
                "UPDATE deliveries SET state = CASE attempts WHEN 0 THEN 'QUEUED' ELSE 'RETRYING' END, due_at = $1 \
                 WHERE id = $2 AND claim = $3 AND state = 'SENDING'",
            )
            .bind(due_at),
            Outcome::Failed { error } => sqlx::query(
                "UPDATE deliveries SET state = 'FAILED', attempts = attempts + 1, last_error = $1, updated_at = $2 \
                 WHERE id = $3 AND claim = $4 AND state = 'SENDING'",
            )
            .bind(error)
            .bind(now),
        };
        query.bind(id).bind(claim).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn release_claims(pool: &PgPool, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE deliveries SET state = CASE attempts WHEN 0 THEN 'QUEUED' ELSE 'RETRYING' END, due_at = $1 WHERE state = 'SENDING'",
    )
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn requeue(pool: &PgPool, alert_id: &str, destination_id: Option<&str>, now: i64) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let requeue = |kinds: &'static str| {
        sqlx::query(if kinds == "POST" {
            "UPDATE deliveries SET state = 'QUEUED', attempts = 0, due_at = $1, last_error = NULL, updated_at = $1 \
             WHERE alert_id = $2 AND ($3::text IS NULL OR destination_id = $3) AND state != 'SENDING' AND kind = 'POST'"
        } else {
            // The thread replies that failed for want of the message follow
            // it again, in their order, once it is posted.
            "UPDATE deliveries SET state = 'QUEUED', attempts = 0, due_at = $1, last_error = NULL, updated_at = $1 \
             WHERE alert_id = $2 AND ($3::text IS NULL OR destination_id = $3) AND state = 'FAILED' AND kind = 'REPLY'"
        })
        .bind(now)
        .bind(alert_id)
        .bind(destination_id)
    };
    let posts = requeue("POST").execute(&mut *tx).await?.rows_affected();
    if posts > 0 {
        requeue("REPLY").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(posts)
}

pub(super) async fn alert(pool: &PgPool, id: &str) -> Result<Option<AlertRecord>, StoreError> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(pool).await?.as_ref().map(rows::alert).transpose()
}

pub(super) async fn deliveries_of(pool: &PgPool, alert_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
    let found = sqlx::query(
        "SELECT d.destination_id, t.display_name, d.state, d.attempts, d.due_at, d.slack_channel, d.slack_ts, d.last_error, \
         d.updated_at FROM deliveries d JOIN destinations t ON t.id = d.destination_id WHERE d.alert_id = $1 AND d.kind = 'POST' \
         ORDER BY t.display_name, d.id",
    )
    .bind(alert_id)
    .fetch_all(pool)
    .await?;
    found.iter().map(rows::delivery).collect()
}

pub(super) async fn list_alerts(pool: &PgPool, filter: &AlertFilter) -> Result<Vec<AlertListRow>, StoreError> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS}, (SELECT min({DELIVERY_RANK}) FROM deliveries WHERE alert_id = alerts.id AND kind = 'POST')::bigint \
         AS delivery_rank FROM alerts WHERE (cardinality($1::text[]) = 0 OR severity = ANY($1)) \
         AND (cardinality($2::text[]) = 0 OR status = ANY($2)) \
         AND ($3::bigint IS NULL OR created_at >= $3) AND ($4::bigint IS NULL OR created_at < $4) AND (NOT $5 OR event_count > 1) \
         ORDER BY created_at DESC, seq DESC LIMIT $6"
    );
    let severities: Vec<&str> = filter.severities.iter().map(|s| s.as_str()).collect();
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let found = sqlx::query(&sql)
        .bind(&severities)
        .bind(&statuses)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.repeated)
        .bind(i64::from(filter.limit))
        .fetch_all(pool)
        .await?;
    found
        .iter()
        .map(|row| Ok(AlertListRow { alert: rows::alert(row)?, delivery: rows::ranked_delivery(row.try_get("delivery_rank")?) }))
        .collect()
}

pub(super) async fn delivery_health(pool: &PgPool, now: i64) -> Result<HashMap<String, DeliveryHealth>, StoreError> {
    let day_ago = now - 86_400_000;
    let found = sqlx::query(
        "SELECT t.id, \
         (SELECT max(updated_at) FROM deliveries WHERE destination_id = t.id AND state = 'SENT' AND kind = 'POST') \
            AS last_sent_at, \
         (SELECT count(*) FROM deliveries WHERE destination_id = t.id AND state IN ('FAILED', 'RETRYING') AND updated_at >= $1 \
            AND kind = 'POST') AS failures, \
         (SELECT last_error FROM deliveries WHERE destination_id = t.id AND last_error IS NOT NULL AND kind = 'POST' \
            ORDER BY updated_at DESC LIMIT 1) AS last_error \
         FROM destinations t",
    )
    .bind(day_ago)
    .fetch_all(pool)
    .await?;
    found
        .iter()
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
/// whose last change is older than `changed_before`, oldest first; none
/// with a delivery still to go.
pub(super) async fn prune_alerts(pool: &PgPool, changed_before: i64, limit: u32) -> Result<u64, StoreError> {
    let sql = format!(
        "DELETE FROM alerts WHERE id IN (SELECT a.id FROM alerts a WHERE a.received_at < $1 \
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND (d.updated_at >= $1 OR d.state IN {PENDING})) \
           AND NOT EXISTS (SELECT 1 FROM alert_activity t WHERE t.alert_id = a.id AND t.at >= $1) \
           ORDER BY a.received_at LIMIT $2)"
    );
    let done = sqlx::query(&sql).bind(changed_before).bind(i64::from(limit)).execute(pool).await?;
    Ok(done.rows_affected())
}

pub(super) async fn queue_depth(pool: &PgPool) -> Result<u64, StoreError> {
    let sql = format!("SELECT count(*) FROM deliveries WHERE state IN {PENDING}");
    let count: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) async fn apply_triage(pool: &PgPool, change: &TriageChange, now: i64) -> Result<Option<AlertRecord>, StoreError> {
    let mut tx = pool.begin().await?;
    let (set_assignee, assignee) = match &change.assignee {
        None => (false, None),
        Some(assignee) => (true, assignee.as_ref()),
    };
    // The row lock makes a second change at once wait, then check what it
    // expects against this one's result.
    let sql = format!(
        "UPDATE alerts SET status = coalesce($1, status), \
         assignee_id = CASE WHEN $2 THEN $3 ELSE assignee_id END, \
         assignee_name = CASE WHEN $2 THEN $4 ELSE assignee_name END, \
         assignee_slack_id = CASE WHEN $2 THEN $5 ELSE assignee_slack_id END \
         WHERE id = $6 AND ($7::text IS NULL OR status = $7) AND (NOT $8 OR assignee_id IS NOT DISTINCT FROM $9) \
         RETURNING {ALERT_COLUMNS}"
    );
    let (check_assignee, expected_assignee) = match &change.expected_assignee {
        Some(id) => (true, id.as_deref()),
        None => (false, None),
    };
    let row = sqlx::query(&sql)
        .bind(change.status.map(AlertStatus::as_str))
        .bind(set_assignee)
        .bind(assignee.and_then(|a| a.user_id.as_deref()))
        .bind(assignee.map(|a| a.name.as_str()))
        .bind(assignee.and_then(|a| a.slack_id.as_deref()))
        .bind(&change.alert_id)
        .bind(change.expected_status.map(AlertStatus::as_str))
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
    let follow = |kind: &'static str, body: Option<&str>| {
        sqlx::query(
            "INSERT INTO deliveries (alert_id, destination_id, kind, body, state, due_at, updated_at) \
             SELECT alert_id, destination_id, $1, $2, 'QUEUED', $3, $3 FROM deliveries \
             WHERE alert_id = $4 AND kind = 'POST' AND state != 'FAILED' ORDER BY id",
        )
        .bind(kind)
        .bind(body.map(str::to_owned))
        .bind(now)
        .bind(change.alert_id.clone())
    };
    if change.update_messages {
        follow("UPDATE", None).execute(&mut *tx).await?;
    }
    if let Some(reply) = &change.reply {
        follow("REPLY", Some(reply)).execute(&mut *tx).await?;
    }
    if alert.status != AlertStatus::Open || alert.assignee.is_some() {
        // Someone triaged it: no more reminders.
        sqlx::query("DELETE FROM reminders WHERE alert_id = $1").bind(&change.alert_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(alert))
}

/// As the SQLite backend does; rows another replica is sending are
/// skipped, not waited for.
pub(super) async fn send_reminders(pool: &PgPool, now: i64, minute_ms: i64, limit: u32, text: ReminderText<'_>) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let due = sqlx::query(
        "SELECT r.alert_id, r.destination_id, r.since, r.sent, d.remind_after, d.remind_times, a.severity, \
           a.status = 'OPEN' AND a.assignee_name IS NULL AND d.status = 'ACTIVE' AS waiting \
         FROM reminders r JOIN destinations d ON d.id = r.destination_id JOIN alerts a ON a.id = r.alert_id \
         WHERE r.since + (r.sent + 1) * d.remind_after * $1 <= $2 OR d.remind_after = 0 OR r.sent >= d.remind_times \
           OR a.status != 'OPEN' OR a.assignee_name IS NOT NULL OR d.status != 'ACTIVE' \
         LIMIT $3 FOR UPDATE OF r SKIP LOCKED",
    )
    .bind(minute_ms)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut queued = 0;
    for row in &due {
        let (alert_id, destination_id): (String, String) = (row.try_get("alert_id")?, row.try_get("destination_id")?);
        let finished =
            sqlx::query("DELETE FROM reminders WHERE alert_id = $1 AND destination_id = $2").bind(&alert_id).bind(&destination_id);
        let Some(reminder) = rows::due_reminder(row, now, minute_ms)? else {
            finished.execute(&mut *tx).await?;
            continue;
        };
        queued += sqlx::query(
            "INSERT INTO deliveries (alert_id, destination_id, kind, body, state, due_at, updated_at) \
             SELECT alert_id, destination_id, 'REPLY', $1, 'QUEUED', $2, $2 FROM deliveries \
             WHERE alert_id = $3 AND destination_id = $4 AND kind = 'POST' AND state != 'FAILED'",
        )
        .bind(text(&reminder))
        .bind(now)
        .bind(&alert_id)
        .bind(&destination_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if reminder.number >= reminder.times {
            finished.execute(&mut *tx).await?;
        } else {
            sqlx::query("UPDATE reminders SET sent = $1 WHERE alert_id = $2 AND destination_id = $3")
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

pub(super) async fn activity_of(pool: &PgPool, alert_id: &str) -> Result<Vec<ActivityRecord>, StoreError> {
    let found = sqlx::query(
        "SELECT at, actor_id, actor_name, source, action, old_value, new_value, comment FROM alert_activity \
         WHERE alert_id = $1 ORDER BY at, id",
    )
    .bind(alert_id)
    .fetch_all(pool)
    .await?;
    found.iter().map(rows::activity).collect()
}
