//! Users (and the guard that keeps an enabled admin), sessions, API tokens.

use std::sync::Arc;

use herald_model::account::{Email, Role, UserPatch};
use herald_server::store::{NewApiTokenRecord, Store, StoreError};

use crate::fixtures::{a_user, backends};

fn disable() -> UserPatch {
    UserPatch { enabled: Some(false), ..UserPatch::default() }
}

#[tokio::test]
async fn users_are_counted_listed_by_email_and_found_whatever_the_case() {
    for b in backends().await {
        let store = b.store.as_ref();
        assert_eq!(store.count_users().await.unwrap(), 0, "{}", b.name);
        let zoe = store.create_user(a_user("zoe@example.com", Role::Viewer)).await.unwrap();
        let ana = store.create_user(a_user("Ana@Example.com", Role::Admin)).await.unwrap();
        assert_eq!(store.count_users().await.unwrap(), 2);
        assert!(ana.enabled && ana.role == Role::Admin && ana.display_name == "Ana");
        let listed: Vec<String> = store.list_users().await.unwrap().into_iter().map(|u| u.id).collect();
        assert_eq!(listed, [ana.id.clone(), zoe.id.clone()], "by email, whatever its case");
        let found = store.user_by_email(&Email::parse("email", "ANA@example.COM").unwrap()).await.unwrap().expect("found");
        assert_eq!((found.user, found.password_hash.as_str()), (ana, "hash-of-Ana@Example.com"));
        assert!(store.user_by_email(&Email::parse("email", "nobody@example.com").unwrap()).await.unwrap().is_none());
        store.close().await;
    }
}

#[tokio::test]
async fn an_email_is_taken_whatever_its_case() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        let again = store.create_user(a_user("ANA@example.com", Role::Viewer)).await;
        assert!(matches!(again, Err(StoreError::EmailTaken)), "{}: {again:?}", b.name);
        assert_eq!(store.count_users().await.unwrap(), 1);
        store.close().await;
    }
}

#[tokio::test]
async fn an_update_changes_what_it_names_and_nothing_else() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        let bo = store.create_user(a_user("bo@example.com", Role::Viewer)).await.unwrap();
        let renamed = store.update_user(&bo.id, &UserPatch { display_name: Some("Bo B.".into()), ..UserPatch::default() }).await.unwrap();
        assert_eq!((renamed.display_name.as_str(), renamed.role, renamed.enabled), ("Bo B.", Role::Viewer, true), "{}", b.name);
        let promoted = store.update_user(&bo.id, &UserPatch { role: Some(Role::Analyst), ..UserPatch::default() }).await.unwrap();
        assert_eq!((promoted.display_name.as_str(), promoted.role), ("Bo B.", Role::Analyst));
        assert!(!store.update_user(&bo.id, &disable()).await.unwrap().enabled);
        assert!(matches!(store.update_user("no-such-id", &disable()).await, Err(StoreError::NotFound(_))));
        store.close().await;
    }
}

#[tokio::test]
async fn the_last_enabled_admin_can_be_neither_demoted_nor_disabled() {
    for b in backends().await {
        let store = b.store.as_ref();
        let ana = store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        let bo = store.create_user(a_user("bo@example.com", Role::Admin)).await.unwrap();
        store.update_user(&bo.id, &disable()).await.unwrap();
        let demote = UserPatch { role: Some(Role::Viewer), ..UserPatch::default() };
        assert!(matches!(store.update_user(&ana.id, &demote).await, Err(StoreError::LastAdmin)), "{}", b.name);
        assert!(matches!(store.update_user(&ana.id, &disable()).await, Err(StoreError::LastAdmin)));
        let still = store.list_users().await.unwrap().into_iter().find(|u| u.id == ana.id).unwrap();
        assert_eq!((still.role, still.enabled), (Role::Admin, true), "nothing changed");
        store.close().await;
    }
}

#[tokio::test]
async fn two_admins_disabling_each_other_at_once_leave_one_enabled() {
    for b in backends().await {
        let store: Arc<dyn Store> = b.store.clone();
        let ana = store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        let bo = store.create_user(a_user("bo@example.com", Role::Admin)).await.unwrap();
        let off = |id: String| {
            let store = store.clone();
            tokio::spawn(async move { store.update_user(&id, &disable()).await })
        };
        let (first, second) = (off(ana.id.clone()), off(bo.id.clone()));
        let results = [first.await.unwrap(), second.await.unwrap()];
        let refused = results.iter().filter(|r| matches!(r, Err(StoreError::LastAdmin))).count();
        assert_eq!((results.iter().filter(|r| r.is_ok()).count(), refused), (1, 1), "{}: {results:?}", b.name);
        let enabled_admins = store.list_users().await.unwrap().into_iter().filter(|u| u.enabled && u.role == Role::Admin).count();
        assert_eq!(enabled_admins, 1);
        store.close().await;
    }
}

