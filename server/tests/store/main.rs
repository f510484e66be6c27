//! The storage contract: what every `Store` backend promises, written once
//! against the trait and run on each backend this build has (SQLite now;
//! Postgres runs the same tests unchanged). Each test takes fresh, empty
//! databases; the promises that only hold under concurrency are tested
//! with real concurrent calls.

mod accounts;
mod destinations;
mod fixtures;
mod leases;
mod outbox;
mod slack_apps;
mod triage;

use std::collections::BTreeSet;
use std::path::Path;

use herald_server::settings::DatabaseUrl;
use herald_server::store;

/// Every method of the trait is called by a test here: a new method comes
/// with its contract, or this fails and names it.
#[test]
fn every_store_method_has_a_contract_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let trait_source = std::fs::read_to_string(root.join("src/store/mod.rs")).unwrap();
    let body = trait_source.split("pub trait Store").nth(1).expect("the Store trait");
    let body = &body[..body.find("\n}\n").expect("the trait's end")];
    let methods: BTreeSet<&str> =
        body.lines().filter_map(|line| line.trim().strip_prefix("async fn ")).map(|rest| &rest[..rest.find('(').unwrap()]).collect();
    assert!(methods.len() > 40, "read too few methods: {methods:?}");
    let mut suite = String::new();
    for entry in std::fs::read_dir(root.join("tests/store")).unwrap() {
        suite.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let untested: Vec<&&str> = methods.iter().filter(|m| !suite.contains(&format!(".{m}("))).collect();
    assert!(untested.is_empty(), "Store methods no contract test calls: {untested:?} ({} methods in all)", methods.len());
}

#[tokio::test]
async fn a_new_database_is_created_migrated_and_empty() {
    for (_place, url) in fixtures::urls().await {
        let store = store::open(&url).await.unwrap();
        store.ping().await.unwrap();
        assert!(store.list_destinations().await.unwrap().is_empty(), "{url:?}");
        store.close().await;
    }
}

/// One SQLite file, one server; PostgreSQL takes several (replicas).
#[tokio::test]
async fn one_server_at_a_time_claims_a_sqlite_file_and_the_claim_ends_with_it() {
    for (_place, url) in fixtures::urls().await {
        let first = store::claim_for_server(&url).unwrap();
        if matches!(url, DatabaseUrl::Postgres(_)) {
            assert!(store::claim_for_server(&url).is_ok(), "replicas share a PostgreSQL database");
            continue;
        }
        let refused = store::claim_for_server(&url).err().expect("a second claim is refused");
        assert!(refused.to_string().contains("Another Herald server is already using the database"), "{refused}");
        drop(first);
        assert!(store::claim_for_server(&url).is_ok(), "free again once the first is gone");
    }
}

#[tokio::test]
async fn opening_an_existing_database_again_keeps_it_and_runs_no_migration_twice() {
    for (_place, url) in fixtures::urls().await {
        store::open(&url).await.unwrap().close().await;
        let again = store::open(&url).await.unwrap();
        again.ping().await.unwrap();
        assert!(again.list_destinations().await.unwrap().is_empty(), "{url:?}");
    }
}

/// SQLite: what a commit leaves in the WAL reaches the database file soon
/// after, copied beside the writer, rather than by whichever commit takes
/// the WAL past SQLite's 1,000 pages, with every write behind it waiting.
#[tokio::test]
async fn sqlite_copies_commits_from_the_wal_into_the_database_file_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("herald.db");
    let store = store::open(&DatabaseUrl::Sqlite(format!("sqlite://{}", file.display()))).await.unwrap();
    let before = std::fs::metadata(&file).unwrap().len();
    // A hundred pages and more: some 250 kB in one transaction, far from
    // 1,000 pages.
    let alerts: Vec<_> = (0..100)
        .map(|i| {
            let mut alert = fixtures::an_alert(&format!("a{i}"));
            alert.content.description = Some(format!("{i} {}", "a long description ".repeat(120)));
            fixtures::routed(alert, &[])
        })
        .collect();
    store.insert_alerts(&alerts, 1_000).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = std::fs::metadata(&file).unwrap().len();
        if now >= before + 200_000 {
            break;
        }
        let wal = std::fs::metadata(dir.path().join("herald.db-wal")).map_or(0, |m| m.len());
        assert!(std::time::Instant::now() < deadline, "the database file stayed at {now} bytes (from {before}), the WAL holding {wal}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(store.alert("a99").await.unwrap().map(|a| a.id), Some("a99".to_owned()));
    store.close().await;
}
