//! The storage contract, run against every backend this build has. Each
//! test takes a fresh, empty database.

use herald_server::settings::DatabaseUrl;
use herald_server::store;

/// One fresh database per backend; the folder must outlive the store.
fn backends() -> Vec<(tempfile::TempDir, DatabaseUrl)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = DatabaseUrl::Sqlite(format!("sqlite://{}", dir.path().join("nested/herald.db").display()));
    vec![(dir, sqlite)]
}

#[tokio::test]
async fn a_new_database_is_created_migrated_and_empty() {
    for (_dir, url) in backends() {
        let store = store::open(&url).await.unwrap();
        store.ping().await.unwrap();
        assert!(store.list_destinations().await.unwrap().is_empty(), "{url:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn opening_an_existing_database_again_keeps_it_and_runs_no_migration_twice() {
    for (_dir, url) in backends() {
        store::open(&url).await.unwrap().close().await;
        let again = store::open(&url).await.unwrap();
        again.ping().await.unwrap();
        assert!(again.list_destinations().await.unwrap().is_empty(), "{url:?}");
    }
}
