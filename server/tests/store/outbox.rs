//! The outbox: alerts stored with their deliveries in one transaction,
//! claims that a lapsed lease hands on, outcomes that count only for their
//! claim, re-sends, folds, the alert list and each destination's health.

use std::collections::BTreeSet;
use std::sync::Arc;

use herald_model::alert::{AlertStatus, DeliveryState};
use herald_model::destination::Severity;
use herald_server::store::{AlertFilter, AlertRecord, NewAlertRecord, Outcome, Store};

use crate::fixtures::{a_destination, an_alert, backends, note, routed};

#[tokio::test]
async fn an_outcome_counts_only_for_the_claim_it_ends_and_a_re_send_waits_for_a_send_in_flight() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
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
    use herald_model::alert::Activity;
    use herald_model::alert::{ActivityAction, ActivitySource};
    use herald_server::store::{DeliveryKind, TriageChange};
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        let alert = an_alert("a1");
        store
            .insert_alerts(&[NewAlertRecord { alert, destination_ids: vec![destination.id.clone()], fold_since: None }], 1_000)
            .await
            .unwrap();
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
    use herald_server::store::DeliveryKind;
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
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
        store
            .finish_deliveries(&[(update[0].id, update[0].claim, Outcome::Sent { channel: "C1".into(), ts: "1.2".into() })], 12_000)
            .await
            .unwrap();
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
            activity: herald_model::alert::Activity {
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
        // In a batch, an event of an open alert's key still folds beside
        // an alert of a new key.
        let other = NewAlertRecord {
            alert: herald_server::store::AlertRecord { dedup_key: Some("other".into()), ..an_alert("b1") },
            ..event("b1", 85_000, "b")
        };
        let stored = store.insert_alerts(&[other, event("a7", 85_000, "7")], 85_000).await.unwrap();
        assert!(stored[0].created && !stored[0].folded, "{stored:?}");
        assert!(stored[1].folded && stored[1].id == "a6", "{stored:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn two_workers_claiming_at_once_never_take_the_same_delivery() {
    for b in backends().await {
        let store: Arc<dyn Store> = b.store.clone();
        let destination = a_destination(store.as_ref()).await;
        let alerts: Vec<NewAlertRecord> = (0..300).map(|i| routed(an_alert(&format!("a{i}")), &[&destination])).collect();
        store.insert_alerts(&alerts, 1_000).await.unwrap();
        let worker = || {
            let store = store.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                loop {
                    let claimed = store.claim_deliveries(1_000, 60_000, 7).await.unwrap();
                    if claimed.is_empty() {
                        return taken;
                    }
                    taken.extend(claimed.into_iter().map(|d| d.id));
                }
            })
        };
        let (one, two) = (worker(), worker());
        let (one, two) = (one.await.unwrap(), two.await.unwrap());
        let (a, b2): (BTreeSet<i64>, BTreeSet<i64>) = (one.iter().copied().collect(), two.iter().copied().collect());
        assert_eq!((a.len(), b2.len()), (one.len(), two.len()), "{}: no worker took one twice", b.name);
        assert!(a.is_disjoint(&b2), "{}: a delivery claimed by both: {:?}", b.name, a.intersection(&b2).next());
        assert_eq!(a.len() + b2.len(), 300, "every delivery claimed once");
        store.close().await;
    }
}

#[tokio::test]
async fn claims_released_at_start_up_are_claimed_again_with_their_attempts() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        store.insert_alerts(&[routed(an_alert("a1"), &[&destination]), routed(an_alert("a2"), &[&destination])], 1_000).await.unwrap();
        let claimed = store.claim_deliveries(1_000, 60_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 2, "{}", b.name);
        let retry = Outcome::Retry { due_at: 1_500, error: "timeout".into() };
        store.finish_deliveries(&[(claimed[0].id, claimed[0].claim, retry)], 1_100).await.unwrap();
        store.claim_deliveries(1_500, 60_000, 10).await.unwrap();
        assert_eq!(store.release_claims(2_000).await.unwrap(), 2, "both were in flight");
        let again = store.claim_deliveries(2_000, 60_000, 10).await.unwrap();
        let mut attempts: Vec<u32> = again.iter().map(|d| d.attempts).collect();
        attempts.sort();
        assert_eq!(attempts, [0, 1], "the retried one keeps its attempt");
        assert_eq!(store.release_claims(2_000).await.unwrap(), 2);
        assert_eq!(store.release_claims(2_000).await.unwrap(), 0, "nothing in flight");
        store.close().await;
    }
}