#[tokio::test]
async fn a_session_names_its_enabled_user_until_it_expires_or_is_deleted() {
    for b in backends().await {
        let store = b.store.as_ref();
        let ana = store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        store.create_session("s1", &ana.id, 1_000, 2_000).await.unwrap();
        store.create_session("s2", &ana.id, 1_000, 5_000).await.unwrap();
        assert_eq!(store.session_user("s1", 1_999).await.unwrap().map(|u| u.id), Some(ana.id.clone()), "{}", b.name);
        assert_eq!(store.session_user("s1", 2_000).await.unwrap(), None, "expired");
        assert_eq!(store.session_user("nope", 1_000).await.unwrap(), None);
        store.delete_session("s2").await.unwrap();
        assert_eq!(store.session_user("s2", 1_000).await.unwrap(), None, "signed out");
        store.create_session("s3", &ana.id, 1_000, 3_000).await.unwrap();
        store.create_session("s4", &ana.id, 1_000, 9_000).await.unwrap();
        assert_eq!(store.delete_expired_sessions(3_000).await.unwrap(), 2, "s1 and s3");
        assert!(store.session_user("s4", 3_000).await.unwrap().is_some());
        store.close().await;
    }
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_for_good() {
    for b in backends().await {
        let store = b.store.as_ref();
        store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        let bo = store.create_user(a_user("bo@example.com", Role::Analyst)).await.unwrap();
        store.create_session("s1", &bo.id, 1_000, 9_000).await.unwrap();
        store.update_user(&bo.id, &disable()).await.unwrap();
        store.update_user(&bo.id, &UserPatch { enabled: Some(true), ..UserPatch::default() }).await.unwrap();
        assert_eq!(store.session_user("s1", 2_000).await.unwrap(), None, "{}: enabling again does not bring it back", b.name);
        store.close().await;
    }
}

#[tokio::test]
async fn housekeeping_forgets_expired_sessions_and_install_states() {
    for b in backends().await {
        let store = b.store.as_ref();
        let ana = store.create_user(a_user("ana@example.com", Role::Admin)).await.unwrap();
        let destination = crate::fixtures::a_destination(store).await;
        store.create_session("old", &ana.id, 0, 100).await.unwrap();
        store.create_session("new", &ana.id, 0, 10_000).await.unwrap();
        store.create_oauth_state("old", &destination.id, 100).await.unwrap();
        store.create_oauth_state("new", &destination.id, 10_000).await.unwrap();
        store.prune_bookkeeping(5_000).await.unwrap();
        assert_eq!(store.delete_expired_sessions(5_000).await.unwrap(), 0, "{}: the expired session went already", b.name);
        assert!(store.session_user("new", 5_000).await.unwrap().is_some());
        assert_eq!(store.take_oauth_state("new", 5_000).await.unwrap().as_deref(), Some(destination.id.as_str()));
        store.close().await;
    }
}

#[tokio::test]
async fn an_api_token_works_until_revoked_and_records_its_use() {
    for b in backends().await {
        let store = b.store.as_ref();
        let new = |name: &str, hash: &str| NewApiTokenRecord {
            name: name.into(),
            token_hash: hash.into(),
            hint: format!("hrld_…{name}"),
            created_by: None,
        };
        let ci = store.create_api_token(new("ci", "h1")).await.unwrap();
        let siem = store.create_api_token(new("siem", "h2")).await.unwrap();
        assert_eq!((ci.last_used_at.as_ref(), ci.revoked_at.as_ref(), ci.hint.as_str()), (None, None, "hrld_…ci"), "{}", b.name);
        let listed: Vec<String> = store.list_api_tokens().await.unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(listed, [siem.id.clone(), ci.id.clone()], "newest first");
        let used = store.use_api_token("h1").await.unwrap().expect("works");
        assert_eq!(used.id, ci.id);
        assert!(used.last_used_at.is_some(), "the use is recorded");
        assert_eq!(store.use_api_token("h1").await.unwrap().map(|t| t.id), Some(ci.id.clone()), "and again");
        assert_eq!(store.use_api_token("unknown").await.unwrap(), None);
        let revoked = store.revoke_api_token(&ci.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(store.revoke_api_token(&ci.id).await.unwrap().revoked_at, revoked.revoked_at, "revoking again changes nothing");
        assert_eq!(store.use_api_token("h1").await.unwrap(), None, "revoked");
        assert!(store.list_api_tokens().await.unwrap().iter().any(|t| t.id == ci.id), "still listed");
        assert!(matches!(store.revoke_api_token("no-such-id").await, Err(StoreError::NotFound(_))));
        store.close().await;
    }
}
