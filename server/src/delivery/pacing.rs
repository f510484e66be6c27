//! Slack's pace for messages: about one a second per channel and a
//! ceiling per workspace; after an HTTP 429, nothing to that channel until
//! `Retry-After` has passed.
//!
//! Two steps per message. When the worker claims it, [`Pacer::plan`] places
//! it in its channel's queue, most severe first and then in order of
//! arrival, and says when its turn comes (rate-limiter crates answer "now
//! or not", but the worker needs "when", to sleep until then or put the
//! delivery back). A CRITICAL alert behind a storm of LOW ones takes the
//! next slot; the storm's messages come back later. Only when the message
//! is about to go does [`Pacer::admit`] take a workspace slot and check the
//! gap since the channel's last send: a backlog queued in one channel books
//! nothing in the workspace, so it holds up no other channel. A channel
//! starts with no burst, so a steady backlog never earns a 429.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Messages per workspace (one app): Slack allows "several hundred a
/// minute"; five a second with bursts of twenty.
const WORKSPACE: Rate = Rate { interval: Duration::from_millis(200), burst: 20 };

#[derive(Debug, Clone, Copy)]
struct Rate {
    interval: Duration,
    burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Lane {
    /// GCRA's theoretical arrival time: when the lane is free of its burst.
    tat: Instant,
    /// When the channel may be sent to next (channels only: the gap since
    /// the last message that actually went).
    next_send: Instant,
    /// Retry-After from an HTTP 429.
    blocked_until: Option<Instant>,
}

impl Lane {
    fn new(now: Instant) -> Lane {
        Lane { tat: now, next_send: now, blocked_until: None }
    }

    fn earliest(&self, now: Instant, rate: Option<Rate>) -> Instant {
        let mut at = now;
        if let Some(rate) = rate {
            let tau = rate.interval * (rate.burst.saturating_sub(1));
            at = at.max(self.tat.checked_sub(tau).unwrap_or(now));
        }
        if let Some(blocked) = self.blocked_until {
            at = at.max(blocked);
        }
        at
    }

    fn reserve(&mut self, at: Instant, rate: Option<Rate>) {
        if let Some(rate) = rate {
            self.tat = self.tat.max(at) + rate.interval;
        }
    }

    fn busy(&self, now: Instant) -> bool {
        self.tat > now || self.next_send > now || self.blocked_until.is_some_and(|b| b > now)
    }
}

/// A place in a channel's queue: the higher rank first, then the earlier
/// delivery (IDs grow as deliveries are made, so a delivery that comes
/// back, after a 429 say, finds its place again).
type Place = (Reverse<u8>, i64);

/// Severities are ranks 0 (INFO) to 4 (CRITICAL); a delivery overtaken by
/// more severe ones for longer than the longest wait goes ahead of all.
const SEVERITIES: usize = 5;
const OVERDUE: u8 = SEVERITIES as u8;

/// A place kept longer than this past its turn, without its delivery
/// coming back (re-sent, deleted), is given up.
const GIVE_UP: Duration = Duration::from_secs(30);

/// The deliveries waiting for one channel.
#[derive(Default)]
struct Queue {
    order: BTreeSet<Place>,
    places: HashMap<i64, Waiting>,
    /// The newest delivery placed at each severity: one placed before a
    /// more severe one has been overtaken.
    newest: [i64; SEVERITIES],
    /// Sent on their way, not yet through [`Pacer::admit`], with their
    /// rank: a delivery is planned behind those of its rank or above only,
    /// as admission pushes a less severe one back by the gap it takes.
    going: HashMap<i64, u8>,
}

#[derive(Debug, Clone, Copy)]
struct Waiting {
    place: Place,
    /// When it first waited here.
    since: Instant,
    /// When its turn was to come.
    turn: Instant,
}

/// When a delivery's turn comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Soon: it waits here until then, then goes through [`Pacer::admit`].
    Soon(Instant),
    /// Later than the horizon: back to the outbox, keeping its place, to
    /// be planned again at `back` (a little before its turn, or when it
    /// has waited the longest it may, whichever is first).
    Later { turn: Instant, back: Instant },
}

