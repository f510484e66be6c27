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
use std::collections::{BTreeMap, HashMap};
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
/// arrival.
type Place = (Reverse<u8>, u64);

/// A place kept longer than this past its turn, without its delivery
/// coming back (re-sent, deleted), is given up.
const GIVE_UP: Duration = Duration::from_secs(30);

/// The deliveries waiting for one channel.
#[derive(Default)]
struct Queue {
    order: BTreeMap<Place, i64>,
    /// Each waiting delivery's place, and when its turn was to come.
    places: HashMap<i64, (Place, Instant)>,
    /// Sent on their way, not yet through [`Pacer::admit`].
    going: u32,
}

/// When a delivery's turn comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Soon: it waits here until then, then goes through [`Pacer::admit`].
    Soon(Instant),
    /// Later than the horizon: back to the outbox, keeping its place.
    Later(Instant),
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
    lanes: Mutex<Lanes>,
}

#[derive(Default)]
struct Lanes {
    channels: HashMap<LaneKey, Lane>,
    workspaces: HashMap<String, Lane>,
    queues: HashMap<LaneKey, Queue>,
    arrivals: u64,
}

impl Pacer {
    /// `channel_per_minute: None` keeps only Retry-After (benchmarks
    /// against a fake Slack).
    pub fn new(channel_per_minute: Option<u32>) -> Pacer {
        let channel = channel_per_minute
            .map(|n| Rate { interval: Duration::from_secs(60).div_f64(f64::from(n.max(1))), burst: 1 });
        let workspace = channel.map(|_| WORKSPACE);
        Pacer { channel, workspace, lanes: Mutex::new(Lanes::default()) }
    }

    /// Places delivery `id` (of `rank`: higher goes first) in the queue of
    /// `key`'s channel, or finds the place it kept, and says when its turn
    /// comes: after every delivery ahead of it and those already on their
    /// way, one channel gap each. A turn within `horizon` leaves the queue.
    pub fn plan(&self, key: &LaneKey, id: i64, rank: u8, now: Instant, horizon: Duration) -> Turn {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let Lanes { channels, queues, arrivals, .. } = &mut *lanes;
        let lane = channels.entry(key.clone()).or_insert_with(|| Lane::new(now));
        let queue = queues.entry(key.clone()).or_default();
        let place = match queue.places.get(&id) {
            Some(&(place, _)) if place.0 == Reverse(rank) => place,
            kept => {
                // New, or its rank changed (it waited long enough): the
                // arrival order stays.
                let arrival = kept.map(|(place, _)| place.1).unwrap_or_else(|| {
                    *arrivals += 1;
                    *arrivals
                });
                if let Some((old, _)) = kept {
                    queue.order.remove(old);
                }
                let place = (Reverse(rank), arrival);
                queue.order.insert(place, id);
                queue.places.insert(id, (place, now));
                place
            }
        };
        let mut ahead = 0u32;
        let mut given_up = Vec::new();
        for (other_place, other) in queue.order.range(..place) {
            match queue.places.get(other) {
                Some(&(_, turn)) if turn + GIVE_UP < now => given_up.push((*other_place, *other)),
                _ => ahead += 1,
            }
        }
        for (other_place, other) in given_up {
            queue.order.remove(&other_place);
            queue.places.remove(&other);
        }
        let mut at = lane.earliest(now, None);
        if let Some(rate) = self.channel {
            at = at.max(lane.next_send) + rate.interval * (queue.going + ahead);
        }
        if at <= now + horizon {
            queue.order.remove(&place);
            queue.places.remove(&id);
            queue.going += 1;
            Turn::Soon(at)
        } else {
            queue.places.insert(id, (place, at));
            Turn::Later(at)
        }
    }

    /// The message is about to go: when it may. Takes a workspace slot and
    /// keeps the channel's gap since its last send, whatever the plan said
    /// (a delivery put back may come back a little late or early).
    pub fn admit(&self, key: &LaneKey, now: Instant) -> Instant {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let Lanes { channels, workspaces, queues, .. } = &mut *lanes;
        if let Some(queue) = queues.get_mut(key) {
            queue.going = queue.going.saturating_sub(1);
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
            places.retain(|_, (place, turn)| {
                let kept = *turn + GIVE_UP >= now;
                if !kept {
                    order.remove(place);
                }
                kept
            });
        }
        lanes.queues.retain(|_, q| !q.order.is_empty() || q.going > 0);
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
    const CRITICAL: u8 = 4;
    /// Far enough that every turn is `Soon`.
    const ALL_SOON: Duration = Duration::from_secs(3_600);

    fn soon(turn: Turn) -> Instant {
        match turn {
            Turn::Soon(at) => at,
            Turn::Later(at) => panic!("expected a turn within the horizon, got one at {at:?}"),
        }
    }

    #[test]
    fn a_channel_starts_with_no_burst_then_one_a_second() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let times: Vec<Duration> = (0..3).map(|id| soon(pacer.plan(&key("a"), id, LOW, now, ALL_SOON)) - now).collect();
        assert_eq!(times, [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]);
        // Another channel is not held back by the first.
        assert_eq!(pacer.plan(&key("b"), 9, LOW, now, ALL_SOON), Turn::Soon(now));
    }