#[tokio::test]
async fn an_alert_is_stored_once_with_a_delivery_per_known_destination_and_counted_until_sent() {
    for b in backends().await {
        let store = b.store.as_ref();
        let (one, two) = (a_destination(store).await, a_destination(store).await);
        let mut alert = an_alert("a1");
        (alert.content.description, alert.content.tags) = (Some("why".into()), vec!["t1".into()]);
        alert.content.links = vec![herald_model::alert::Link { label: "Open dashboard".into(), url: "https://grafana.example/d/x".into() }];
        let stored = store.insert_alerts(&[routed(alert.clone(), &[&one, &two])], 1_000).await.unwrap();
        assert_eq!((stored[0].created, stored[0].deliveries, stored[0].folded), (true, 2, false), "{}", b.name);
        assert_eq!(store.alert("a1").await.unwrap(), Some(alert));
        assert_eq!(store.alert("a9").await.unwrap(), None);
        assert_eq!(store.queue_depth().await.unwrap(), 2);
        let deliveries = store.deliveries_of("a1").await.unwrap();
        assert_eq!(deliveries.len(), 2);
        assert!(deliveries.iter().all(|d| d.state == DeliveryState::Queued && d.destination_name == "SecOps" && d.attempts == 0));
        for d in store.claim_deliveries(1_000, 60_000, 10).await.unwrap() {
            store
                .finish_deliveries(&[(d.id, d.claim, Outcome::Sent { channel: "C1".into(), ts: format!("1.{}", d.id) })], 1_200)
                .await
                .unwrap();
        }
        assert_eq!(store.queue_depth().await.unwrap(), 0);
        assert!(
            store
                .deliveries_of("a1")
                .await
                .unwrap()
                .iter()
                .all(|d| d.state == DeliveryState::Sent && d.slack_channel.as_deref() == Some("C1"))
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_message_that_gets_through_clears_its_destinations_problem() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        store.set_delivery_problem(&destination.id, Some("not in channel")).await.unwrap();
        store.insert_alerts(&[routed(an_alert("a1"), &[&destination])], 1_000).await.unwrap();
        let d = store.claim_deliveries(1_000, 60_000, 10).await.unwrap().remove(0);
        store.finish_deliveries(&[(d.id, d.claim, Outcome::Sent { channel: "C1".into(), ts: "1.2".into() })], 1_100).await.unwrap();
        assert_eq!(store.list_destinations().await.unwrap()[0].delivery_problem, None, "{}", b.name);
        store.close().await;
    }
}

#[tokio::test]
async fn each_destinations_health_tells_its_last_message_and_its_failures_of_the_day() {
    for b in backends().await {
        let store = b.store.as_ref();
        let (good, bad) = (a_destination(store).await, a_destination(store).await);
        store.insert_alerts(&[routed(an_alert("a1"), &[&good, &bad])], 1_000).await.unwrap();
        for d in store.claim_deliveries(1_000, 60_000, 10).await.unwrap() {
            let outcome = if d.destination_id == good.id {
                Outcome::Sent { channel: "C1".into(), ts: "1.2".into() }
            } else {
                Outcome::Failed { error: "channel_not_found".into() }
            };
            store.finish_deliveries(&[(d.id, d.claim, outcome)], 2_000).await.unwrap();
        }
        let health = store.delivery_health(3_000).await.unwrap();
        let (good_health, bad_health) = (&health[&good.id], &health[&bad.id]);
        assert_eq!(
            (good_health.last_sent_at, good_health.failures_24h, good_health.last_error.as_deref()),
            (Some(2_000), 0, None),
            "{}",
            b.name
        );
        assert_eq!(
            (bad_health.last_sent_at, bad_health.failures_24h, bad_health.last_error.as_deref()),
            (None, 1, Some("channel_not_found"))
        );
        assert_eq!(store.delivery_health(2_000 + 86_400_001).await.unwrap()[&bad.id].failures_24h, 0, "a day later");
        store.close().await;
    }
}

#[tokio::test]
async fn the_alert_list_filters_newest_first_and_shows_the_least_advanced_delivery() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        let alert = |id: &str, severity: Severity, at: i64| {
            let mut alert = AlertRecord { created_at: at, ..an_alert(id) };
            alert.content.severity = severity;
            routed(alert, &[&destination])
        };
        store.insert_alerts(&[alert("low", Severity::Low, 1_000), alert("crit", Severity::Critical, 2_000)], 2_000).await.unwrap();
        // Two events of one key: one alert, folded.
        let event = |id: &str| NewAlertRecord {
            alert: AlertRecord { created_at: 3_000, dedup_key: Some("k".into()), ..an_alert(id) },
            destination_ids: vec![],
            fold_since: Some(0),
        };
        store.insert_alerts(&[event("storm"), event("storm-again")], 3_000).await.unwrap();
        store.apply_triage(&crate::fixtures::status_change("crit", AlertStatus::Open, AlertStatus::Resolved), 3_000).await.unwrap();
        let ids = |rows: Vec<herald_server::store::AlertListRow>| rows.into_iter().map(|r| r.alert.id).collect::<Vec<_>>();
        let all = AlertFilter { limit: 100, ..AlertFilter::default() };
        assert_eq!(ids(store.list_alerts(&all).await.unwrap()), ["storm", "crit", "low"], "{}: newest first", b.name);
        assert_eq!(ids(store.list_alerts(&AlertFilter { limit: 2, ..all.clone() }).await.unwrap()), ["storm", "crit"]);
        assert_eq!(
            ids(store.list_alerts(&AlertFilter { severities: vec![Severity::Critical, Severity::Low], ..all.clone() }).await.unwrap()),
            ["crit", "low"]
        );
        assert_eq!(ids(store.list_alerts(&AlertFilter { statuses: vec![AlertStatus::Resolved], ..all.clone() }).await.unwrap()), ["crit"]);
        assert_eq!(ids(store.list_alerts(&AlertFilter { since: Some(2_000), until: Some(3_000), ..all.clone() }).await.unwrap()), ["crit"]);
        assert_eq!(ids(store.list_alerts(&AlertFilter { repeated: true, ..all.clone() }).await.unwrap()), ["storm"]);
        let rows = store.list_alerts(&all).await.unwrap();
        let delivery: Vec<Option<DeliveryState>> = rows.iter().map(|r| r.delivery).collect();
        assert_eq!(delivery, [None, Some(DeliveryState::Queued), Some(DeliveryState::Queued)], "no delivery for an alert routed nowhere");
        store.close().await;
    }
}