/// Where a message goes: the app (one workspace) and the channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LaneKey {
    pub workspace: String,
    pub channel: String,
}

/// Every lane's schedule. Locked briefly per delivery; never across an await.
pub struct Pacer {
    /// `None`: not paced (only Retry-After holds).
    channel: Option<Rate>,
    workspace: Option<Rate>,
    /// The longest a delivery waits while more severe ones overtake it.
    max_wait: Duration,
    lanes: Mutex<Lanes>,
}

#[derive(Default)]
struct Lanes {
    channels: HashMap<LaneKey, Lane>,
    workspaces: HashMap<String, Lane>,
    queues: HashMap<LaneKey, Queue>,
}

impl Pacer {
    /// `channel_per_minute: None` keeps only Retry-After (benchmarks
    /// against a fake Slack).
    pub fn new(channel_per_minute: Option<u32>, max_wait: Duration) -> Pacer {
        let channel = channel_per_minute.map(|n| Rate { interval: Duration::from_secs(60).div_f64(f64::from(n.max(1))), burst: 1 });
        let workspace = channel.map(|_| WORKSPACE);
        Pacer { channel, workspace, max_wait, lanes: Mutex::new(Lanes::default()) }
    }

    /// Places delivery `id` (of `severity`, 0 INFO to 4 CRITICAL: the more
    /// severe goes first) in the queue of `key`'s channel, or finds the
    /// place it kept, and says when its turn comes: after every delivery
    /// ahead of it and those already on their way, one channel gap each. A
    /// delivery that more severe ones have overtaken for `max_wait` goes
    /// ahead of all. A turn within `horizon` leaves the queue.
    pub fn plan(&self, key: &LaneKey, id: i64, severity: u8, now: Instant, horizon: Duration) -> Turn {
        let severity = usize::from(severity).min(SEVERITIES - 1);
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let Lanes { channels, queues, .. } = &mut *lanes;
        let lane = channels.entry(key.clone()).or_insert_with(|| Lane::new(now));
        let queue = queues.entry(key.clone()).or_default();
        queue.newest[severity] = queue.newest[severity].max(id);
        let kept = queue.places.get(&id).copied();
        let since = kept.map_or(now, |w| w.since);
        let overtaken = queue.newest[severity + 1..].iter().any(|&newest| newest > id);
        let overdue = overtaken && now.saturating_duration_since(since) >= self.max_wait;
        let place = (Reverse(if overdue { OVERDUE } else { severity as u8 }), id);
        if kept.map(|w| w.place) != Some(place) {
            if let Some(old) = kept {
                queue.order.remove(&old.place);
            }
            queue.order.insert(place);
        }
        let rank = place.0.0;
        let mut at = lane.earliest(now, None);
        if let Some(rate) = self.channel {
            // Counted only when paced: a burst unpaced holds thousands.
            let going = queue.going.iter().filter(|&(&other, &r)| other != id && r >= rank).count();
            let ahead = u32::try_from(queue.order.range(..place).count() + going).unwrap_or(u32::MAX);
            at = at.max(lane.next_send) + rate.interval * ahead;
        }
        if at <= now + horizon {
            queue.order.remove(&place);
            queue.places.remove(&id);
            queue.going.insert(id, rank);
            return Turn::Soon(at);
        }
        queue.places.insert(id, Waiting { place, since, turn: at });
        let mut back = at - horizon / 2;
        let due = since + self.max_wait;
        if !overdue && due > now {
            // Planned again when it has waited long enough, in case it is
            // overtaken meanwhile.
            back = back.min(due);
        }
        Turn::Later { turn: at, back }
    }

    /// Delivery `id` will not be sent (its destination changed, say): its
    /// place goes, so nothing waits behind it.
    pub fn forget(&self, id: i64) {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        for queue in lanes.queues.values_mut() {
            if let Some(waiting) = queue.places.remove(&id) {
                queue.order.remove(&waiting.place);
            }
        }
    }

