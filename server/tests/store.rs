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
            dedup_window: 60,
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

#[tokio::test]
async fn an_outcome_counts_only_for_the_claim_it_ends_and_a_re_send_waits_for_a_send_in_flight() {
    use herald_model::alert::DeliveryState;
    use herald_server::store::{NewAlertRecord, Outcome};
    for (_dir, url) in backends() {
        let store = store::open(&url).await.unwrap();
        let destination = a_destination(store.as_ref()).await;
        let alert = an_alert("a1");
        let new = NewAlertRecord { alert, destination_ids: vec![destination.id.clone(), "gone".into()], fold_since: None };
        let stored = store.insert_alerts(&[new.clone(), new], 1_000).await.unwrap();
        assert_eq!((stored[0].created, stored[0].deliveries), (true, 1), "an unknown destination is skipped");
        assert_eq!((stored[1].created, stored[1].deliveries), (false, 1), "a repeat reports the first one's deliveries");

        let first = store.claim_deliveries(1_000, 60_000, 10).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(store.claim_deliveries(1_000, 60_000, 10).await.unwrap().is_empty(), "claimed once");
        assert_eq!(store.requeue("a1", None, 1_000).await.unwrap(), 0, "a send in flight is left to finish");
        // The claim lapses and the delivery is claimed again; the first
        // claim's late outcome then changes nothing.
        let second = store.claim_deliveries(70_000, 60_000, 10).await.unwrap();
        assert_eq!(second.len(), 1);
        assert_ne!(first[0].claim, second[0].claim);
        store.finish_deliveries(&[(first[0].id, first[0].claim, Outcome::Failed { error: "late".into() })], 70_000).await.unwrap();
        assert_eq!(store.deliveries_of("a1").await.unwrap()[0].state, DeliveryState::Sending);
        let sent = Outcome::Sent { channel: "C1".into(), ts: "1.2".into() };
        store.finish_deliveries(&[(second[0].id, second[0].claim, sent)], 70_000).await.unwrap();
        let delivery = &store.deliveries_of("a1").await.unwrap()[0];
        assert_eq!((delivery.state, delivery.attempts, delivery.slack_ts.as_deref()), (DeliveryState::Sent, 1, Some("1.2")));
        assert_eq!(store.queue_depth().await.unwrap(), 0);
        store.close().await;
    }
}

#[tokio::test]
async fn re_sending_a_failed_message_brings_back_the_thread_replies_that_failed_for_want_of_it() {
    use herald_model::alert::{ActivityAction, ActivitySource};
    use herald_server::store::{Activity, DeliveryKind, NewAlertRecord, Outcome, TriageChange};
    for (_dir, url) in backends() {
        let store = store::open(&url).await.unwrap();
        let destination = a_destination(store.as_ref()).await;
        let alert = an_alert("a1");
        store.insert_alerts(&[NewAlertRecord { alert, destination_ids: vec![destination.id.clone()], fold_since: None }], 1_000).await.unwrap();
        let post = store.claim_deliveries(1_000, 60_000, 10).await.unwrap().remove(0);
        // A comment while the message is on its way: a reply waits for it.
        let change = TriageChange {
            alert_id: "a1".into(),
            expected_status: None,
            expected_assignee: None,
            status: None,
            assignee: None,
            activity: Activity {
                actor_id: None,
                actor_name: "Ana".into(),
                source: ActivitySource::Console,
                action: ActivityAction::Comment,
                old_value: None,
                new_value: None,
                comment: Some("looking".into()),
            },
            update_messages: false,
            reply: Some("Ana commented: looking".into()),
        };
        store.apply_triage(&change, 1_100).await.unwrap().expect("applied");
        assert!(store.claim_deliveries(1_200, 60_000, 10).await.unwrap().is_empty(), "the reply waits for its message");
        store.finish_deliveries(&[(post.id, post.claim, Outcome::Failed { error: "archived".into() })], 1_300).await.unwrap();
        let reply = store.claim_deliveries(1_400, 60_000, 10).await.unwrap().remove(0);
        assert_eq!(reply.kind, DeliveryKind::Reply("Ana commented: looking".into()));
        store.finish_deliveries(&[(reply.id, reply.claim, Outcome::Failed { error: "no thread".into() })], 1_500).await.unwrap();
        assert_eq!(store.queue_depth().await.unwrap(), 0);

        assert_eq!(store.requeue("a1", None, 2_000).await.unwrap(), 1, "one message re-sent");
        assert_eq!(store.queue_depth().await.unwrap(), 2, "and its reply with it");
        let again = store.claim_deliveries(2_000, 60_000, 10).await.unwrap();
        assert_eq!(again.len(), 1, "the message first: {again:?}");
        assert_eq!(again[0].kind, DeliveryKind::Post);
        store.close().await;
    }
}