#[tokio::test]
async fn retention_deletes_old_finished_alerts_in_batches_and_keeps_those_still_moving() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        let old: Vec<NewAlertRecord> = (0..3).map(|i| routed(an_alert(&format!("old{i}")), &[])).collect();
        store.insert_alerts(&old, 1_000).await.unwrap();
        store.insert_alerts(&[routed(an_alert("queued"), &[&destination])], 1_000).await.unwrap();
        store.insert_alerts(&[routed(an_alert("talked-about"), &[])], 1_000).await.unwrap();
        store.apply_triage(&note("talked-about", "still looking"), 50_000).await.unwrap();
        assert_eq!(store.prune_alerts(10_000, 2).await.unwrap(), 2, "{}: a batch at a time", b.name);
        assert_eq!(store.prune_alerts(10_000, 2).await.unwrap(), 1);
        assert_eq!(store.prune_alerts(10_000, 2).await.unwrap(), 0, "the rest is still moving");
        assert!(store.alert("queued").await.unwrap().is_some(), "a delivery still to go");
        assert!(store.alert("talked-about").await.unwrap().is_some(), "a recent activity");
        assert!(store.alert("old0").await.unwrap().is_none());
        assert!(store.activity_of("old0").await.unwrap().is_empty(), "its history went with it");
        store.close().await;
    }
}

