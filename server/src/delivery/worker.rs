//! The delivery worker. One dispatcher claims due deliveries from the
//! outbox in batches, plans each a send time with the [`Pacer`], and starts
//! a task per message (at most [`CONCURRENCY`] talking to Slack at once);
//! one recorder writes the outcomes back in batches. A message whose slot
//! is far off goes back to the outbox until then, so nothing waits in
//! memory for long and a crash loses nothing: claims left behind are
//! released by the next server to deliver (at worst, messages in flight
//! are sent twice). One server delivers at a time: the one holding the
//! delivery lease; other replicas stand by to take over.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use herald_model::destination::{DestinationStatus, Severity};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use herald_model::alert::DeliveryState;

use super::pacing::{LaneKey, Pacer, Turn};
use crate::domain::alerts::message;
use crate::domain::outbox::{Handed, Handoff, Outbox};
use crate::domain::slack_app::SlackApps;
use crate::domain::system;
use crate::domain::time::now_ms;
use crate::slack::client::SlackError;
use crate::slack::explain::explain;

use crate::store::{ClaimNew, ClaimedDelivery, DeliveryKind, DestinationRecord, Outcome, PostRef, SlackAppRecord, Store};

/// Deliveries claimed per trip to the database.
const CLAIM_BATCH: usize = 256;
/// Deliveries held in memory at once (claimed, not yet recorded).
const MAX_HELD: usize = 4_096;
/// Requests to Slack at once.
const CONCURRENCY: usize = 64;
/// How long a claim holds before another worker may take the delivery:
/// well beyond the longest a claimed delivery can wait here (all held
/// deliveries, [`CONCURRENCY`] at a time, each up to the client's timeout).
const LEASE_MS: i64 = 30 * 60_000;
/// Destinations, apps and tokens are read again after this long.
const CONTEXT_TTL: Duration = Duration::from_secs(1);
/// A slot further off than this goes back to the outbox until then.
const HORIZON: Duration = Duration::from_secs(2);
/// How often an idle worker looks for retries that fell due.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// The longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// How often the sender looks for reminders that fell due.
const REMINDER_POLL: Duration = Duration::from_secs(1);
/// Reminders queued per trip to the database.
const REMINDER_BATCH: u32 = 256;
/// How long a stopping worker lets messages in flight finish.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// An outcome (delivery ID, claim) on its way to the database, with the
/// room it takes.
type Done = (i64, i64, Outcome, OwnedSemaphorePermit);

/// What the worker works with.
#[derive(Clone)]
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub apps: Arc<SlackApps>,
    pub outbox: Arc<Outbox>,
    /// Where the console is, for the messages' links.
    pub public_url: url::Url,
    pub config: Config,
}

/// The delivery settings (see `Settings` for each one's meaning).
#[derive(Clone, Debug)]
pub struct Config {
    /// Messages per minute per channel, or `None` to send unpaced.
    pub channel_rate: Option<u32>,
    pub priority_max_wait: Duration,
    pub delivery_attempts: u32,
    pub delivery_retry_base: Duration,
    /// One minute of the destinations' "remind after" setting.
    pub reminder_minute: Duration,
}

/// The lease the delivering server holds: one at a time sends to Slack,
/// so every channel's pace and Slack's Retry-After are kept in one place.
const DELIVERY_LEASE: &str = "delivery";
/// How long the lease holds unrenewed: a replica that dies hands its
/// deliveries over within about this long (one that stops, at once).
const LEASE_HOLDS: Duration = Duration::from_secs(15);
/// How often the holder renews it, and a standby asks for it.
const LEASE_RENEW: Duration = Duration::from_secs(1);

/// Why delivering stopped.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The server is stopping.
    Stopping,
    /// The lease could not be renewed: another replica may deliver now.
    LostLease,
}

