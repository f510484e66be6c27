//! The Slack app: its sealed secrets, installation and rotating tokens;
//! install states, Events API event IDs and the key's check value.

use std::sync::Arc;

use herald_server::store::{Installation, SlackAppSecrets, Store, StoreError};

use crate::fixtures::{a_destination, backends, secret, secrets};

fn installation(refresh: Option<&str>) -> Installation {
    Installation {
        team_id: Some("T1".into()),
        team_name: Some("Acme".into()),
        enterprise_id: None,
        is_enterprise_install: false,
        bot_user_id: "U0BOT".into(),
        app_id: Some("A1".into()),
        scopes: "chat:write".into(),
        refresh_token: refresh.map(secret),
        token_expires_at: refresh.map(|_| 43_200),
    }
}

#[tokio::test]
async fn an_app_is_made_by_its_first_secrets_and_keeps_the_others_when_some_change() {
    for b in backends().await {
        let store = b.store.as_ref();
        assert_eq!(store.latest_slack_app().await.unwrap(), None, "{}", b.name);
        let made = store.upsert_slack_app("1.2", &secrets(Some("client-1111"), Some("signing-2222"), None)).await.unwrap();
        assert_eq!((made.client_id.as_str(), made.bot_token.as_ref(), made.installation.as_ref()), ("1.2", None, None));
        let changed = store.upsert_slack_app("1.2", &secrets(None, None, Some("xoxb-3333"))).await.unwrap();
        assert_eq!(changed.client_secret, Some(secret("client-1111")), "{}: kept", b.name);
        assert_eq!(changed.signing_secret, Some(secret("signing-2222")));
        assert_eq!(changed.bot_token.as_ref().map(|t| t.last_four.as_str()), Some("3333"));
        assert_eq!(store.slack_app("1.2").await.unwrap().as_ref(), Some(&changed));
        assert_eq!(store.latest_slack_app().await.unwrap().as_ref(), Some(&changed));
        // Socket Mode's app-level token is one more secret, kept the same way.
        let app_token = SlackAppSecrets { app_token: Some(secret("xapp-5555")), ..SlackAppSecrets::default() };
        let socket_mode = store.upsert_slack_app("1.2", &app_token).await.unwrap();
        assert_eq!(socket_mode.app_token, Some(secret("xapp-5555")), "{}", b.name);
        assert_eq!((socket_mode.bot_token, socket_mode.signing_secret), (changed.bot_token.clone(), changed.signing_secret.clone()));
        let changed = store.upsert_slack_app("1.2", &secrets(None, None, Some("xoxb-3333"))).await.unwrap();
        assert_eq!(changed.app_token, Some(secret("xapp-5555")), "kept");
        let https = store.forget_app_token("1.2").await.unwrap().expect("the app");
        assert_eq!((https.app_token, https.bot_token.as_ref()), (None, changed.bot_token.as_ref()), "only the app-level token goes");
        assert_eq!(store.slack_app("1.2").await.unwrap().unwrap().app_token, None);
        assert_eq!(store.forget_app_token("9.9").await.unwrap(), None, "no such app");
        assert_eq!(store.slack_app("9.9").await.unwrap(), None);
        store.upsert_slack_app("0.1", &secrets(Some("other-4444"), None, None)).await.unwrap();
        let listed: Vec<String> = store.list_slack_apps().await.unwrap().into_iter().map(|a| a.client_id).collect();
        assert_eq!(listed, ["0.1", "1.2"], "by client ID");
        store.close().await;
    }
}

#[tokio::test]
async fn an_install_stores_the_token_with_its_identity_and_clears_the_problem() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.upsert_slack_app("1.2", &secrets(Some("client-1111"), None, None)).await.unwrap();
        store.set_slack_app_problem("1.2", Some("Disconnected: uninstalled")).await.unwrap();
        assert_eq!(store.slack_app("1.2").await.unwrap().unwrap().problem.as_deref(), Some("Disconnected: uninstalled"), "{}", b.name);
        let installed = store.save_installation("1.2", &secret("xoxe.xoxb-5555"), &installation(Some("xoxe-1-r1"))).await.unwrap();
        assert_eq!(installed.installation, Some(installation(Some("xoxe-1-r1"))));
        assert_eq!((installed.bot_token, installed.problem), (Some(secret("xoxe.xoxb-5555")), None));
        assert_eq!(installed.client_secret, Some(secret("client-1111")), "the secrets stay");
        assert!(matches!(store.save_installation("9.9", &secret("xoxb"), &installation(None)).await, Err(StoreError::NotFound(_))));
        store.set_slack_app_problem("1.2", Some("revoked")).await.unwrap();
        store.set_slack_app_problem("1.2", None).await.unwrap();
        assert_eq!(store.slack_app("1.2").await.unwrap().unwrap().problem, None);
        store.close().await;
    }
}