    /// Delivery `id` is about to go: when it may. Takes a workspace slot
    /// and keeps the channel's gap since its last send, whatever the plan
    /// said (a delivery put back may come back a little late or early, a
    /// more severe one may have taken the slot it was planned for).
    pub fn admit(&self, key: &LaneKey, id: i64, now: Instant) -> Instant {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let Lanes { channels, workspaces, queues, .. } = &mut *lanes;
        if let Some(queue) = queues.get_mut(key) {
            queue.going.remove(&id);
        }
        let channel = channels.entry(key.clone()).or_insert_with(|| Lane::new(now));
        let workspace = workspaces.entry(key.workspace.clone()).or_insert_with(|| Lane::new(now));
        let mut at = workspace.earliest(now, self.workspace).max(channel.earliest(now, None));
        if self.channel.is_some() {
            at = at.max(channel.next_send);
        }
        workspace.reserve(at, self.workspace);
        if let Some(rate) = self.channel {
            channel.next_send = at + rate.interval;
        }
        at
    }

    /// Slack answered 429 for this channel: hold it back for `wait`.
    pub fn block(&self, key: &LaneKey, now: Instant, wait: Duration) {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let lane = lanes.channels.entry(key.clone()).or_insert_with(|| Lane::new(now));
        let until = now + wait;
        lane.blocked_until = Some(lane.blocked_until.map_or(until, |b| b.max(until)));
    }

    /// When the channel may be sent to again, if Slack asked to wait.
    pub fn blocked_until(&self, key: &LaneKey, now: Instant) -> Option<Instant> {
        let lanes = self.lanes.lock().expect("the pacer's lock");
        lanes.channels.get(key).and_then(|l| l.blocked_until).filter(|&b| b > now)
    }

    /// Forgets idle lanes, so the map does not grow with every channel ever seen.
    pub fn forget_idle(&self, now: Instant) {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        for queue in lanes.queues.values_mut() {
            let Queue { order, places, .. } = queue;
            places.retain(|_, waiting| {
                let kept = waiting.turn + GIVE_UP >= now;
                if !kept {
                    order.remove(&waiting.place);
                }
                kept
            });
        }
        lanes.queues.retain(|_, q| !q.order.is_empty() || !q.going.is_empty());
        let Lanes { channels, workspaces, queues, .. } = &mut *lanes;
        channels.retain(|key, l| l.busy(now) || queues.contains_key(key));
        workspaces.retain(|_, l| l.busy(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(channel: &str) -> LaneKey {
        LaneKey { workspace: "app".into(), channel: channel.into() }
    }

    const ONE_A_SECOND: Option<u32> = Some(60);
    const LOW: u8 = 1;
    const HIGH: u8 = 3;
    const CRITICAL: u8 = 4;
    const WAIT: Duration = Duration::from_secs(600);
    /// Far enough that every turn is `Soon`.
    const ALL_SOON: Duration = Duration::from_secs(3_600);

    fn soon(turn: Turn) -> Instant {
        match turn {
            Turn::Soon(at) => at,
            Turn::Later { turn, .. } => panic!("expected a turn within the horizon, got one at {turn:?}"),
        }
    }

    fn later(turn: Turn) -> Instant {
        match turn {
            Turn::Later { turn, .. } => turn,
            Turn::Soon(at) => panic!("expected a turn beyond the horizon, got one at {at:?}"),
        }
    }

    #[test]
    fn a_channel_starts_with_no_burst_then_one_a_second() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        let times: Vec<Duration> = (0..3).map(|id| soon(pacer.plan(&key("a"), id, LOW, now, ALL_SOON)) - now).collect();
        assert_eq!(times, [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]);
        // Another channel is not held back by the first.
        assert_eq!(pacer.plan(&key("b"), 9, LOW, now, ALL_SOON), Turn::Soon(now));
    }

    #[test]
    fn fifty_eight_a_minute_is_a_minute_for_fifty_eight_gaps() {
        let pacer = Pacer::new(Some(58), WAIT);
        let now = Instant::now();
        let last = (0..59).map(|id| soon(pacer.plan(&key("a"), id, LOW, now, ALL_SOON))).last().unwrap();
        let minute = (last - now).as_millis();
        assert!((59_999..=60_000).contains(&minute), "58 slots after the first take a minute: {minute} ms");
    }

    #[test]
    fn a_backlog_planned_far_ahead_books_nothing_in_the_workspace() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        let last = (0..100).map(|id| soon(pacer.plan(&key("a"), id, LOW, now, ALL_SOON))).last().unwrap();
        assert_eq!(last - now, Duration::from_secs(99));
        assert_eq!(pacer.admit(&key("b"), 100, now), now, "the other channel goes at once");
        assert_eq!(pacer.admit(&key("a"), 0, now), now, "the first of the backlog too");
    }

    #[test]
    fn a_critical_delivery_takes_the_next_turn_ahead_of_a_queued_storm_and_the_storm_keeps_its_order() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        let horizon = Duration::from_secs(2);
        let storm: Vec<Turn> = (1..=10).map(|id| pacer.plan(&key("a"), id, LOW, now, horizon)).collect();
        assert_eq!(&storm[..3], &[Turn::Soon(now), Turn::Soon(now + Duration::from_secs(1)), Turn::Soon(now + Duration::from_secs(2))]);
        assert_eq!(later(storm[9]), now + Duration::from_secs(9));
        // Ahead of the seven waiting and of the three on their way: it
        // takes the next slot, and admission pushes each of those back a gap.
        assert_eq!(pacer.plan(&key("a"), 99, CRITICAL, now, horizon), Turn::Soon(now));
        assert_eq!(pacer.admit(&key("a"), 99, now), now);
        let admitted: Vec<Duration> =
            (1..=3).map(|id| pacer.admit(&key("a"), id, now + Duration::from_secs(id as u64 - 1)) - now).collect();
        assert_eq!(admitted, [1, 2, 3].map(Duration::from_secs), "the three keep their order, a gap later each");
        // The storm's next one comes after them, the last one a gap later than planned.
        let after = now + Duration::from_secs(2);
        assert_eq!(pacer.plan(&key("a"), 4, LOW, after, horizon), Turn::Soon(now + Duration::from_secs(4)));
        assert_eq!(later(pacer.plan(&key("a"), 10, LOW, after, horizon)), now + Duration::from_secs(10));
    }