#[tokio::test]
async fn reminders_come_while_an_alert_stays_open_and_unassigned_at_most_as_often_as_the_destination_says() {
    use crate::fixtures::{settings, status_change};
    use herald_server::store::{DeliveryKind, DueReminder};
    for b in backends().await {
        let store = b.store.as_ref();
        let quiet = a_destination(store).await;
        let reminding = a_destination(store).await;
        let twice = herald_model::destination::DestinationSettings { remind_after: 2, remind_times: 2, ..settings() };
        let reminding = store.update_destination(&reminding.id, &twice, 60, None).await.unwrap();
        assert_eq!((reminding.settings.remind_after, reminding.settings.remind_times), (2, 2), "stored");
        let reminding = store.set_destination_status(&reminding.id, herald_model::destination::DestinationStatus::Active).await.unwrap();
        let both = [&quiet, &reminding];
        let resolved = AlertRecord { status: AlertStatus::Resolved, ..an_alert("info") };
        store
            .insert_alerts(&[routed(an_alert("left"), &both), routed(an_alert("taken"), &both), routed(resolved, &both)], 1_000)
            .await
            .unwrap();
        let posts = store.claim_deliveries(1_000, 60_000, 10).await.unwrap();
        let sent: Vec<_> =
            posts.iter().map(|p| (p.id, p.claim, Outcome::Sent { channel: "C1".into(), ts: format!("1.{}", p.id) })).collect();
        store.finish_deliveries(&sent, 1_100).await.unwrap();

        let minute = 60_000;
        let texts = std::sync::Mutex::new(Vec::new());
        let text = |due: &DueReminder| {
            texts.lock().unwrap().push((due.alert_id.clone(), due.number, due.times, due.minutes));
            format!("reminder {} for {}", due.number, due.alert_id)
        };
        assert_eq!(store.send_reminders(1_000 + 2 * minute - 1, minute, 100, &text).await.unwrap(), 0, "not yet");
        store.apply_triage(&status_change("taken", AlertStatus::Open, AlertStatus::Triaged), 2_000).await.unwrap().expect("applied");
        assert_eq!(store.send_reminders(1_000 + 2 * minute, minute, 100, &text).await.unwrap(), 1, "the open one, where it reminds");
        assert_eq!(store.send_reminders(1_000 + 2 * minute, minute, 100, &text).await.unwrap(), 0, "once");
        assert_eq!(store.send_reminders(1_000 + 4 * minute, minute, 100, &text).await.unwrap(), 1, "the second");
        assert_eq!(store.send_reminders(1_000 + 100 * minute, minute, 100, &text).await.unwrap(), 0, "and no more");
        assert_eq!(*texts.lock().unwrap(), [("left".to_owned(), 1, 2, 2), ("left".to_owned(), 2, 2, 4)]);

        // Follow-ups of one message go one at a time, in order.
        let mut kinds = Vec::new();
        loop {
            let now = 1_000 + 100 * minute;
            let claimed = store.claim_deliveries(now, 60_000, 100).await.unwrap();
            if claimed.is_empty() {
                break;
            }
            kinds.extend(claimed.iter().map(|r| (r.alert.id.clone(), r.destination_id == reminding.id, r.kind.clone())));
            let done: Vec<_> = claimed.iter().map(|r| (r.id, r.claim, Outcome::Done)).collect();
            store.finish_deliveries(&done, now).await.unwrap();
        }
        kinds.sort_by_key(|k| format!("{k:?}"));
        assert_eq!(
            kinds,
            [
                ("left".to_owned(), true, DeliveryKind::Reply("reminder 1 for left".into())),
                ("left".to_owned(), true, DeliveryKind::Reply("reminder 2 for left".into())),
                ("taken".to_owned(), false, DeliveryKind::Update),
                ("taken".to_owned(), true, DeliveryKind::Update),
            ]
        );

        // Herald down for long: one reminder, the last, not a burst; and
        // none once the destination is disabled.
        let later = 1_000 + 200 * minute;
        let (late, parked) = (an_alert("late"), an_alert("parked"));
        store.insert_alerts(&[routed(late, &[&reminding]), routed(parked, &[&reminding])], later).await.unwrap();
        let posts = store.claim_deliveries(later, 60_000, 10).await.unwrap();
        let sent: Vec<_> =
            posts.iter().map(|p| (p.id, p.claim, Outcome::Sent { channel: "C1".into(), ts: format!("1.{}", p.id) })).collect();
        store.finish_deliveries(&sent, later).await.unwrap();
        texts.lock().unwrap().clear();
        assert_eq!(store.send_reminders(later + 50 * minute, minute, 100, &text).await.unwrap(), 2);
        let mut fired = texts.lock().unwrap().clone();
        fired.sort();
        assert_eq!(fired, [("late".to_owned(), 2, 2, 50), ("parked".to_owned(), 2, 2, 50)], "the last one due, with the real wait");
        let parked_too = an_alert("parked-too");
        store.insert_alerts(&[routed(parked_too, &[&reminding])], later).await.unwrap();
        store.set_destination_status(&reminding.id, herald_model::destination::DestinationStatus::Disabled).await.unwrap();
        assert_eq!(store.send_reminders(later + 500 * minute, minute, 100, &text).await.unwrap(), 0, "none to a disabled destination");
        store.set_destination_status(&reminding.id, herald_model::destination::DestinationStatus::Active).await.unwrap();
        assert_eq!(store.send_reminders(later + 600 * minute, minute, 100, &text).await.unwrap(), 0, "dropped, not kept for later");
        store.close().await;
    }
}