/// Runs until `stop` turns true: stands by until this server holds the
/// delivery lease (at once, for a single server), then delivers while it
/// holds it, and lets messages in flight finish when stopping. `holder`
/// names this server in the lease.
pub async fn run(state: Worker, holder: String, mut stop: watch::Receiver<bool>) {
    loop {
        if !wait_for_lease(&state, &holder, &mut stop).await {
            return;
        }
        let (lost_tx, lost) = watch::channel(false);
        let keeper = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(keep_lease(state.clone(), holder.clone(), lost_tx)));
        state.outbox.set_delivering(true);
        let ended = deliver(&state, &holder, stop.clone(), lost).await;
        state.outbox.set_delivering(false);
        drop(keeper);
        match ended {
            Ended::Stopping => {
                // The next replica need not wait for the lease to lapse.
                if let Err(error) = state.store.drop_lease(DELIVERY_LEASE, &holder).await {
                    tracing::warn!(%error, "could not give the delivery lease up; another replica takes it when it lapses");
                }
                return;
            }
            Ended::LostLease => tracing::warn!("lost the delivery lease (the database did not answer in time); standing by"),
        }
    }
}

/// Asks for the lease until this server has it; `false` when stopping first.
async fn wait_for_lease(state: &Worker, holder: &str, stop: &mut watch::Receiver<bool>) -> bool {
    let mut said = false;
    while !*stop.borrow() {
        match state.store.take_lease(DELIVERY_LEASE, holder, now_ms(), millis(LEASE_HOLDS)).await {
            Ok(true) => {
                if said {
                    tracing::info!("this replica delivers now");
                }
                return true;
            }
            Ok(false) if !said => {
                tracing::info!("another replica delivers; this one stands by to take over");
                said = true;
            }
            Ok(false) => {}
            Err(error) => tracing::error!(%error, "could not ask for the delivery lease; asking again in a second"),
        }
        tokio::select! {
            () = tokio::time::sleep(LEASE_RENEW) => {}
            _ = stop.changed() => {}
        }
    }
    false
}

/// Renews the lease every [`LEASE_RENEW`]; says `lost` once it was taken
/// over, or could not be renewed for so long that it may have lapsed.
async fn keep_lease(state: Worker, holder: String, lost: watch::Sender<bool>) {
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(LEASE_RENEW).await;
        let asked = Instant::now();
        let renewal = tokio::time::timeout(LEASE_RENEW * 2, state.store.take_lease(DELIVERY_LEASE, &holder, now_ms(), millis(LEASE_HOLDS)));
        match renewal.await {
            Ok(Ok(true)) => renewed = asked,
            Ok(Ok(false)) => break,
            Ok(Err(error)) => tracing::warn!(%error, "could not renew the delivery lease"),
            Err(_) => tracing::warn!("renewing the delivery lease is taking long"),
        }
        // Stop well before it could lapse: half its time, leaving room for
        // clocks a little apart and for the sends to stop.
        if renewed.elapsed() > LEASE_HOLDS / 2 {
            break;
        }
    }
    let _ = lost.send(true);
}

