//! The SQLite backend: one file, WAL mode, migrations embedded in the binary.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use futures_core::future::BoxFuture;
use herald_model::account::{ApiTokenView, Email, Role, UserPatch, UserView};
use herald_model::destination::{DestinationKind, DestinationSummary};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqlitePool};

use super::{NewApiTokenRecord, NewUserRecord, Store, StoreError, UserRecord, new_id, now_rfc3339};

const USER_COLUMNS: &str = "id, email, display_name, role, enabled, created_at";
const TOKEN_COLUMNS: &str = "id, name, hint, created_at, last_used_at, revoked_at";

fn user_from_row(row: &SqliteRow) -> Result<UserView, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(UserView {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
        enabled: row.try_get("enabled")?,
        created_at: row.try_get("created_at")?,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<ApiTokenView, StoreError> {
    Ok(ApiTokenView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        hint: row.try_get("hint")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}

/// The migrations, compiled in so the binary alone can create its database.
/// Append only: a released migration never changes.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "destinations", include_str!("../../migrations/sqlite/0001_destinations.sql")),
    (2, "accounts", include_str!("../../migrations/sqlite/0002_accounts.sql")),
];

#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, Cow::Borrowed(sql), false)
                })
                .collect())
        })
    }
}

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("HERALD_DATABASE_URL: cannot read {url:?} as a SQLite URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let file = options.get_filename().to_path_buf();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty() && file.as_path() != std::path::Path::new(":memory:")) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the SQLite database {}", file.display()))?;
        Migrator::new(Embedded)
            .await
            .context("loading the embedded migrations")?
            .run(&pool)
            .await
            .with_context(|| format!("migrating the SQLite database {}", file.display()))?;
        Ok(SqliteStore { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn list_destinations(&self) -> Result<Vec<DestinationSummary>, StoreError> {
        let rows = sqlx::query("SELECT id, kind, display_name, created_at FROM destinations ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(DestinationSummary {
                    id: row.try_get("id")?,
                    display_name: row.try_get("display_name")?,
                    kind: DestinationKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown destination kind {kind:?}")))?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
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
        user_from_row(&row)
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_key = ?");
        let row = sqlx::query(&sql).bind(email.key()).fetch_optional(&self.pool).await?;
        row.map(|row| Ok(UserRecord { user: user_from_row(&row)?, password_hash: row.try_get("password_hash")? }))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserView>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email_key");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(user_from_row).collect()
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
        let user = user_from_row(&row)?;
        let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'ADMIN' AND enabled = 1")
            .fetch_one(&mut *tx)
            .await?;
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
        row.as_ref().map(user_from_row).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&self.pool).await?;
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
        token_from_row(&row)
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenView>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(token_from_row).collect()
    }

    async fn revoke_api_token(&self, id: &str) -> Result<ApiTokenView, StoreError> {
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(now_rfc3339()).bind(id).fetch_optional(&self.pool).await?;
        token_from_row(&row.ok_or(StoreError::NotFound("API token"))?)
    }

    async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenView>, StoreError> {
        let sql = format!(
            "UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ? AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(now_rfc3339()).bind(token_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_from_row).transpose()
    }
}
