//! The outbox's doorbell: what queues deliveries (ingest, triage, a new
//! token) tells the worker, and the counters both sides keep. New alerts'
//! messages can skip the queue: stored already claimed, they are handed to
//! the sender in memory ([`Outbox::store_alerts`]).

use std::sync::Arc;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use crate::store::{ClaimNew, ClaimedDelivery, NewAlertRecord, Store, StoreError, Stored};

/// How old the queue depth `/metrics` shows may be.
const DEPTH_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// What queues deliveries shares with the worker that sends them.
#[derive(Default)]
pub struct Outbox {
    /// Woken when deliveries were queued, so new alerts go out at once.
    pub queued: Notify,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// The outbox's depth as last counted, and when: a scrape every few
    /// seconds costs no count over the deliveries.
    depth: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
    /// This server holds the delivery lease: it is the one sending.
    delivering: std::sync::atomic::AtomicBool,
    /// While this server sends: where to hand it new messages.
    handoff: std::sync::Mutex<Option<Handoff>>,
}

/// The sender's offer to take new alerts' messages straight from ingest.
#[derive(Clone)]
pub struct Handoff {
    /// The claims it takes, under the lease it holds.
    pub claim: ClaimNew,
    /// Room for messages in its memory: a permit per message handed over.
    pub room: Arc<Semaphore>,
    pub to_sender: mpsc::UnboundedSender<Handed>,
}

/// Messages claimed as their alerts were stored, with the room they take.
pub struct Handed {
    pub deliveries: Vec<ClaimedDelivery>,
    pub room: OwnedSemaphorePermit,
}

impl Outbox {
    pub fn set_delivering(&self, delivering: bool) {
        self.delivering.store(delivering, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn delivering(&self) -> bool {
        self.delivering.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn wake(&self) {
        self.queued.notify_one();
    }

    /// The sender takes new messages from here on (until [`Outbox::withdraw`]).
    pub fn offer(&self, handoff: Handoff) {
        *self.handoff.lock().expect("the handoff's lock") = Some(handoff);
    }

    pub fn withdraw(&self) {
        *self.handoff.lock().expect("the handoff's lock") = None;
    }

    /// Stores alerts and their deliveries (see [`Store::insert_alerts`])
    /// and has them sent. While this server sends and has room, the new
    /// alerts' messages are claimed in the same transaction and handed to
    /// the sender at once, before the commit waits for the disk (the
    /// answer waits for it): no wake-up, no trip to the database to claim
    /// them. The rest (folds' updates; everything, without the offer) are
    /// queued and the sender woken.
    ///
    /// Run to its end (the handlers spawn it): a claim stored but never
    /// handed over would wait for its lease to lapse, or for the next
    /// sender's start.
    pub async fn store_alerts(&self, store: &dyn Store, alerts: &[NewAlertRecord], now: i64) -> Result<Vec<Stored>, StoreError> {
        let messages: usize = alerts.iter().map(|a| a.destination_ids.len()).sum();
        let offer = self.handoff.lock().expect("the handoff's lock").clone();
        let taken = offer.and_then(|offer| {
            let room = u32::try_from(messages).ok().filter(|&n| n > 0)?;
            offer.room.clone().try_acquire_many_owned(room).ok().map(|room| (offer, room))
        });
        let Some((offer, mut room)) = taken else {
            let stored = store.insert_alerts(alerts, now).await?;
            if stored.iter().any(|s| (s.created && s.deliveries > 0) || s.folded) {
                self.wake();
            }
            return Ok(stored);
        };
        // The claimed messages come before the commit, so the sender starts
        // while it waits for the disk; the answer waits for it.
        let (early, mut came_early) = tokio::sync::oneshot::channel();
        let mut inserting = std::pin::pin!(store.insert_alerts_claimed(alerts, now, &offer.claim, early));
        let mut handed = 0;
        let mut not_taken = Vec::new();
        let mut hand = |claimed: Vec<ClaimedDelivery>| {
            let count = claimed.len();
            let room = room.split(count).expect("room was taken for every message");
            match offer.to_sender.send(Handed { deliveries: claimed, room }) {
                Ok(()) => handed += count,
                Err(mpsc::error::SendError(back)) => not_taken.extend(back.deliveries),
            }
        };
        let inserted = tokio::select! {
            biased;
            Ok(claimed) = &mut came_early => {
                hand(claimed);
                inserting.await
            }
            inserted = &mut inserting => inserted,
        };
        if let Ok(claimed) = came_early.try_recv() {
            hand(claimed);
        }
        let stored = inserted?;
        if !not_taken.is_empty() {
            // The sender stopped meanwhile: the claims end here, and the
            // messages are queued for whoever sends next.
            let outcomes: Vec<_> = not_taken.iter().map(|d| (d.id, d.claim, crate::store::Outcome::Wait { due_at: now })).collect();
            if let Err(error) = store.finish_deliveries(&outcomes, now).await {
                tracing::error!(%error, "could not queue new messages the sender did not take; they go when their claim lapses");
            }
        }
        let created: usize = stored.iter().filter(|s| s.created).map(|s| s.deliveries).sum();
        if created > handed || stored.iter().any(|s| s.folded) {
            self.wake();
        }
        Ok(stored)
    }

    /// Deliveries waiting, counted at most every [`DEPTH_EVERY`].
    pub async fn queue_depth(&self, store: &dyn crate::store::Store) -> Result<u64, crate::store::StoreError> {
        if let Some((at, depth)) = *self.depth.lock().expect("the depth's lock")
            && at.elapsed() < DEPTH_EVERY
        {
            return Ok(depth);
        }
        let depth = store.queue_depth().await?;
        *self.depth.lock().expect("the depth's lock") = Some((std::time::Instant::now(), depth));
        Ok(depth)
    }
}