/// Claims, paces and sends until stopping or the lease is lost.
async fn deliver(state: &Worker, holder: &str, mut stop: watch::Receiver<bool>, mut lost: watch::Receiver<bool>) -> Ended {
    // Holding the lease, no other worker holds a claim: those left behind
    // (by a replica that died, or this server before a crash) go now.
    match state.store.release_claims(now_ms()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deliveries = n, "resuming deliveries that were in flight when their server stopped"),
        Err(error) => tracing::error!(%error, "could not release earlier claims; they resume when their lease lapses"),
    }
    let shared = Arc::new(Shared {
        state: state.clone(),
        pacer: Pacer::new(state.config.channel_rate, state.config.priority_max_wait),
        slack_slots: Semaphore::new(CONCURRENCY),
    });
    // The lease lost: no request to Slack starts from here on (the slots
    // close), whatever the loop below is waiting for.
    let fence = {
        let (shared, mut lost) = (shared.clone(), lost.clone());
        tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
            while !*lost.borrow() {
                if lost.changed().await.is_err() {
                    return;
                }
            }
            shared.slack_slots.close();
        }))
    };
    // Reminders are sent by the sender only, so one replica books each.
    let reminders = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(remind(state.clone())));
    let held = Arc::new(Semaphore::new(MAX_HELD));
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
    // Aborted with the worker: a crash stops every send at once.
    let recorder = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(record(state.clone(), done_rx)));
    let mut sends = JoinSet::new();
    let mut last_tidy = Instant::now();
    // With the token version it was read at.
    let mut context: Option<(Instant, u64, Context)> = None;
    // New alerts' messages, claimed as they were stored, come straight
    // from ingest while this server sends (`Outbox::store_alerts`).
    let (to_sender, mut handed) = mpsc::unbounded_channel::<Handed>();
    state.outbox.offer(Handoff {
        claim: ClaimNew { lease: DELIVERY_LEASE, holder: holder.to_owned(), lease_ms: LEASE_MS },
        room: held.clone(),
        to_sender: to_sender.clone(),
    });
    // Handed over while waiting, taken next.
    let mut next: Option<Handed> = None;
    // Whether the outbox may hold deliveries due: until a claim finds
    // none, and again when woken or [`IDLE_POLL`] after the last look
    // (however many messages were handed over meanwhile).
    let mut look = true;
    let mut looked = Instant::now();

    while !*stop.borrow() && !*lost.borrow() {
        while sends.try_join_next().is_some() {}
        if last_tidy.elapsed() > Duration::from_secs(60) {
            let now = Instant::now();
            shared.pacer.forget_idle(now);
            last_tidy = now;
        }
        // Handed over first. Either way the room is taken already.
        let (claimed, mut room) = match next.take().or_else(|| handed.try_recv().ok()) {
            Some(Handed { deliveries, room }) => (deliveries, room),
            None if !look => {
                tokio::select! {
                    () = state.outbox.queued.notified() => look = true,
                    () = tokio::time::sleep_until((looked + IDLE_POLL).into()) => look = true,
                    taken = handed.recv() => next = taken,
                    _ = stop.changed() => {}
                    _ = lost.changed() => {}
                }
                continue;
            }
            None => {
                let room = held.available_permits().min(CLAIM_BATCH);
                if room == 0 {
                    tokio::select! {
                        permit = held.clone().acquire_owned() => drop(permit),
                        taken = handed.recv() => next = taken,
                        _ = stop.changed() => {}
                        _ = lost.changed() => {}
                    }
                    continue;
                }
                // Taken before claiming: ingest hands messages over from the
                // same room meanwhile. What the claim does not fill goes back
                // once these are under way.
                let Ok(taken) = held.clone().try_acquire_many_owned(room as u32) else { continue };
                looked = Instant::now();
                let claiming = state.store.claim_deliveries(now_ms(), LEASE_MS, room as u32);
                let claimed = tokio::select! {
                    claimed = claiming => claimed,
                    // Claims made meanwhile are released by the next sender.
                    _ = lost.changed() => continue,
                };
                match claimed {
                    Ok(claimed) if claimed.is_empty() => {
                        look = false;
                        continue;
                    }
                    Ok(claimed) => (claimed, taken),
                    Err(error) => {
                        tracing::error!(%error, "could not claim deliveries; trying again in a second");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.changed() => {}
                            _ = lost.changed() => {}
                        }
                        continue;
                    }
                }
            }
        };
        let tokens = state.apps.tokens_version();
        if context.as_ref().is_none_or(|(loaded, version, _)| loaded.elapsed() > CONTEXT_TTL || *version != tokens) {
            context = Some((Instant::now(), tokens, Context::load(state).await));
        }
        let context = &mut context.as_mut().expect("loaded above").2;
        for delivery in claimed {
            let permit = room.split(1).expect("room was taken for each");
            let (id, claim) = (delivery.id, delivery.claim);
            let job = match context.job(state, delivery).await {
                Ok(job) => job,
                Err(outcome) => {
                    // Not sent now: nothing should wait behind its place.
                    shared.pacer.forget(id);
                    let _ = done_tx.send((id, claim, outcome, permit));
                    continue;
                }
            };
            let now = Instant::now();
            let at = match shared.pacer.plan(&job.lane, id, severity_rank(job.delivery.alert.content.severity), now, HORIZON) {
                Turn::Soon(at) => at,
                Turn::Later { back, .. } => {
                    state.outbox.metrics.paced.fetch_add(1, Relaxed);
                    // Back when the pacer asks (keeping its place), to
                    // wait the rest of its turn here.
                    let due_at = now_ms() + millis(back.saturating_duration_since(now));
                    let _ = done_tx.send((id, claim, Outcome::Wait { due_at }, permit));
                    continue;
                }
            };
            let shared = shared.clone();
            let done_tx = done_tx.clone();
            sends.spawn(async move {
                if at > Instant::now() {
                    tokio::time::sleep_until(at.into()).await;
                }
                // The workspace's slot, and the channel's gap, only now.
                let go = shared.pacer.admit(&job.lane, id, Instant::now());
                if go > Instant::now() {
                    tokio::time::sleep_until(go.into()).await;
                }
                // A slot to talk to Slack; none once stopping (the slots
                // close): the next server to deliver sends it.
                let outcome = match shared.slack_slots.acquire().await {
                    Ok(_slot) => send(&shared, job).await,
                    Err(_) => Outcome::Wait { due_at: now_ms() },
                };
                let _ = done_tx.send((id, claim, outcome, permit));
            });
        }
    }

    let ended = if *lost.borrow() { Ended::LostLease } else { Ended::Stopping };
    // Messages handed over and not started stay claimed: the next sender
    // releases them.
    state.outbox.withdraw();
    drop(fence);
    drop(reminders);
    // Stopping, or the lease lost: only the requests Slack has already got
    // finish, and every outcome is recorded (one recorded late changes
    // nothing: the claim ended); the rest of the claims are released by
    // the next server to deliver.
    shared.slack_slots.close();
    tracing::info!(sending = CONCURRENCY - shared.slack_slots.available_permits(), "stopping deliveries");
    let drained = tokio::time::timeout(STOP_GRACE, async { while sends.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("messages still in flight at shutdown; they are sent again by the next server to deliver");
        sends.abort_all();
    }
    drop(done_tx);
    // As long as the recorder's own retries take.
    let _ = tokio::time::timeout(STOP_GRACE * 3, recorder).await;
    ended
}

