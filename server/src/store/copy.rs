//! `herald migrate-db`: everything in a SQLite database, copied into an
//! empty PostgreSQL one in one transaction — users and sessions, API
//! tokens, destinations, Slack apps with their sealed secrets, alerts,
//! their history and the outbox — then counted on both sides. Secrets stay
//! sealed: the PostgreSQL-backed Herald needs the same key file.

use anyhow::{Context as _, bail, ensure};
use sqlx::{Connection as _, Row as _};

use super::Store as _;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

/// How a column is kept: SQLite's type, and what it becomes in PostgreSQL.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    /// 0 or 1 in SQLite, BOOLEAN in PostgreSQL.
    Flag,
    /// JSON text in SQLite, `jsonb` in PostgreSQL.
    Json,
}

use Kind::{Flag, Int, Json, Text};

/// Every table, parents before children, with every column. A column
/// missing here (a later migration's) stops the copy with its name.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("settings", &[("name", Text), ("value", Text)]),
    (
        "users",
        &[
            ("id", Text),
            ("email", Text),
            ("email_key", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("role", Text),
            ("enabled", Flag),
            ("created_at", Text),
        ],
    ),
    ("sessions", &[("token_hash", Text), ("user_id", Text), ("created_at", Int), ("expires_at", Int)]),
    (
        "api_tokens",
        &[
            ("id", Text),
            ("name", Text),
            ("token_hash", Text),
            ("hint", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("revoked_at", Text),
        ],
    ),
    (
        "destinations",
        &[
            ("id", Text),
            ("kind", Text),
            ("display_name", Text),
            ("created_at", Text),
            ("status", Text),
            ("wizard_step", Int),
            ("channel", Text),
            ("client_id", Text),
            ("severities", Json),
            ("alert_kinds", Json),
            ("log_types", Json),
            ("timezone", Text),
            ("updated_at", Text),
            ("delivery_problem", Text),
            ("dedup_window", Int),
            ("mentions", Json),
            ("remind_after", Int),
            ("remind_times", Int),
        ],
    ),
    (
        "slack_apps",
        &[
            ("id", Text),
            ("client_id", Text),
            ("client_secret", Text),
            ("client_secret_hint", Text),
            ("signing_secret", Text),
            ("signing_secret_hint", Text),
            ("bot_token", Text),
            ("bot_token_hint", Text),
            ("app_token", Text),
            ("app_token_hint", Text),
            ("created_at", Text),
            ("updated_at", Text),
            ("problem", Text),
            ("team_id", Text),
            ("team_name", Text),
            ("enterprise_id", Text),
            ("is_enterprise_install", Flag),
            ("bot_user_id", Text),
            ("app_id", Text),
            ("scopes", Text),
            ("refresh_token", Text),
            ("refresh_token_hint", Text),
            ("token_expires_at", Int),
        ],
    ),
    ("slack_events", &[("event_id", Text), ("received_at", Text)]),
    ("oauth_states", &[("state_hash", Text), ("destination_id", Text), ("expires_at", Int), ("used", Flag)]),
    (
        "alerts",
        &[
            ("id", Text),
            ("title", Text),
            ("severity", Text),
            ("type", Text),
            ("status", Text),
            ("detection_id", Text),
            ("log_types", Json),
            ("tags", Json),
            ("description", Text),
            ("runbook", Text),
            ("reference", Text),
            ("alert_context", Text),
            ("created_at", Int),
            ("received_at", Int),
            ("assignee_id", Text),
            ("assignee_name", Text),
            ("assignee_slack_id", Text),
            ("dedup_key", Text),
            ("event_count", Int),
            ("last_seen_at", Int),
            ("earlier_events", Json),
            ("links", Json),
        ],
    ),
    (
        "deliveries",
        &[
            ("id", Int),
            ("alert_id", Text),
            ("destination_id", Text),
            ("kind", Text),
            ("body", Text),
            ("state", Text),
            ("attempts", Int),
            ("due_at", Int),
            ("slack_channel", Text),
            ("slack_ts", Text),
            ("last_error", Text),
            ("updated_at", Int),
            ("claim", Int),
        ],
    ),
    (
        "alert_activity",
        &[
            ("id", Int),
            ("alert_id", Text),
            ("at", Int),
            ("actor_id", Text),
            ("actor_name", Text),
            ("source", Text),
            ("action", Text),
            ("old_value", Text),
            ("new_value", Text),
            ("comment", Text),
        ],
    ),
    ("reminders", &[("alert_id", Text), ("destination_id", Text), ("since", Int), ("sent", Int)]),
];

/// Tables that are the running server's and start empty in the copy.
const NOT_COPIED: &[&str] = &["leases", "_sqlx_migrations"];

/// Copies the SQLite database `from` into the empty PostgreSQL database
/// `to` (both migrated first); the rows copied, per table.
pub async fn sqlite_to_postgres(from: &str, to: &str) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let file = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(from)
        .context("--from: not a SQLite URL")?
        .get_filename()
        .to_path_buf();
    ensure!(file.is_file(), "--from: there is no SQLite database at {}", file.display());
    // Both brought to the newest schema first.
    SqliteStore::open(from).await.context("--from: opening the SQLite database")?.close().await;
    PgStore::open(to, 2).await.context("--to: opening the PostgreSQL database")?.close().await;
    let mut source = sqlx::SqliteConnection::connect(from).await.context("--from: opening the SQLite database")?;
    let mut target = sqlx::PgConnection::connect(to).await.context("--to: connecting to PostgreSQL")?;

    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .fetch_all(&mut source)
        .await?;
    for table in &tables {
        let Some((_, columns)) = TABLES.iter().find(|(name, _)| name == table) else {
            ensure!(NOT_COPIED.contains(&table.as_str()), "herald migrate-db does not know the table {table}: nothing was copied");
            continue;
        };
        let known: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')")).fetch_all(&mut source).await?;
        for column in &known {
            ensure!(
                columns.iter().any(|(c, _)| c == column),
                "herald migrate-db does not know the column {table}.{column}: nothing was copied"
            );
        }
    }

    let mut tx = target.begin().await?;
    let mut held = Vec::new();
    for (table, _) in TABLES {
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut *tx).await?;
        if count > 0 {
            held.push(format!("{count} in {table}"));
        }
    }
    if !held.is_empty() {
        bail!("--to: the PostgreSQL database holds data already ({}); copy into an empty database only", held.join(", "));
    }

    let mut copied = Vec::with_capacity(TABLES.len());
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let select =
            format!("SELECT {} FROM {table} ORDER BY rowid", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "));
        let values: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| match kind {
                Json => format!("${}::jsonb", i + 1),
                _ => format!("${}", i + 1),
            })
            .collect();
        // Their own IDs: the order of a message's updates and replies.
        let overriding = if names.contains(&"id") && matches!(columns[0].1, Int) { "OVERRIDING SYSTEM VALUE " } else { "" };
        let insert = format!(
            "INSERT INTO {table} ({}) {overriding}VALUES ({})",
            names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
            values.join(", ")
        );
        let rows = sqlx::query(&select).fetch_all(&mut source).await.with_context(|| format!("reading {table}"))?;
        for row in &rows {
            let mut query = sqlx::query(&insert);
            for (i, (_, kind)) in columns.iter().enumerate() {
                query = match kind {
                    // PostgreSQL holds no NUL character (older rows may).
                    Text => query.bind(row.try_get::<Option<String>, _>(i)?.map(|s| s.replace('\0', ""))),
                    Json => query.bind(row.try_get::<Option<String>, _>(i)?.map(|s| s.replace("\\u0000", ""))),
                    Int => query.bind(row.try_get::<Option<i64>, _>(i)?),
                    Flag => query.bind(row.try_get::<Option<bool>, _>(i)?),
                };
            }
            query.execute(&mut *tx).await.with_context(|| format!("copying a row of {table}"))?;
        }
        if !overriding.is_empty() {
            // New rows go on from the highest ID copied.
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await?;
        }
        let there: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut *tx).await?;
        ensure!(there == rows.len() as i64, "{table}: {} rows read, {there} in PostgreSQL: nothing was copied", rows.len());
        copied.push((*table, rows.len() as u64));
    }
    tx.commit().await.context("committing the copy")?;
    Ok(copied)
}
