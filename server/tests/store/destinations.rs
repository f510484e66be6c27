//! Destinations: drafts that follow the wizard, finished settings, status.

use herald_model::destination::{DestinationKind, DestinationSettings, DestinationStatus};
use herald_server::store::StoreError;

use crate::fixtures::{a_destination, backends, settings};

#[tokio::test]
async fn a_new_destination_is_a_draft_at_step_one_and_the_list_is_oldest_first() {
    for b in backends().await {
        let store = b.store.as_ref();
        assert!(store.list_destinations().await.unwrap().is_empty(), "{}", b.name);
        let first = a_destination(store).await;
        let second = store
            .create_destination(DestinationKind::SlackBot, &DestinationSettings { display_name: "IT".into(), ..settings() }, 0)
            .await
            .unwrap();
        assert_eq!((first.status, first.wizard_step, &first.settings, first.dedup_window), (DestinationStatus::Draft, 1, &settings(), 60));
        assert_eq!(second.dedup_window, 0);
        assert_eq!((first.delivery_problem.as_deref(), first.kind), (None, DestinationKind::SlackBot));
        assert_ne!(first.id, second.id);
        let listed: Vec<String> = store.list_destinations().await.unwrap().into_iter().map(|d| d.id).collect();
        assert_eq!(listed, [first.id.clone(), second.id.clone()], "{}", b.name);
        assert_eq!(store.destination(&first.id).await.unwrap().as_ref(), Some(&first));
        assert_eq!(store.destination("no-such-id").await.unwrap(), None);
        store.close().await;
    }
}

#[tokio::test]
async fn a_draft_keeps_what_was_typed_and_its_step_only_moves_forward() {
    for b in backends().await {
        let store = b.store.as_ref();
        let draft = a_destination(store).await;
        let typed = DestinationSettings { display_name: "Sec".into(), channel: "#se".into(), ..settings() };
        assert_eq!(store.save_draft(&draft.id, &typed, 30, 4).await.unwrap().wizard_step, 4);
        let back = store.save_draft(&draft.id, &typed, 30, 2).await.unwrap();
        assert_eq!((back.wizard_step, &back.settings), (4, &typed), "{}: going back a step keeps the furthest", b.name);
        let stored = store.destination(&draft.id).await.unwrap().unwrap();
        assert_eq!((stored.settings, stored.dedup_window), (typed.clone(), 30));
        assert!(matches!(store.save_draft("no-such-id", &typed, 30, 2).await, Err(StoreError::NotFound(_))));
        store.close().await;
    }
}

#[tokio::test]
async fn a_finished_destination_refuses_a_late_draft_save_and_keeps_its_settings() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        let checked = store.update_destination(&destination.id, &settings(), 60, Some(6)).await.unwrap();
        store.set_destination_status(&destination.id, DestinationStatus::Active).await.unwrap();
        let late = DestinationSettings { channel: "#half-typ".into(), ..settings() };
        assert!(matches!(store.save_draft(&destination.id, &late, 5, 7).await, Err(StoreError::NotDraft)), "{}", b.name);
        let now = store.destination(&destination.id).await.unwrap().unwrap();
        assert_eq!((now.settings, now.dedup_window, now.wizard_step, now.status), (checked.settings, 60, 6, DestinationStatus::Active));
        store.close().await;
    }
}

#[tokio::test]
async fn settings_replace_the_stored_ones_and_the_step_never_goes_back() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        let new = DestinationSettings { display_name: "SOC".into(), channel: "C0123ABCD".into(), ..settings() };
        let saved = store.update_destination(&destination.id, &new, 0, Some(6)).await.unwrap();
        assert_eq!((&saved.settings, saved.dedup_window, saved.wizard_step), (&new, 0, 6), "{}", b.name);
        assert_eq!(store.update_destination(&destination.id, &settings(), 60, Some(3)).await.unwrap().wizard_step, 6);
        let kept = store.update_destination(&destination.id, &new, 0, None).await.unwrap();
        assert_eq!((&kept.settings, kept.wizard_step), (&new, 6));
        assert!(matches!(store.update_destination("no-such-id", &new, 0, None).await, Err(StoreError::NotFound(_))));
        store.close().await;
    }
}

#[tokio::test]
async fn a_destination_is_switched_on_and_off_and_deleted_once() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        for status in [DestinationStatus::Active, DestinationStatus::Disabled, DestinationStatus::Active] {
            assert_eq!(store.set_destination_status(&destination.id, status).await.unwrap().status, status, "{}", b.name);
            assert_eq!(store.list_destinations().await.unwrap()[0].status, status, "the list sees the change");
        }
        assert!(matches!(store.set_destination_status("no-such-id", DestinationStatus::Active).await, Err(StoreError::NotFound(_))));
        store.delete_destination(&destination.id).await.unwrap();
        assert_eq!(store.destination(&destination.id).await.unwrap(), None);
        assert!(store.list_destinations().await.unwrap().is_empty());
        assert!(matches!(store.delete_destination(&destination.id).await, Err(StoreError::NotFound(_))));
        store.close().await;
    }
}

#[tokio::test]
async fn a_delivery_problem_counts_as_news_only_when_it_changes() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        assert!(store.set_delivery_problem(&destination.id, Some("not in channel")).await.unwrap(), "{}", b.name);
        assert!(!store.set_delivery_problem(&destination.id, Some("not in channel")).await.unwrap(), "the same cause again");
        assert!(store.set_delivery_problem(&destination.id, Some("archived")).await.unwrap(), "another cause");
        assert_eq!(store.list_destinations().await.unwrap()[0].delivery_problem.as_deref(), Some("archived"));
        assert!(store.set_delivery_problem(&destination.id, None).await.unwrap());
        assert!(!store.set_delivery_problem(&destination.id, None).await.unwrap());
        assert_eq!(store.destination(&destination.id).await.unwrap().unwrap().delivery_problem, None);
        assert!(!store.set_delivery_problem("no-such-id", Some("x")).await.unwrap());
        store.close().await;
    }
}