/// Queues the reminders that fall due, every [`REMINDER_POLL`], as
/// replies in their alerts' threads (with the destination's mentions);
/// the outbox sends them like any other reply. Runs until aborted.
async fn remind(state: Worker) {
    let minute_ms = millis(state.config.reminder_minute).max(1);
    loop {
        tokio::time::sleep(REMINDER_POLL).await;
        let destinations = match state.store.list_destinations().await {
            Ok(list) => list,
            Err(error) => {
                tracing::error!(%error, "could not read the destinations for reminders; trying again");
                continue;
            }
        };
        let mentions: HashMap<&str, &herald_model::mention::Mentions> =
            destinations.iter().map(|d| (d.id.as_str(), &d.settings.mentions)).collect();
        let text = |due: &crate::store::DueReminder| {
            let mentions = mentions.get(due.destination_id.as_str()).map(|m| m.slack_text(due.severity)).unwrap_or_default();
            message::reminder_text(due, &mentions)
        };
        match state.store.send_reminders(now_ms(), minute_ms, REMINDER_BATCH, &text).await {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!(reminders = queued, "reminding of alerts still open");
                state.outbox.metrics.reminders.fetch_add(queued, Relaxed);
                state.outbox.wake();
            }
            Err(error) => tracing::error!(%error, "could not send the reminders that are due; trying again"),
        }
    }
}

