//! Counters for `GET /metrics`, in Prometheus' text format. A handful of
//! atomics: no registry crate is needed for this few.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the Slack latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    pub alerts_ingested: AtomicU64,
    pub alerts_repeated: AtomicU64,
    /// Events folded into an open alert with the same deduplication key.
    pub alerts_folded: AtomicU64,
    pub sent: AtomicU64,
    pub retried: AtomicU64,
    pub failed: AtomicU64,
    /// Deliveries put back to wait for a channel's pace.
    pub paced: AtomicU64,
    /// HTTP 429 answers from Slack.
    pub rate_limited: AtomicU64,
    /// Socket Mode: envelopes received, acknowledged, and connections
    /// opened again after the first.
    pub socket_envelopes: AtomicU64,
    pub socket_acks: AtomicU64,
    pub socket_reconnects: AtomicU64,
    /// Webhooks: alerts a notification left out (`truncatedAlerts`), by
    /// source, and alerts resolved because their source said so.
    pub truncated_alertmanager: AtomicU64,
    pub truncated_grafana: AtomicU64,
    pub resolved_from_source: AtomicU64,
    /// Reminders queued in the threads of alerts left Open (on the
    /// replica that sends).
    pub reminders: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

impl Metrics {
    /// One `chat.postMessage` round trip.
    pub fn observe_slack(&self, took: Duration) {
        // One count in the first bucket that holds it; `render` adds them up.
        let seconds = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.latency_buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn render(&self, queue_depth: u64) -> String {
        let mut out = String::with_capacity(2048);
        let counter = |out: &mut String, name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        counter(
            &mut out,
            "herald_alerts_ingested_total",
            "Alerts accepted by POST /api/alerts and the webhooks (repeats not counted).",
            &[("", self.alerts_ingested.load(Relaxed))],
        );
        counter(
            &mut out,
            "herald_alerts_repeated_total",
            "Alerts refused as repeats of an alertId seen before.",
            &[("", self.alerts_repeated.load(Relaxed))],
        );
        counter(
            &mut out,
            "herald_alerts_folded_total",
            "Events folded into an open alert with the same deduplication key.",
            &[("", self.alerts_folded.load(Relaxed))],
        );
        counter(
            &mut out,
            "herald_deliveries_total",
            "Delivery attempts by outcome.",
            &[
                ("{outcome=\"sent\"}", self.sent.load(Relaxed)),
                ("{outcome=\"retry\"}", self.retried.load(Relaxed)),
                ("{outcome=\"failed\"}", self.failed.load(Relaxed)),
                ("{outcome=\"paced\"}", self.paced.load(Relaxed)),
            ],
        );
        counter(
            &mut out,
            "herald_ingest_truncated_alerts_total",
            "Alerts a webhook notification left out (truncatedAlerts: the receiver's max_alerts).",
            &[
                ("{source=\"alertmanager\"}", self.truncated_alertmanager.load(Relaxed)),
                ("{source=\"grafana\"}", self.truncated_grafana.load(Relaxed)),
            ],
        );
        counter(
            &mut out,
            "herald_alerts_resolved_from_source_total",
            "Alerts resolved because Alertmanager or Grafana said they were.",
            &[("", self.resolved_from_source.load(Relaxed))],
        );
        counter(
            &mut out,
            "herald_reminders_total",
            "Reminders queued in the threads of alerts still Open and unassigned.",
            &[("", self.reminders.load(Relaxed))],
        );
        counter(&mut out, "herald_slack_rate_limited_total", "HTTP 429 answers from Slack.", &[("", self.rate_limited.load(Relaxed))]);
        counter(
            &mut out,
            "herald_socket_mode_envelopes_total",
            "Socket Mode envelopes received from Slack (retries included).",
            &[("", self.socket_envelopes.load(Relaxed))],
        );
        counter(&mut out, "herald_socket_mode_acks_total", "Socket Mode envelopes acknowledged.", &[("", self.socket_acks.load(Relaxed))]);
        counter(
            &mut out,
            "herald_socket_mode_reconnects_total",
            "Socket Mode connections opened again (after a failure, or when Slack asked).",
            &[("", self.socket_reconnects.load(Relaxed))],
        );
        let _ = writeln!(
            out,
            "# HELP herald_delivery_queue_depth Deliveries waiting to be sent or retried.\n\
             # TYPE herald_delivery_queue_depth gauge\nherald_delivery_queue_depth {queue_depth}"
        );
        let name = "herald_slack_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} chat.postMessage round trips.\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.latency_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe_slack(Duration::from_micros(800));
        m.observe_slack(Duration::from_millis(30));
        let text = m.render(3);
        assert!(text.contains("herald_slack_request_duration_seconds_bucket{le=\"0.001\"} 1\n"), "{text}");
        assert!(text.contains("herald_slack_request_duration_seconds_bucket{le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("herald_slack_request_duration_seconds_count 2\n"), "{text}");
        assert!(text.contains("herald_delivery_queue_depth 3\n"), "{text}");
    }
}