    #[test]
    fn a_delivery_is_planned_behind_those_on_their_way_of_its_severity_or_above() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        assert_eq!(pacer.plan(&key("a"), 1, CRITICAL, now, ALL_SOON), Turn::Soon(now));
        assert_eq!(pacer.plan(&key("a"), 2, HIGH, now, ALL_SOON), Turn::Soon(now + Duration::from_secs(1)));
        assert_eq!(pacer.plan(&key("a"), 3, CRITICAL, now, ALL_SOON), Turn::Soon(now + Duration::from_secs(1)), "behind 1 only");
        assert_eq!(pacer.plan(&key("a"), 4, LOW, now, ALL_SOON), Turn::Soon(now + Duration::from_secs(3)), "behind all three");
    }

    #[test]
    fn a_place_whose_delivery_never_came_back_is_given_up() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        let horizon = Duration::ZERO;
        assert_eq!(pacer.plan(&key("a"), 1, CRITICAL, now, horizon), Turn::Soon(now));
        assert_eq!(later(pacer.plan(&key("a"), 2, CRITICAL, now, horizon)), now + Duration::from_secs(1));
        pacer.admit(&key("a"), 1, now);
        // Delivery 2 was re-sent by hand and never returns to its place.
        let much_later = now + Duration::from_secs(60);
        pacer.forget_idle(much_later);
        assert_eq!(pacer.plan(&key("a"), 3, LOW, much_later, horizon), Turn::Soon(much_later));
        // One that will not be sent gives its place up at once.
        assert_eq!(later(pacer.plan(&key("a"), 4, LOW, much_later, horizon)), much_later + Duration::from_secs(1));
        pacer.forget(4);
        assert_eq!(later(pacer.plan(&key("a"), 5, LOW, much_later, horizon)), much_later + Duration::from_secs(1));
    }

    #[test]
    fn only_a_delivery_overtaken_by_more_severe_ones_for_the_longest_wait_goes_ahead_of_them() {
        let pacer = Pacer::new(ONE_A_SECOND, Duration::from_secs(10));
        let now = Instant::now();
        let horizon = Duration::ZERO;
        // A long LOW backlog on its own is never "overdue": a CRITICAL
        // still goes first, even an hour in.
        for id in 1..=5 {
            pacer.plan(&key("a"), id, LOW, now, horizon);
        }
        let hour = now + Duration::from_secs(3_600);
        assert_eq!(later(pacer.plan(&key("a"), 5, LOW, hour, horizon)), hour + Duration::from_secs(4));
        assert_eq!(pacer.plan(&key("a"), 6, CRITICAL, hour, horizon), Turn::Soon(hour));

        // Overtaken by HIGH ones: it comes back when it has waited ten
        // seconds, and then goes ahead of them.
        let pacer = Pacer::new(ONE_A_SECOND, Duration::from_secs(10));
        let low = pacer.plan(&key("b"), 1, LOW, now, horizon);
        assert!(matches!(low, Turn::Soon(_)));
        pacer.plan(&key("b"), 2, LOW, now, horizon);
        for id in 3..=30 {
            pacer.plan(&key("b"), id, HIGH, now, horizon);
        }
        let low = pacer.plan(&key("b"), 2, LOW, now, horizon);
        let Turn::Later { turn, back } = low else { panic!("{low:?}") };
        assert_eq!(turn, now + Duration::from_secs(29), "behind the two on their way and the 27 HIGH ones waiting");
        assert_eq!(back, now + Duration::from_secs(10), "planned again when its wait is up");
        let due = now + Duration::from_secs(10);
        // The next slot, ahead of the HIGH ones (those on their way too).
        assert_eq!(pacer.plan(&key("b"), 2, LOW, due, horizon), Turn::Soon(due), "ahead of the HIGH ones");
    }

    #[test]
    fn an_idle_channel_whose_deliveries_never_came_back_is_forgotten() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        assert!(matches!(pacer.plan(&key("a"), 1, LOW, now, Duration::ZERO), Turn::Soon(_)));
        assert!(matches!(pacer.plan(&key("a"), 2, LOW, now, Duration::ZERO), Turn::Later { .. }));
        pacer.admit(&key("a"), 1, now);
        pacer.forget_idle(now + Duration::from_secs(120));
        let lanes = pacer.lanes.lock().unwrap();
        assert!(lanes.queues.is_empty() && lanes.channels.is_empty(), "nothing is kept for the channel");
    }

    #[test]
    fn admission_keeps_the_channel_s_gap_whatever_the_plan_said() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        assert_eq!(pacer.admit(&key("a"), 1, now), now);
        // A delivery put back came back early: it still waits its second.
        assert_eq!(pacer.admit(&key("a"), 2, now + Duration::from_millis(300)) - now, Duration::from_secs(1));
    }

    #[test]
    fn retry_after_holds_back_one_channel_only_even_unpaced() {
        let pacer = Pacer::new(None, WAIT);
        let now = Instant::now();
        pacer.block(&key("a"), now, Duration::from_secs(3));
        assert_eq!(pacer.plan(&key("a"), 1, LOW, now, ALL_SOON), Turn::Soon(now + Duration::from_secs(3)));
        assert_eq!(pacer.admit(&key("a"), 1, now) - now, Duration::from_secs(3));
        assert_eq!(pacer.plan(&key("b"), 2, LOW, now, ALL_SOON), Turn::Soon(now));
        assert_eq!(pacer.admit(&key("b"), 2, now), now);
        assert_eq!(pacer.blocked_until(&key("a"), now), Some(now + Duration::from_secs(3)));
    }

    #[test]
    fn the_workspace_ceiling_spans_channels() {
        let pacer = Pacer::new(ONE_A_SECOND, WAIT);
        let now = Instant::now();
        let last = (0..21).map(|i| pacer.admit(&key(&format!("c{i}")), i, now)).last().unwrap();
        assert_eq!(last - now, Duration::from_millis(200));
    }
}