/// The pacer's severity rank: 0 INFO to 4 CRITICAL.
fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

struct Shared {
    state: Worker,
    pacer: Pacer,
    slack_slots: Semaphore,
}

/// One message, ready to go.
struct Job {
    delivery: ClaimedDelivery,
    destination: Arc<DestinationRecord>,
    app: Arc<SlackAppRecord>,
    token: SecretString,
    target: String,
    zone: jiff::tz::TimeZone,
    lane: LaneKey,
}

/// Destinations, apps and bot tokens, read once per claimed batch.
struct Context {
    destinations: HashMap<String, Arc<DestinationRecord>>,
    /// `None`: the database could not say; deliveries wait a moment.
    apps: Option<HashMap<String, Arc<SlackAppRecord>>>,
    tokens: HashMap<String, Result<SecretString, TokenTrouble>>,
    zones: HashMap<String, jiff::tz::TimeZone>,
}

impl Context {
    async fn load(state: &Worker) -> Context {
        let destinations = match state.store.list_destinations().await {
            Ok(list) => list.into_iter().map(|d| (d.id.clone(), Arc::new(d))).collect(),
            Err(error) => {
                tracing::error!(%error, "could not read the destinations");
                HashMap::new()
            }
        };
        let apps = match state.store.list_slack_apps().await {
            Ok(list) => Some(list.into_iter().map(|a| (a.client_id.clone(), Arc::new(a))).collect()),
            Err(error) => {
                tracing::error!(%error, "could not read the Slack apps");
                None
            }
        };
        Context { destinations, apps, tokens: HashMap::new(), zones: HashMap::new() }
    }

    /// The job for a delivery, or the outcome that it cannot be sent now.
    async fn job(&mut self, state: &Worker, delivery: ClaimedDelivery) -> Result<Job, Outcome> {
        // The database could not say: try again in a moment.
        let soon = Outcome::Wait { due_at: now_ms() + 1_000 };
        let (Some(destination), Some(apps)) = (self.destinations.get(&delivery.destination_id).cloned(), &self.apps) else {
            return Err(soon);
        };
        if destination.status != DestinationStatus::Active {
            let error = "The destination was disabled before the alert was sent; enable it and use Re-send.".to_owned();
            return Err(Outcome::Failed { error });
        }
        let client_id = destination.settings.client_id.clone();
        let Some(app) = apps.get(&client_id).cloned() else {
            return Err(Outcome::Failed { error: "The destination's Slack app has no bot token: reinstall it.".to_owned() });
        };
        if !self.tokens.contains_key(&client_id) {
            let token = state.apps.bot_token(&app, None).await.map_err(|e| TokenTrouble { passing: e.retryable(), message: e.to_string() });
            self.tokens.insert(client_id.clone(), token);
        }
        let token = match &self.tokens[&client_id] {
            Ok(token) => token.clone(),
            Err(trouble) if trouble.passing => {
                let attempt = delivery.attempts + 1;
                if attempt < state.config.delivery_attempts {
                    let due_at = now_ms() + millis(backoff(state.config.delivery_retry_base, attempt));
                    return Err(Outcome::Retry { due_at, error: trouble.message.clone() });
                }
                return Err(Outcome::Failed { error: format!("Gave up on a delivery after {attempt} attempts. {}", trouble.message) });
            }
            Err(trouble) => {
                if let Err(error) = system::destination_failing(&*state.store, &state.outbox, &destination, &trouble.message, true).await {
                    tracing::error!(%error, "could not record the destination's problem");
                }
                return Err(Outcome::Failed { error: trouble.message.clone() });
            }
        };
        let target = message::channel_target(&destination.settings.channel);
        let lane = LaneKey { workspace: client_id, channel: target.clone() };
        let timezone = &destination.settings.timezone;
        let zone = self.zones.entry(timezone.clone()).or_insert_with(|| message::zone(timezone)).clone();
        Ok(Job { delivery, destination, app, token, target, zone, lane })
    }
}

