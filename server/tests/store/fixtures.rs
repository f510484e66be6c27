//! What the contract tests build their cases from: a fresh database per
//! backend, and records with sensible values that a test changes only
//! where it matters.

use std::sync::Arc;

use herald_model::account::{Email, Role};
use herald_model::alert::{Activity, ActivityAction, ActivitySource, AlertContent, AlertStatus, AlertType};
use herald_model::destination::{DestinationKind, DestinationSettings, Severity};
use herald_server::settings::DatabaseUrl;
use herald_server::store::{
    self, AlertRecord, DestinationRecord, NewAlertRecord, NewUserRecord, SlackAppSecrets, Store, StoredSecret, TriageChange,
};

/// A fresh, empty database of each backend: SQLite in a temporary folder,
/// and PostgreSQL when `HERALD_TEST_DATABASE_URL` names a server (`cargo
/// xtask test` starts one), in a scratch database dropped afterwards.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub name: &'static str,
    _place: Place,
}

pub async fn backends() -> Vec<Backend> {
    let mut all = Vec::new();
    for (place, url) in urls().await {
        let store = store::open(&url).await.unwrap();
        let name = match url {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        };
        all.push(Backend { store, name, _place: place });
    }
    all
}

/// Where a test database lives, removed when dropped.
pub enum Place {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    Scratch(#[allow(dead_code)] store::postgres::scratch::Database),
}

/// The URLs themselves, for the tests that open a database twice.
pub async fn urls() -> Vec<(Place, DatabaseUrl)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = DatabaseUrl::Sqlite(format!("sqlite://{}", dir.path().join("nested/herald.db").display()));
    let mut all = vec![(Place::Folder(dir), sqlite)];
    match std::env::var("HERALD_TEST_DATABASE_URL") {
        Ok(server) => {
            let scratch =
                store::postgres::scratch::Database::create(&server).await.expect("a scratch database on HERALD_TEST_DATABASE_URL's server");
            let url = DatabaseUrl::Postgres(scratch.url.clone());
            all.push((Place::Scratch(scratch), url));
        }
        Err(_) => eprintln!("PostgreSQL not tested: HERALD_TEST_DATABASE_URL is not set (cargo xtask test sets it)"),
    }
    all
}

/// A destination's settings: SecOps in #sec through the app `1.2`.
pub fn settings() -> DestinationSettings {
    DestinationSettings {
        display_name: "SecOps".into(),
        channel: "#sec".into(),
        client_id: "1.2".into(),
        severities: vec![],
        alert_kinds: vec![],
        log_types: vec![],
        timezone: "UTC".into(),
        ..DestinationSettings::default()
    }
}

pub async fn a_destination(store: &dyn Store) -> DestinationRecord {
    store.create_destination(DestinationKind::SlackBot, &settings(), 60).await.unwrap()
}

/// A HIGH rule alert received at 1,000 ms.
pub fn an_alert(id: &str) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        content: AlertContent {
            title: "t".into(),
            severity: Severity::High,
            alert_type: AlertType::Rule,
            detection_id: None,
            log_types: vec![],
            tags: vec![],
            description: None,
            runbook: None,
            reference: None,
            links: vec![],
        },
        status: AlertStatus::Open,
        alert_context: None,
        created_at: 1_000,
        received_at: 1_000,
        assignee: None,
        dedup_key: None,
        event_count: 1,
        last_seen_at: 1_000,
        earlier_events: vec![],
    }
}

/// The alert, routed to these destinations, never folded.
pub fn routed(alert: AlertRecord, destinations: &[&DestinationRecord]) -> NewAlertRecord {
    NewAlertRecord { alert, destination_ids: destinations.iter().map(|d| d.id.clone()).collect(), fold_since: None }
}

/// What Ana did, from the console.
pub fn activity(action: ActivityAction) -> Activity {
    Activity {
        actor_id: None,
        actor_name: "Ana".into(),
        source: ActivitySource::Console,
        action,
        old_value: None,
        new_value: None,
        comment: None,
    }
}

/// A change that touches nothing but the history (a comment), with a
/// thread reply.
pub fn note(alert_id: &str, reply: &str) -> TriageChange {
    TriageChange {
        alert_id: alert_id.into(),
        expected_status: None,
        expected_assignee: None,
        status: None,
        assignee: None,
        activity: Activity { comment: Some(reply.into()), ..activity(ActivityAction::Comment) },
        update_messages: false,
        reply: Some(reply.into()),
    }
}

/// A status change decided on the alert being `from`.
pub fn status_change(alert_id: &str, from: AlertStatus, to: AlertStatus) -> TriageChange {
    TriageChange {
        expected_status: Some(from),
        status: Some(to),
        activity: activity(ActivityAction::Status),
        update_messages: true,
        reply: None,
        ..note(alert_id, "")
    }
}

/// A sealed secret as the store sees it: opaque text and a hint.
pub fn secret(sealed: &str) -> StoredSecret {
    StoredSecret { sealed: sealed.into(), last_four: sealed.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect() }
}

pub fn secrets(client_secret: Option<&str>, signing_secret: Option<&str>, bot_token: Option<&str>) -> SlackAppSecrets {
    SlackAppSecrets {
        client_secret: client_secret.map(secret),
        signing_secret: signing_secret.map(secret),
        bot_token: bot_token.map(secret),
        app_token: None,
    }
}

pub fn a_user(email: &str, role: Role) -> NewUserRecord {
    NewUserRecord {
        email: Email::parse("email", email).unwrap(),
        display_name: email.split('@').next().unwrap().into(),
        role,
        password_hash: format!("hash-of-{email}"),
    }
}
