//! Slack's pace for messages: about one a second per channel and a
//! ceiling per workspace; after an HTTP 429, nothing to that channel until
//! `Retry-After` has passed.
//!
//! Two steps per message. When the worker claims it, [`Pacer::plan`] gives
//! it the channel's next free slot (a GCRA schedule that *reserves* a time:
//! rate-limiter crates answer "now or not", but the worker needs "when", to
//! sleep until then or put the delivery back). Only when the message is
//! about to go does [`Pacer::admit`] take a workspace slot and check the
//! gap since the channel's last send: a backlog planned far ahead in one
//! channel books nothing in the workspace, so it holds up no other channel.
//! A channel starts with no burst, so a steady backlog never earns a 429.

use std::collections::HashMap;
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

    /// Books the channel's next slot for one message to `key`. The worker
    /// sleeps until then when it is near, or puts the delivery back in the
    /// queue until then; either way the slot is its own.
    pub fn plan(&self, key: &LaneKey, now: Instant) -> Instant {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let lane = lanes.channels.entry(key.clone()).or_insert_with(|| Lane::new(now));
        let at = lane.earliest(now, self.channel);
        lane.reserve(at, self.channel);
        at
    }

    /// The message is about to go: when it may. Takes a workspace slot and
    /// keeps the channel's gap since its last send, whatever the plan said
    /// (a delivery put back may come back a little late or early).
    pub fn admit(&self, key: &LaneKey, now: Instant) -> Instant {
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let Lanes { channels, workspaces } = &mut *lanes;
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
        lanes.channels.retain(|_, l| l.busy(now));
        lanes.workspaces.retain(|_, l| l.busy(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(channel: &str) -> LaneKey {
        LaneKey { workspace: "app".into(), channel: channel.into() }
    }

    const ONE_A_SECOND: Option<u32> = Some(60);

    #[test]
    fn a_channel_starts_with_no_burst_then_one_a_second() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let times: Vec<Duration> = (0..3).map(|_| pacer.plan(&key("a"), now) - now).collect();
        assert_eq!(times, [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]);
        // Another channel is not held back by the first.
        assert_eq!(pacer.plan(&key("b"), now), now);
    }

    #[test]
    fn fifty_eight_a_minute_is_a_minute_for_fifty_eight_gaps() {
        let pacer = Pacer::new(Some(58));
        let now = Instant::now();
        let last = (0..59).map(|_| pacer.plan(&key("a"), now)).last().unwrap();
        let minute = (last - now).as_millis();
        assert!((59_999..=60_000).contains(&minute), "58 slots after the first take a minute: {minute} ms");
    }

    #[test]
    fn a_backlog_planned_far_ahead_books_nothing_in_the_workspace() {
        let pacer = Pacer::new(ONE_A_SECOND);
        let now = Instant::now();
        let last = (0..100).map(|_| pacer.plan(&key("a"), now)).last().unwrap();
        assert_eq!(last - now, Duration::from_secs(99));
        assert_eq!(pacer.admit(&key("b"), now), now, "the other channel goes at once");
        assert_eq!(pacer.admit(&key("a"), now), now, "the first of the backlog too");
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
        assert_eq!(pacer.plan(&key("a"), now) - now, Duration::from_secs(3));
        assert_eq!(pacer.admit(&key("a"), now) - now, Duration::from_secs(3));
        assert_eq!(pacer.plan(&key("b"), now), now);
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