/// Why there is no bot token to send with.
struct TokenTrouble {
    /// Slack or the database could not be asked; the next try may work.
    passing: bool,
    message: String,
}

/// What an error from Slack means for the delivery.
enum Verdict {
    /// Wait for Slack's Retry-After, then try again (not an attempt).
    RateLimited(Duration),
    /// Might pass: retry with backoff.
    Transient,
    /// Will not pass by itself; `whole_app`: the token or the app's
    /// permissions, so every destination of the app is affected.
    Permanent { whole_app: bool },
}

fn verdict(error: &SlackError) -> Verdict {
    match error {
        SlackError::RateLimited(wait) => Verdict::RateLimited(*wait),
        SlackError::Transport(_) | SlackError::Decode => Verdict::Transient,
        SlackError::Status(status) if *status >= 500 || *status == 408 => Verdict::Transient,
        SlackError::Status(_) => Verdict::Permanent { whole_app: false },
        SlackError::Api(code) => match code.as_str() {
            "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" | "ratelimited" | "message_limit_exceeded" => {
                Verdict::Transient
            }
            "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" | "missing_scope" => {
                Verdict::Permanent { whole_app: true }
            }
            _ => Verdict::Permanent { whole_app: false },
        },
    }
}

/// Sends one message and says how it went.
async fn send(shared: &Shared, job: Job) -> Outcome {
    let state = &shared.state;
    if let Some(until) = shared.pacer.blocked_until(&job.lane, Instant::now()) {
        // Slack asked to wait while this one waited for its slot.
        return Outcome::Wait { due_at: now_ms() + millis(until - Instant::now()) };
    }
    // Updates and replies go where the alert's message is, once it is there.
    let follow_up = job.delivery.kind != DeliveryKind::Post;
    let at_message = match &job.delivery.post {
        _ if !follow_up => None,
        Some(PostRef { state: DeliveryState::Sent, channel: Some(channel), ts: Some(ts) }) => Some((channel.as_str(), ts.as_str())),
        Some(PostRef { state: DeliveryState::Failed, .. }) | Some(PostRef { state: DeliveryState::Sent, .. }) | None => {
            return match job.delivery.kind {
                DeliveryKind::Update => Outcome::Done,
                _ => {
                    Outcome::Failed { error: "The alert's message never reached this channel: there is no thread to reply in.".to_owned() }
                }
            };
        }
        // Not posted yet: wait for it (an update too, as the message may
        // have been built before the change).
        Some(_) => return Outcome::Wait { due_at: now_ms() + 2_000 },
    };
    let mut token = job.token.clone();
    let mut result = attempt(shared, &job, token.expose_secret(), at_message).await;
    match &result {
        Err(SlackError::Api(code)) if code == "token_expired" => {
            match state.apps.bot_token(&job.app, Some(token.expose_secret())).await {
                Ok(renewed) => {
                    token = renewed;
                    result = attempt(shared, &job, token.expose_secret(), at_message).await;
                }
                // Slack could not be asked to renew it: a passing failure,
                // retried with backoff, not an expired token for good.
                Err(error @ crate::domain::error::Error::SlackUnreachable) => {
                    result = Err(SlackError::Transport(format!("renewing the bot token: {error}")));
                }
                Err(_) => {}
            }
        }
        // The token may have been replaced (a reinstall, a pasted token)
        // since it was read: once more with the stored one before this
        // counts as revoked.
        Err(SlackError::Api(code)) if matches!(code.as_str(), "token_revoked" | "invalid_auth" | "account_inactive") => {
            if let Some(fresh) =
                stored_token(state, &job.app.client_id).await.filter(|fresh| fresh.expose_secret() != token.expose_secret())
            {
                token = fresh;
                result = attempt(shared, &job, token.expose_secret(), at_message).await;
            }
        }
        _ => {}
    }
    let error = match result {
        Ok(posted) => {
            tracing::debug!(alert.id = %job.delivery.alert.id, destination.id = %job.destination.id, slack.channel = %posted.channel, "delivered");
            return Outcome::Sent { channel: posted.channel, ts: posted.ts };
        }
        Err(error) => error,
    };
    // Only this explanation names the bot; asking Slack for the name on
    // every failure would double the calls while Slack is in trouble.
    let bot = if error.code() == Some("not_in_channel") {
        state.apps.bot_name(&job.app.client_id, token.expose_secret()).await
    } else {
        herald_model::manifest::bot_display_name(herald_model::manifest::DEFAULT_APP_NAME)
    };
    let reason = explain(&error, &job.target, &bot);
    let attempt = job.delivery.attempts + 1;
    match verdict(&error) {
        Verdict::RateLimited(wait) => {
            state.outbox.metrics.rate_limited.fetch_add(1, Relaxed);
            shared.pacer.block(&job.lane, Instant::now(), wait);
            tracing::info!(destination.id = %job.destination.id, wait = ?wait, "Slack rate limited the channel; waiting");
            Outcome::Wait { due_at: now_ms() + millis(wait) }
        }
        Verdict::Transient if attempt < state.config.delivery_attempts => {
            let wait = backoff(state.config.delivery_retry_base, attempt);
            tracing::info!(destination.id = %job.destination.id, attempt, wait = ?wait, error = %error, "delivery failed; retrying");
            Outcome::Retry { due_at: now_ms() + millis(wait), error: reason }
        }
        // An update or a reply that cannot be made says so on its own row;
        // the destination's health is its messages'.
        Verdict::Transient | Verdict::Permanent { .. } if follow_up => {
            tracing::warn!(destination.id = %job.destination.id, error = %error, "a follow-up of an alert's message failed");
            Outcome::Failed { error: reason }
        }
        Verdict::Transient => {
            let problem = format!("Gave up on a delivery after {attempt} attempts. {reason}");
            tracing::warn!(destination.id = %job.destination.id, attempt, error = %error, "delivery given up");
            if let Err(error) = system::destination_failing(&*state.store, &state.outbox, &job.destination, &problem, false).await {
                tracing::error!(%error, "could not record the destination's problem");
            }
            Outcome::Failed { error: problem }
        }
        Verdict::Permanent { whole_app } => {
            tracing::warn!(destination.id = %job.destination.id, error = %error, "delivery refused by Slack");
            if let Err(error) = system::destination_failing(&*state.store, &state.outbox, &job.destination, &reason, whole_app).await {
                tracing::error!(%error, "could not record the destination's problem");
            }
            Outcome::Failed { error: reason }
        }
    }
}

