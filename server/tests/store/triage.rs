//! Triage: a change is applied, recorded and carried to Slack in one
//! transaction, and only if the alert is still as the change expected.

use std::sync::Arc;

use herald_model::alert::{ActivityAction, AlertStatus};
use herald_server::store::{AssigneeRecord, DeliveryKind, Outcome, Store, TriageChange};

use crate::fixtures::{a_destination, an_alert, backends, note, routed, status_change};

#[tokio::test]
async fn a_change_is_recorded_and_follows_the_message_with_an_update_and_a_reply_in_order() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        store.insert_alerts(&[routed(an_alert("a1"), &[&destination])], 1_000).await.unwrap();
        let post = store.claim_deliveries(1_000, 60_000, 10).await.unwrap().remove(0);
        store.finish_deliveries(&[(post.id, post.claim, Outcome::Sent { channel: "C1".into(), ts: "1.2".into() })], 1_100).await.unwrap();
        let change =
            TriageChange { reply: Some("Ana resolved it".into()), ..status_change("a1", AlertStatus::Open, AlertStatus::Resolved) };
        let after = store.apply_triage(&change, 2_000).await.unwrap().expect("applied");
        assert_eq!(after.status, AlertStatus::Resolved, "{}", b.name);
        assert_eq!(store.alert("a1").await.unwrap().unwrap().status, AlertStatus::Resolved);
        let history = store.activity_of("a1").await.unwrap();
        assert_eq!(history.iter().map(|h| (h.at, h.activity.action)).collect::<Vec<_>>(), [(2_000, ActivityAction::Status)]);
        let update = store.claim_deliveries(60_000, 60_000, 10).await.unwrap();
        assert_eq!(update.iter().map(|d| d.kind.clone()).collect::<Vec<_>>(), [DeliveryKind::Update], "the reply waits behind the update");
        assert_eq!(update[0].post.as_ref().and_then(|p| p.ts.as_deref()), Some("1.2"), "the update knows its message");
        store.finish_deliveries(&[(update[0].id, update[0].claim, Outcome::Done)], 60_100).await.unwrap();
        let reply = store.claim_deliveries(60_200, 60_000, 10).await.unwrap();
        assert_eq!(reply.iter().map(|d| d.kind.clone()).collect::<Vec<_>>(), [DeliveryKind::Reply("Ana resolved it".into())]);
        store.close().await;
    }
}

#[tokio::test]
async fn a_change_of_an_alert_that_is_gone_or_no_longer_as_expected_changes_nothing() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.insert_alerts(&[routed(an_alert("a1"), &[])], 1_000).await.unwrap();
        assert_eq!(store.apply_triage(&note("a9", "hello"), 2_000).await.unwrap(), None, "{}: no such alert", b.name);
        let stale = status_change("a1", AlertStatus::Triaged, AlertStatus::Resolved);
        assert_eq!(store.apply_triage(&stale, 2_000).await.unwrap(), None, "decided on another status");
        let ana = store.create_user(crate::fixtures::a_user("ana@example.com", herald_model::account::Role::Analyst)).await.unwrap();
        let someone = Some(AssigneeRecord { user_id: Some(ana.id.clone()), name: "Ana".into(), slack_id: Some("U1".into()) });
        let assign =
            TriageChange { expected_assignee: Some(Some("someone-else".into())), assignee: Some(someone.clone()), ..note("a1", "") };
        assert_eq!(store.apply_triage(&assign, 2_000).await.unwrap(), None, "decided on another assignee");
        assert!(store.activity_of("a1").await.unwrap().is_empty(), "no history of what did not happen");
        let assign = TriageChange { expected_assignee: Some(None), ..assign };
        assert_eq!(store.apply_triage(&assign, 2_000).await.unwrap().unwrap().assignee, someone);
        let unassign = TriageChange { expected_assignee: Some(Some(ana.id.clone())), assignee: Some(None), ..note("a1", "") };
        assert_eq!(store.apply_triage(&unassign, 3_000).await.unwrap().unwrap().assignee, None);
        store.close().await;
    }
}

#[tokio::test]
async fn of_two_changes_decided_on_the_same_status_at_once_exactly_one_is_applied() {
    for b in backends().await {
        let store: Arc<dyn Store> = b.store.clone();
        store.insert_alerts(&[routed(an_alert("a1"), &[])], 1_000).await.unwrap();
        let change = |to: AlertStatus| {
            let store = store.clone();
            tokio::spawn(async move { store.apply_triage(&status_change("a1", AlertStatus::Open, to), 2_000).await.unwrap() })
        };
        let (triaged, resolved) = (change(AlertStatus::Triaged), change(AlertStatus::Resolved));
        let (triaged, resolved) = (triaged.await.unwrap(), resolved.await.unwrap());
        assert!(triaged.is_some() ^ resolved.is_some(), "{}: one applies, one finds the alert changed", b.name);
        let winner = if triaged.is_some() { AlertStatus::Triaged } else { AlertStatus::Resolved };
        assert_eq!(store.alert("a1").await.unwrap().unwrap().status, winner);
        assert_eq!(store.activity_of("a1").await.unwrap().len(), 1, "one entry in the history");
        store.close().await;
    }
}