#[tokio::test]
async fn a_pasted_bot_token_replaces_the_rotating_pair_and_clears_the_problem() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.upsert_slack_app("1.2", &secrets(Some("client-1111"), None, None)).await.unwrap();
        store.save_installation("1.2", &secret("xoxe.xoxb-5555"), &installation(Some("xoxe-1-r1"))).await.unwrap();
        store.set_slack_app_problem("1.2", Some("revoked")).await.unwrap();
        let pasted = store.upsert_slack_app("1.2", &secrets(None, None, Some("xoxb-6666"))).await.unwrap();
        let kept = pasted.installation.expect("the identity stays");
        assert_eq!((kept.refresh_token, kept.token_expires_at, pasted.problem), (None, None, None), "{}", b.name);
        let secret_only = store.upsert_slack_app("1.2", &secrets(Some("client-7777"), None, None)).await.unwrap();
        assert_eq!(secret_only.bot_token, Some(secret("xoxb-6666")), "a secret alone keeps the token");
        store.close().await;
    }
}

#[tokio::test]
async fn a_token_rotation_from_a_stale_refresh_token_loses() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.upsert_slack_app("1.2", &secrets(Some("client-1111"), None, None)).await.unwrap();
        store.save_installation("1.2", &secret("xoxe.xoxb-old"), &installation(Some("xoxe-1-r1"))).await.unwrap();
        assert!(
            store.rotate_tokens("1.2", "xoxe-1-r1", &secret("xoxe.xoxb-new"), &secret("xoxe-1-r2"), 90_000).await.unwrap(),
            "{}",
            b.name
        );
        assert!(!store.rotate_tokens("1.2", "xoxe-1-r1", &secret("xoxe.xoxb-lost"), &secret("xoxe-1-r3"), 99_000).await.unwrap());
        let app = store.slack_app("1.2").await.unwrap().unwrap();
        let pair = app.installation.unwrap();
        assert_eq!(
            (app.bot_token, pair.refresh_token, pair.token_expires_at),
            (Some(secret("xoxe.xoxb-new")), Some(secret("xoxe-1-r2")), Some(90_000))
        );
        assert!(!store.rotate_tokens("9.9", "xoxe-1-r2", &secret("x"), &secret("y"), 1).await.unwrap(), "no such app");
        store.close().await;
    }
}

#[tokio::test]
async fn of_two_rotations_of_the_same_pair_at_once_exactly_one_wins() {
    for b in backends().await {
        let store: Arc<dyn Store> = b.store.clone();
        store.upsert_slack_app("1.2", &secrets(Some("client-1111"), None, None)).await.unwrap();
        store.save_installation("1.2", &secret("xoxe.xoxb-old"), &installation(Some("xoxe-1-r1"))).await.unwrap();
        let rotate = |n: i64| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate_tokens("1.2", "xoxe-1-r1", &secret(&format!("xoxe.xoxb-{n}")), &secret(&format!("xoxe-1-r{n}")), n)
                    .await
                    .unwrap()
            })
        };
        let (a, b2) = (rotate(10), rotate(20));
        let (a, b2) = (a.await.unwrap(), b2.await.unwrap());
        assert!(a ^ b2, "{}: one rotation wins, one loses ({a}, {b2})", b.name);
        let winner = if a { 10 } else { 20 };
        let pair = store.slack_app("1.2").await.unwrap().unwrap().installation.unwrap();
        assert_eq!(
            (pair.refresh_token, pair.token_expires_at),
            (Some(secret(&format!("xoxe-1-r{winner}"))), Some(winner)),
            "the winner's pair"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn an_install_state_works_once_and_not_after_it_expires() {
    for b in backends().await {
        let store = b.store.as_ref();
        let destination = a_destination(store).await;
        store.create_oauth_state("fresh", &destination.id, 1_000).await.unwrap();
        store.create_oauth_state("old", &destination.id, 1_000).await.unwrap();
        assert_eq!(store.take_oauth_state("fresh", 999).await.unwrap(), Some(destination.id.clone()), "{}", b.name);
        assert_eq!(store.take_oauth_state("fresh", 999).await.unwrap(), None, "single use");
        assert_eq!(store.take_oauth_state("old", 1_000).await.unwrap(), None, "expired");
        assert_eq!(store.take_oauth_state("never-made", 0).await.unwrap(), None);
        store.close().await;
    }
}

#[tokio::test]
async fn an_event_is_handled_once_unless_its_handling_failed() {
    for b in backends().await {
        let store = b.store.as_ref();
        assert!(store.record_slack_event("Ev1").await.unwrap(), "{}", b.name);
        assert!(!store.record_slack_event("Ev1").await.unwrap(), "Slack's retry");
        assert!(store.record_slack_event("Ev2").await.unwrap(), "another event");
        store.forget_slack_event("Ev1").await.unwrap();
        assert!(store.record_slack_event("Ev1").await.unwrap(), "forgotten after a failure: the retry is handled");
        store.forget_slack_event("never-seen").await.unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn the_key_check_is_absent_on_a_new_database_and_the_first_one_set_is_kept() {
    for b in backends().await {
        let store = b.store.as_ref();
        assert_eq!(store.key_check().await.unwrap(), None, "{}", b.name);
        assert_eq!(store.set_key_check("sealed-1").await.unwrap(), "sealed-1");
        assert_eq!(store.key_check().await.unwrap().as_deref(), Some("sealed-1"));
        // A second replica starting at the same moment, with another key:
        // it is told which check value was kept, and so that its key is wrong.
        assert_eq!(store.set_key_check("sealed-2").await.unwrap(), "sealed-1", "{}", b.name);
        assert_eq!(store.key_check().await.unwrap().as_deref(), Some("sealed-1"));
        store.close().await;
    }
}
