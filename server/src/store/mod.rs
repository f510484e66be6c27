//! Storage behind one small trait. SQLite is the default backend; a Postgres
//! backend (for several replicas) will be a second implementation picked by
//! the database URL, with its own migrations folder.

mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use herald_model::destination::DestinationSummary;

use crate::settings::DatabaseUrl;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// Everything Herald persists goes through this trait.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database can run a query (`/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Finishes writes and closes connections (at shutdown).
    async fn close(&self);

    /// All destinations, oldest first.
    async fn list_destinations(&self) -> Result<Vec<DestinationSummary>, StoreError>;
}

/// Connects to the database the URL names, creating and migrating it if needed.
pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite(url) => Ok(Arc::new(sqlite::SqliteStore::open(url).await?)),
        DatabaseUrl::Postgres(_) => anyhow::bail!(
            "HERALD_DATABASE_URL: Postgres is not supported yet; use sqlite://<path> (the default is sqlite://data/herald.db)"
        ),
    }
}
