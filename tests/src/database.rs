//! Which database the end-to-end tests run Herald on, and a look inside it
//! for the few tests that change or read rows directly. `cargo xtask test`
//! runs the suite twice: on SQLite, then with `HERALD_TEST_BACKEND=postgres`
//! on the throwaway PostgreSQL it started (`HERALD_TEST_DATABASE_URL`).

use herald_server::settings::DatabaseUrl;
use herald_server::store::postgres::scratch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend this run tests: `HERALD_TEST_BACKEND` (`sqlite`, the
/// default, or `postgres`).
pub fn backend() -> Backend {
    match std::env::var("HERALD_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("HERALD_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

/// A scratch PostgreSQL database for one Herald (and its restarts).
pub async fn scratch_postgres() -> scratch::Database {
    let server = std::env::var("HERALD_TEST_DATABASE_URL").expect(
        "testing Herald on PostgreSQL needs HERALD_TEST_DATABASE_URL, a PostgreSQL server to make databases on \
         (cargo xtask test starts one)",
    );
    scratch::Database::create(&server).await.expect("a scratch database on HERALD_TEST_DATABASE_URL's server")
}

/// A connection to the database a Herald runs on. Statements use `$1`
/// for their parameter: SQLite reads it as PostgreSQL does.
pub enum Database {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Database {
    pub async fn connect(url: &DatabaseUrl) -> Database {
        match url {
            DatabaseUrl::Sqlite(url) => Database::Sqlite(sqlx::SqlitePool::connect(url).await.expect("opening the SQLite file")),
            DatabaseUrl::Postgres(url) => Database::Postgres(sqlx::PgPool::connect(url).await.expect("connecting to PostgreSQL")),
        }
    }

    /// Runs a statement with one number for `$1`.
    pub async fn execute(&self, sql: &str, value: i64) {
        match self {
            Database::Sqlite(pool) => sqlx::query(sql).bind(value).execute(pool).await.map(drop),
            Database::Postgres(pool) => sqlx::query(sql).bind(value).execute(pool).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The number a `SELECT count(*) …` gives.
    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every row of every table, as text: what someone who got hold of the
    /// database could read.
    pub async fn every_row(&self) -> String {
        let mut all = String::new();
        match self {
            Database::Sqlite(pool) => {
                let tables: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(pool).await.unwrap();
                for table in tables {
                    let columns: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')")).fetch_all(pool).await.unwrap();
                    let row =
                        columns.iter().map(|c| format!("coalesce(CAST(\"{c}\" AS TEXT), '')")).collect::<Vec<_>>().join(" || ' ' || ");
                    let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {row} FROM \"{table}\"")).fetch_all(pool).await.unwrap();
                    all.extend(rows.into_iter().map(|r| r + "\n"));
                }
            }
            Database::Postgres(pool) => {
                let tables: Vec<String> =
                    sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'").fetch_all(pool).await.unwrap();
                for table in tables {
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t")).fetch_all(pool).await.unwrap();
                    all.extend(rows.into_iter().map(|r| r + "\n"));
                }
            }
        }
        all
    }

    pub async fn close(self) {
        match self {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres(pool) => pool.close().await,
        }
    }
}