#[tokio::test]
async fn new_messages_are_claimed_as_their_alerts_are_stored_only_for_the_lease_holder() {
    use herald_server::store::{ClaimNew, DeliveryKind};
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        assert!(store.take_lease("delivery", "me", 1_000, 60_000).await.unwrap());
        let mine = ClaimNew { lease: "delivery", holder: "me".into(), lease_ms: 30_000 };
        let theirs = ClaimNew { holder: "them".into(), ..mine.clone() };

        // Not the holder: queued as always, claimed from the outbox.
        let (stored, claimed) = store_claimed(store, &[routed(an_alert("queued"), &[&destination])], 1_000, &theirs).await;
        assert_eq!((stored[0].created, stored[0].deliveries, claimed.len()), (true, 1, 0), "{}", b.name);
        assert_eq!(store.claim_deliveries(1_000, 60_000, 10).await.unwrap().len(), 1, "{}", b.name);

        // The holder: a store that claims hands each new message over as
        // claimed (claim 1, nothing left to claim from the outbox), with
        // the alert as stored; one that does not queues it.
        let batch = [routed(an_alert("c1"), &[&destination]), routed(an_alert("c2"), &[&destination]), routed(an_alert("c3"), &[])];
        let (stored, claimed) = store_claimed(store, &batch, 2_000, &mine).await;
        assert_eq!(stored.iter().map(|s| (s.created, s.deliveries)).collect::<Vec<_>>(), [(true, 1), (true, 1), (true, 0)], "{}", b.name);
        let from_outbox = store.claim_deliveries(2_000, 60_000, 10).await.unwrap();
        assert_eq!(claimed.len() + from_outbox.len(), 2, "{}: each message once, one way or the other", b.name);
        if b.name == "sqlite" {
            assert_eq!(claimed.len(), 2, "SQLite claims them as it stores them");
        }
        for delivery in &claimed {
            assert_eq!((delivery.claim, delivery.attempts, &delivery.kind), (1, 0, &DeliveryKind::Post), "{}", b.name);
            assert_eq!(Some(delivery.alert.as_ref()), store.alert(&delivery.alert.id).await.unwrap().as_ref(), "{}", b.name);
            assert_eq!(store.deliveries_of(&delivery.alert.id).await.unwrap()[0].state, DeliveryState::Sending, "{}", b.name);
            let sent = Outcome::Sent { channel: "C1".into(), ts: "1.2".into() };
            store.finish_deliveries(&[(delivery.id, delivery.claim, sent)], 2_000).await.unwrap();
            assert_eq!(store.deliveries_of(&delivery.alert.id).await.unwrap()[0].state, DeliveryState::Sent, "{}", b.name);
        }

        // A claim handed over and never sent (the server died) comes back
        // with the next sender's start.
        let (_, claimed) = store_claimed(store, &[routed(an_alert("left"), &[&destination])], 3_000, &mine).await;
        if !claimed.is_empty() {
            assert_eq!(store.release_claims(3_000).await.unwrap(), 1 + from_outbox.len() as u64 + 1, "{}", b.name);
            assert!(store.claim_deliveries(3_000, 60_000, 10).await.unwrap().iter().any(|d| d.alert.id == "left"), "{}", b.name);
        }

        // The lease lapsed: nobody claims at ingest.
        let (_, claimed) = store_claimed(store, &[routed(an_alert("late"), &[&destination])], 61_000, &mine).await;
        assert!(claimed.is_empty(), "{}", b.name);
        store.close().await;
    }
}

