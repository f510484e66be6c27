//! Leases: a job one server at a time does, handed over when its holder
//! stops renewing or gives it up.

use crate::fixtures::backends;

#[tokio::test]
async fn a_lease_is_one_holders_until_it_lapses_or_is_given_up() {
    for b in backends().await {
        let store = b.store.as_ref();
        assert!(store.take_lease("delivery", "a", 1_000, 10_000).await.unwrap(), "{}: free, so taken", b.name);
        assert!(!store.take_lease("delivery", "b", 10_999, 10_000).await.unwrap(), "{}: a's until 11,000", b.name);
        assert!(store.take_lease("other", "b", 10_999, 10_000).await.unwrap(), "{}: another job's lease is its own", b.name);
        assert!(store.take_lease("delivery", "a", 10_000, 10_000).await.unwrap(), "{}: renewed by its holder, to 20,000", b.name);
        assert!(!store.take_lease("delivery", "b", 19_999, 10_000).await.unwrap(), "{}", b.name);
        assert!(store.take_lease("delivery", "b", 20_000, 10_000).await.unwrap(), "{}: lapsed, so b takes it", b.name);
        assert!(!store.take_lease("delivery", "a", 20_001, 10_000).await.unwrap(), "{}: a lost it", b.name);
        store.drop_lease("delivery", "a").await.unwrap();
        assert!(!store.take_lease("delivery", "c", 20_002, 10_000).await.unwrap(), "{}: only the holder gives it up", b.name);
        store.drop_lease("delivery", "b").await.unwrap();
        assert!(store.take_lease("delivery", "c", 20_003, 10_000).await.unwrap(), "{}: given up, so free at once", b.name);
    }
}

#[tokio::test]
async fn of_many_asking_at_once_one_takes_the_lease() {
    for b in backends().await {
        let asks = (0..16).map(|i| {
            let store = b.store.clone();
            tokio::spawn(async move { store.take_lease("delivery", &format!("holder-{i}"), 5_000, 10_000).await.unwrap() })
        });
        let mut taken = 0;
        for ask in asks.collect::<Vec<_>>() {
            taken += usize::from(ask.await.unwrap());
        }
        assert_eq!(taken, 1, "{}", b.name);
    }
}