/// The app's bot token as stored now.
async fn stored_token(state: &Worker, client_id: &str) -> Option<SecretString> {
    let app = state.store.slack_app(client_id).await.ok()??;
    state.apps.bot_token(&app, None).await.ok()
}

/// One call to Slack for the job: the message, its update, or a reply in
/// its thread (`at_message`: where the message is).
async fn attempt(
    shared: &Shared,
    job: &Job,
    token: &str,
    at_message: Option<(&str, &str)>,
) -> Result<crate::slack::client::Posted, SlackError> {
    let state = &shared.state;
    let alert = &job.delivery.alert;
    let started = Instant::now();
    let mentions = job.destination.settings.mentions.slack_text(alert.content.severity);
    let result = match (&job.delivery.kind, at_message) {
        (DeliveryKind::Update, Some((channel, ts))) => {
            state
                .apps
                .slack()
                .update_message_once(token, message::build_update(alert, &job.zone, channel, ts, &state.public_url, &mentions))
                .await
        }
        (DeliveryKind::Reply(text), Some((channel, ts))) => {
            state.apps.slack().post_message_once(token, message::build_reply(channel, ts, text)).await
        }
        _ => state.apps.slack().post_message_once(token, message::build(alert, &job.zone, &job.target, &state.public_url, &mentions)).await,
    };
    state.outbox.metrics.observe_slack(started.elapsed());
    result
}

