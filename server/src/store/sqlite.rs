//! The SQLite backend: one file, WAL mode, migrations embedded in the binary.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use futures_core::future::BoxFuture;
use herald_model::destination::{DestinationKind, DestinationSummary};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};

use super::{Store, StoreError};

/// The migrations, compiled in so the binary alone can create its database.
/// Append only: a released migration never changes.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "destinations",
    include_str!("../../migrations/sqlite/0001_destinations.sql"),
)];

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
}