/// [`Store::insert_alerts_claimed`], with the messages handed over.
async fn store_claimed(
    store: &dyn Store,
    alerts: &[NewAlertRecord],
    now: i64,
    claim: &herald_server::store::ClaimNew,
) -> (Vec<herald_server::store::Stored>, Vec<herald_server::store::ClaimedDelivery>) {
    let (early, came_early) = tokio::sync::oneshot::channel();
    let stored = store.insert_alerts_claimed(alerts, now, claim, early).await.unwrap();
    (stored, came_early.await.unwrap_or_default())
}

/// Requests of one alert each, many at once (SQLite stores those that
/// wait for the writer in one transaction): each gets its own alert's
/// answer and messages, and events of one key fold into whichever came
/// first, as they would one after another.
#[tokio::test]
async fn single_alerts_stored_at_once_each_get_their_own_answer_and_events_fold_into_the_first() {
    use herald_server::store::ClaimNew;
    for b in backends().await {
        let destination = a_destination(b.store.as_ref()).await;
        assert!(b.store.take_lease("delivery", "me", 1_000, 60_000).await.unwrap());
        let mut requests = tokio::task::JoinSet::new();
        for i in 0..40 {
            let store = b.store.clone();
            let mut alert = an_alert(&format!("a{i}"));
            let folds = i >= 30;
            if folds {
                alert.dedup_key = Some("one key".into());
            }
            let new = NewAlertRecord { fold_since: folds.then_some(0), ..routed(alert, &[&destination]) };
            requests.spawn(async move {
                let claim = ClaimNew { lease: "delivery", holder: "me".into(), lease_ms: 30_000 };
                let (stored, claimed) = if i % 2 == 0 {
                    store_claimed(store.as_ref(), std::slice::from_ref(&new), 1_000, &claim).await
                } else {
                    (store.insert_alerts(std::slice::from_ref(&new), 1_000).await.unwrap(), Vec::new())
                };
                (i, stored, claimed)
            });
        }
        let mut firsts = BTreeSet::new();
        let mut claimed_for = BTreeSet::new();
        while let Some(answer) = requests.join_next().await {
            let (i, stored, claimed) = answer.unwrap();
            let [stored] = stored.as_slice() else { panic!("{}: one answer for one alert: {stored:?}", b.name) };
            claimed_for.extend(claimed.iter().map(|d| d.alert.id.clone()));
            if i < 30 {
                assert_eq!((stored.id.as_str(), stored.created, stored.deliveries), (format!("a{i}").as_str(), true, 1), "{}", b.name);
                assert!(claimed.iter().all(|d| d.alert.id == stored.id), "{}: {i} claimed another's message", b.name);
            } else if stored.created {
                firsts.insert(stored.id.clone());
            } else {
                assert!(stored.folded, "{}: a{i}: {stored:?}", b.name);
                firsts.insert(stored.id.clone());
            }
        }
        assert_eq!(firsts.len(), 1, "{}: every event of the key went to one alert: {firsts:?}", b.name);
        let first = firsts.into_iter().next().unwrap();
        assert_eq!(b.store.alert(&first).await.unwrap().unwrap().event_count, 10, "{}", b.name);
        for i in 30..40 {
            let id = format!("a{i}");
            assert_eq!(b.store.alert(&id).await.unwrap().is_some(), id == first, "{}: only the first event is an alert", b.name);
        }
        // Each message once: claimed as stored, or left for the outbox.
        let from_outbox: BTreeSet<String> =
            b.store.claim_deliveries(1_000, 60_000, 100).await.unwrap().into_iter().map(|d| d.alert.id.clone()).collect();
        assert!(claimed_for.is_disjoint(&from_outbox), "{}", b.name);
        assert_eq!(claimed_for.len() + from_outbox.len(), 31, "{}", b.name);
        b.store.close().await;
    }
}
