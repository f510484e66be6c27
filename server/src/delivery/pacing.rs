//! Slack's pace for messages: about one a second per channel with short
//! bursts, and a ceiling per workspace; after an HTTP 429, nothing to that
//! channel until `Retry-After` has passed. Each lane is a GCRA schedule that
//! *reserves* a send time (rate-limiter crates answer "now or not", but the
//! worker needs "when", to sleep until then or put the delivery back).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Messages per channel: one a second, bursts of three.
const CHANNEL: Rate = Rate { interval: Duration::from_secs(1), burst: 3 };
/// Messages per workspace (one app): Slack allows "several hundred a minute".
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
    /// Retry-After from an HTTP 429.
    blocked_until: Option<Instant>,
}

impl Lane {
    fn new(now: Instant) -> Lane {
        Lane { tat: now, blocked_until: None }
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
}

/// Where a message goes: the app (one workspace) and the channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LaneKey {
    pub workspace: String,
    pub channel: String,
}

/// Every lane's schedule. Locked briefly per delivery; never across an await.
pub struct Pacer {
    paced: bool,
    lanes: Mutex<Lanes>,
}

#[derive(Default)]
struct Lanes {
    channels: HashMap<LaneKey, Lane>,
    workspaces: HashMap<String, Lane>,
}

impl Pacer {
    /// `paced: false` keeps only Retry-After (benchmarks against a fake Slack).
    pub fn new(paced: bool) -> Pacer {
        Pacer { paced, lanes: Mutex::new(Lanes::default()) }
    }

    fn rates(&self) -> (Option<Rate>, Option<Rate>) {
        if self.paced { (Some(CHANNEL), Some(WORKSPACE)) } else { (None, None) }
    }

    /// Books the earliest send time for one message to `key`. The worker
    /// sleeps until then when it is near, or puts the delivery back in the
    /// queue until then; either way the slot is its own.
    pub fn book(&self, key: &LaneKey, now: Instant) -> Instant {
        let (channel_rate, workspace_rate) = self.rates();
        let mut lanes = self.lanes.lock().expect("the pacer's lock");
        let Lanes { channels, workspaces } = &mut *lanes;
        let channel = channels.entry(key.clone()).or_insert_with(|| Lane::new(now));
        let workspace = workspaces.entry(key.workspace.clone()).or_insert_with(|| Lane::new(now));
        let at = channel.earliest(now, channel_rate).max(workspace.earliest(now, workspace_rate));
        channel.reserve(at, channel_rate);
        workspace.reserve(at, workspace_rate);
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
        lanes.channels.retain(|_, l| l.tat > now || l.blocked_until.is_some_and(|b| b > now));
        lanes.workspaces.retain(|_, l| l.tat > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(channel: &str) -> LaneKey {
        LaneKey { workspace: "app".into(), channel: channel.into() }
    }

    #[test]
    fn a_channel_gets_a_burst_of_three_then_one_a_second() {
        let pacer = Pacer::new(true);
        let now = Instant::now();
        let times: Vec<Duration> = (0..5).map(|_| pacer.book(&key("a"), now) - now).collect();
        assert_eq!(times, [Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]);
        // Another channel is not held back by the first.
        assert_eq!(pacer.book(&key("b"), now), now);
    }

    #[test]
    fn a_backlog_is_spread_one_slot_each() {
        let pacer = Pacer::new(true);
        let now = Instant::now();
        let last = (0..100).map(|_| pacer.book(&key("a"), now)).last().unwrap();
        assert_eq!(last - now, Duration::from_secs(97));
    }

    #[test]
    fn retry_after_holds_back_one_channel_only_even_unpaced() {
        let pacer = Pacer::new(false);
        let now = Instant::now();
        pacer.block(&key("a"), now, Duration::from_secs(3));
        assert_eq!(pacer.book(&key("a"), now) - now, Duration::from_secs(3));
        assert_eq!(pacer.book(&key("b"), now), now);
        assert_eq!(pacer.blocked_until(&key("a"), now), Some(now + Duration::from_secs(3)));
    }

    #[test]
    fn the_workspace_ceiling_spans_channels() {
        let pacer = Pacer::new(true);
        let now = Instant::now();
        let last = (0..21).map(|i| pacer.book(&key(&format!("c{i}")), now)).last().unwrap();
        assert_eq!(last - now, Duration::from_millis(200));
    }
}