/// `base · 2^(attempt-1)`, at most [`MAX_BACKOFF`], ±25 % jitter so that
/// many deliveries failing together do not retry together.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    crate::domain::time::backoff(base, attempt, MAX_BACKOFF)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Writes outcomes back in batches: whatever arrived while the last batch
/// was written goes in the next transaction.
async fn record(state: Worker, mut done: mpsc::UnboundedReceiver<Done>) {
    let mut batch: Vec<Done> = Vec::with_capacity(1_024);
    let mut outcomes: Vec<(i64, i64, Outcome)> = Vec::with_capacity(1_024);
    while done.recv_many(&mut batch, 1_024).await > 0 {
        let metrics = &state.outbox.metrics;
        for (id, claim, outcome, _) in &batch {
            match outcome {
                Outcome::Sent { .. } => metrics.sent.fetch_add(1, Relaxed),
                Outcome::Retry { .. } => metrics.retried.fetch_add(1, Relaxed),
                Outcome::Failed { .. } => metrics.failed.fetch_add(1, Relaxed),
                Outcome::Wait { .. } | Outcome::Done => 0,
            };
            outcomes.push((*id, *claim, outcome.clone()));
        }
        // A busy or briefly failing database is waited for (holding the
        // room, so the dispatcher claims no more meanwhile); after that the
        // claims lapse and the messages are sent again: late, never lost.
        let mut wait = Duration::from_millis(50);
        loop {
            match state.store.finish_deliveries(&outcomes, now_ms()).await {
                Ok(()) => break,
                Err(error) if wait <= Duration::from_secs(10) => {
                    tracing::warn!(%error, deliveries = outcomes.len(), retry_in = ?wait, "could not record delivery outcomes yet");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(error) => {
                    tracing::error!(%error, deliveries = outcomes.len(), "could not record delivery outcomes; they are sent again later");
                    break;
                }
            }
        }
        // Something may be claimable now: a retry falling due, or an update
        // or reply that waited for what was just recorded. Messages that
        // got through wake no one (new alerts' messages come handed over,
        // and a claim after each would cost a query): what waited for them
        // is claimed at the dispatcher's next look, within `IDLE_POLL`.
        if outcomes.iter().any(|(_, _, o)| !matches!(o, Outcome::Sent { .. })) {
            state.outbox.wake();
        }
        outcomes.clear();
        // Dropping the batch frees its room for new claims.
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_ten_minutes() {
        let base = Duration::from_secs(5);
        for (attempt, nominal) in [(1, 5.0), (2, 10.0), (3, 20.0), (8, 600.0), (30, 600.0)] {
            let got = backoff(base, attempt).as_secs_f64();
            assert!(got >= nominal * 0.75 - 0.01 && got <= nominal * 1.25 + 0.01, "attempt {attempt}: {got}");
        }
        let total: f64 = (1..10).map(|a| base.saturating_mul(1 << (a - 1)).min(MAX_BACKOFF).as_secs_f64()).sum();
        assert!((1_700.0..2_000.0).contains(&total), "ten attempts span about half an hour: {total}");
    }

    #[test]
    fn permanent_and_passing_errors_are_told_apart() {
        let api = |code: &str| verdict(&SlackError::Api(code.into()));
        for code in ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks"] {
            assert!(matches!(api(code), Verdict::Permanent { whole_app: false }), "{code}");
        }
        for code in ["invalid_auth", "token_revoked"] {
            assert!(matches!(api(code), Verdict::Permanent { whole_app: true }), "{code}");
        }
        assert!(matches!(verdict(&SlackError::Status(503)), Verdict::Transient));
        assert!(matches!(verdict(&SlackError::Transport("timed out".into())), Verdict::Transient));
        assert!(matches!(api("internal_error"), Verdict::Transient));
        assert!(matches!(verdict(&SlackError::RateLimited(Duration::from_secs(2))), Verdict::RateLimited(_)));
    }
}