#[tokio::test]
async fn an_event_folds_into_the_open_alert_of_its_key_and_its_message_is_updated_at_most_every_ten_seconds() {
    use herald_model::alert::AlertStatus;
    use herald_server::store::{DeliveryKind, NewAlertRecord, Outcome};
    for (_dir, url) in backends() {
        let store = store::open(&url).await.unwrap();
        let destination = a_destination(store.as_ref()).await;
        let event = |id: &str, at: i64, context: &str| NewAlertRecord {
            alert: herald_server::store::AlertRecord {
                dedup_key: Some("k".into()),
                alert_context: Some(context.into()),
                received_at: at,
                last_seen_at: at,
                ..an_alert(id)
            },
            destination_ids: vec![destination.id.clone()],
            fold_since: Some(at - 60_000),
        };
        assert!(store.insert_alerts(&[event("a1", 1_000, "1")], 1_000).await.unwrap()[0].created);
        let post = store.claim_deliveries(1_000, 60_000, 10).await.unwrap().remove(0);
        store.finish_deliveries(&[(post.id, post.claim, Outcome::Sent { channel: "C1".into(), ts: "1.2".into() })], 1_500).await.unwrap();

        let stored = store.insert_alerts(&[event("a2", 2_000, "2"), event("a3", 3_000, "3")], 3_000).await.unwrap();
        assert!(stored.iter().all(|s| s.folded && !s.created && s.id == "a1" && s.deliveries == 1), "{stored:?}");
        let alert = store.alert("a1").await.unwrap().unwrap();
        assert_eq!((alert.event_count, alert.last_seen_at, alert.alert_context.as_deref()), (3, 3_000, Some("3")));
        let earlier: Vec<(i64, Option<&str>)> = alert.earlier_events.iter().map(|e| (e.at, e.context.as_deref())).collect();
        assert_eq!(earlier, [(3_000, Some("2")), (1_000, Some("1"))], "newest first");
        assert!(store.alert("a2").await.unwrap().is_none(), "no alert of its own");
        let activity = store.activity_of("a1").await.unwrap();
        assert_eq!(activity.len(), 1, "one entry for the run of events");
        assert_eq!(activity[0].activity.new_value.as_deref(), Some("2"));

        // One update, ten seconds after the message went.
        assert!(store.claim_deliveries(11_000, 60_000, 10).await.unwrap().is_empty(), "not before ten seconds");
        let update = store.claim_deliveries(11_500, 60_000, 10).await.unwrap();
        assert_eq!(update.len(), 1, "one update for two events: {update:?}");
        assert_eq!(update[0].kind, DeliveryKind::Update);
        store.finish_deliveries(&[(update[0].id, update[0].claim, Outcome::Sent { channel: "C1".into(), ts: "1.2".into() })], 12_000).await.unwrap();
        store.insert_alerts(&[event("a4", 13_000, "4")], 13_000).await.unwrap();
        assert!(store.claim_deliveries(21_999, 60_000, 10).await.unwrap().is_empty(), "ten seconds after the last update");
        assert_eq!(store.claim_deliveries(22_000, 60_000, 10).await.unwrap().len(), 1);

        // A resolved alert takes no more events; the next one is an alert.
        let resolve = herald_server::store::TriageChange {
            alert_id: "a1".into(),
            expected_status: None,
            expected_assignee: None,
            status: Some(AlertStatus::Resolved),
            assignee: None,
            activity: herald_server::store::Activity {
                actor_id: None,
                actor_name: "Ana".into(),
                source: herald_model::alert::ActivitySource::Console,
                action: herald_model::alert::ActivityAction::Status,
                old_value: None,
                new_value: None,
                comment: None,
            },
            update_messages: false,
            reply: None,
        };
        store.apply_triage(&resolve, 23_000).await.unwrap().expect("applied");
        assert!(store.insert_alerts(&[event("a5", 24_000, "5")], 24_000).await.unwrap()[0].created);
        // Nor does an alert older than the window.
        assert!(store.insert_alerts(&[event("a6", 24_000 + 60_001, "6")], 84_001).await.unwrap()[0].created);
        store.close().await;
    }
}

/// A Slack Bot destination, as the outbox tests need one.
async fn a_destination(store: &dyn store::Store) -> herald_server::store::DestinationRecord {
    use herald_model::destination::DestinationKind;
    let values = herald_server::store::DestinationValues {
        display_name: "SecOps".into(),
        channel: "#sec".into(),
        client_id: "1.2".into(),
        severities: vec![],
        alert_kinds: vec![],
        log_types: vec![],
        timezone: "UTC".into(),
        dedup_window: 60,
    };
    store.create_destination(DestinationKind::SlackBot, &values).await.unwrap()
}

/// A HIGH rule alert received at 1,000 ms.
fn an_alert(id: &str) -> herald_server::store::AlertRecord {
    use herald_model::alert::{AlertStatus, AlertType};
    use herald_model::destination::Severity;
    herald_server::store::AlertRecord {
        id: id.into(),
        title: "t".into(),
        severity: Severity::High,
        alert_type: AlertType::Rule,
        status: AlertStatus::Open,
        detection_id: None,
        log_types: vec![],
        tags: vec![],
        description: None,
        runbook: None,
        reference: None,
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