    #[test]
    fn fifty_eight_a_minute_is_a_minute_for_fifty_eight_gaps() {
        let pacer = Pacer::new(Some(58));
        let now = Instant::now();
        let last = (0..59).map(|id| soon(pacer.plan(&key("a"), id, LOW, now, ALL_SOON))).last().unwrap();
        let minute = (last - now).as_millis();
        assert!((59_999..=60_000).contains(&minute), "58 slots after the first take a minute: {minute} ms");
    }

    #[test]
    fn a_backlog_planned_far_ahead_books_nothing_in_the_workspace() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let last = (0..100).map(|id| soon(pacer.plan(&key("a"), id, LOW, now, ALL_SOON))).last().unwrap();
        assert_eq!(last - now, Duration::from_secs(99));
        assert_eq!(pacer.admit(&key("b"), now), now, "the other channel goes at once");
        assert_eq!(pacer.admit(&key("a"), now), now, "the first of the backlog too");
    }

    #[test]
    fn a_critical_delivery_takes_the_next_turn_ahead_of_a_queued_storm_and_the_storm_keeps_its_order() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let horizon = Duration::from_secs(2);
        let storm: Vec<Turn> = (1..=10).map(|id| pacer.plan(&key("a"), id, LOW, now, horizon)).collect();
        assert_eq!(&storm[..3], &[Turn::Soon(now), Turn::Soon(now + Duration::from_secs(1)), Turn::Soon(now + Duration::from_secs(2))]);
        assert_eq!(storm[9], Turn::Later(now + Duration::from_secs(9)));
        // Behind the three on their way, ahead of the seven waiting.
        assert_eq!(pacer.plan(&key("a"), 99, CRITICAL, now, horizon), Turn::Later(now + Duration::from_secs(3)));
        let later = now + Duration::from_secs(2);
        for sent in 0..3 {
            pacer.admit(&key("a"), now + Duration::from_secs(sent));
        }
        assert_eq!(pacer.plan(&key("a"), 99, CRITICAL, later, horizon), Turn::Soon(now + Duration::from_secs(3)));
        // The storm's next one now comes after it, the last one a gap later than planned.
        assert_eq!(pacer.plan(&key("a"), 4, LOW, later, horizon), Turn::Soon(now + Duration::from_secs(4)));
        assert_eq!(pacer.plan(&key("a"), 10, LOW, later, horizon), Turn::Later(now + Duration::from_secs(10)));
    }

    #[test]
    fn a_place_whose_delivery_never_came_back_is_given_up() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let horizon = Duration::ZERO;
        assert_eq!(pacer.plan(&key("a"), 1, CRITICAL, now, horizon), Turn::Soon(now));
        assert_eq!(pacer.plan(&key("a"), 2, CRITICAL, now, horizon), Turn::Later(now + Duration::from_secs(1)));
        pacer.admit(&key("a"), now);
        // Delivery 2 was re-sent by hand and never returns to its place.
        let much_later = now + Duration::from_secs(60);
        assert_eq!(pacer.plan(&key("a"), 3, LOW, much_later, horizon), Turn::Soon(much_later));
    }

    #[test]
    fn an_idle_channel_whose_deliveries_never_came_back_is_forgotten() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        assert!(matches!(pacer.plan(&key("a"), 1, LOW, now, Duration::ZERO), Turn::Soon(_)));
        assert!(matches!(pacer.plan(&key("a"), 2, LOW, now, Duration::ZERO), Turn::Later(_)));
        pacer.admit(&key("a"), now);
        pacer.forget_idle(now + Duration::from_secs(120));
        let lanes = pacer.lanes.lock().unwrap();
        assert!(lanes.queues.is_empty() && lanes.channels.is_empty(), "nothing is kept for the channel");
    }

    #[test]
    fn admission_keeps_the_channel_s_gap_whatever_the_plan_said() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        assert_eq!(pacer.admit(&key("a"), now), now);
        // A delivery put back came back early: it still waits its second.
        assert_eq!(pacer.admit(&key("a"), now + Duration::from_millis(300)) - now, Duration::from_secs(1));
    }

    #[test]
    fn retry_after_holds_back_one_channel_only_even_unpaced() {
        let pacer = Pacer::new(None);
        let now = Instant::now();
        pacer.block(&key("a"), now, Duration::from_secs(3));
        assert_eq!(pacer.plan(&key("a"), 1, LOW, now, ALL_SOON), Turn::Soon(now + Duration::from_secs(3)));
        assert_eq!(pacer.admit(&key("a"), now) - now, Duration::from_secs(3));
        assert_eq!(pacer.plan(&key("b"), 2, LOW, now, ALL_SOON), Turn::Soon(now));
        assert_eq!(pacer.admit(&key("b"), now), now);
        assert_eq!(pacer.blocked_until(&key("a"), now), Some(now + Duration::from_secs(3)));
    }

    #[test]
    fn the_workspace_ceiling_spans_channels() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let last = (0..21).map(|i| pacer.admit(&key(&format!("c{i}")), now)).last().unwrap();
        assert_eq!(last - now, Duration::from_millis(200));
    }
}
