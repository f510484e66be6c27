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

#[tokio::test]
async fn an_install_state_works_once_and_not_after_it_expires() {
    use herald_model::destination::DestinationKind;
    use herald_server::store::DestinationValues;
    for (_dir, url) in backends() {
        let store = store::open(&url).await.unwrap();
        let values = DestinationValues {
            display_name: String::new(),
            channel: String::new(),
            client_id: String::new(),
            severities: vec![],
            alert_kinds: vec![],
            log_types: vec![],
            timezone: "UTC".into(),
        };
        let destination = store.create_destination(DestinationKind::SlackBot, &values).await.unwrap();
        store.create_oauth_state("fresh", &destination.id, 1_000).await.unwrap();
        store.create_oauth_state("old", &destination.id, 1_000).await.unwrap();
        assert_eq!(store.take_oauth_state("fresh", 999).await.unwrap(), Some(destination.id.clone()));
        assert_eq!(store.take_oauth_state("fresh", 999).await.unwrap(), None, "single use");
        assert_eq!(store.take_oauth_state("old", 1_000).await.unwrap(), None, "expired");
        assert_eq!(store.take_oauth_state("never-made", 0).await.unwrap(), None);
    }
}
