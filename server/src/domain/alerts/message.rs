//! The alert message for one destination: the Block Kit of `herald_model`
//! with the time in the destination's timezone, sent to its channel.

use herald_model::blocks::{AlertMessage, Assignee, Events};
use herald_model::destination::ChannelRef;
use url::Url;

use crate::store::{AlertRecord, DueReminder};

/// `<public URL>/alerts/<id>`, the ID percent-encoded.
pub fn herald_url(public_url: &Url, alert_id: &str) -> String {
    let mut url = public_url.clone();
    url.path_segments_mut().expect("an http(s) URL has a path").pop_if_empty().extend(["alerts", alert_id]);
    url.to_string()
}

/// Where `chat.postMessage` should post: the ID, or `#name`.
pub fn channel_target(channel: &str) -> String {
    match ChannelRef::parse("channel", channel) {
        Ok(ChannelRef::Id(id)) => id,
        Ok(ChannelRef::Name(name)) => format!("#{name}"),
        Err(_) => channel.to_owned(),
    }
}

/// The destination's timezone; UTC when the name is unknown.
pub fn zone(timezone: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// `2026-11-29 09:00 CET`.
pub fn local_time_in(unix_ms: i64, zone: &jiff::tz::TimeZone) -> String {
    formatted_in(unix_ms, zone, "%Y-%m-%d %H:%M %Z")
}

fn formatted_in(unix_ms: i64, zone: &jiff::tz::TimeZone, format: &str) -> String {
    let at = jiff::Timestamp::from_millisecond(unix_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    at.to_zoned_datetime(zone.clone()).strftime(format).to_string()
}

#[cfg(test)]
fn local_time(unix_ms: i64, timezone: &str) -> String {
    local_time_in(unix_ms, &zone(timezone))
}

/// The `chat.postMessage` body, as JSON bytes: the alert as it is now,
/// with the destination's `mentions` for its severity (Slack's syntax).
pub fn build(alert: &AlertRecord, zone: &jiff::tz::TimeZone, target: &str, public_url: &Url, mentions: &str) -> Vec<u8> {
    body(alert, zone, target, None, public_url, mentions)
}

/// The `chat.update` body for the message at `channel` + `ts`.
pub fn build_update(alert: &AlertRecord, zone: &jiff::tz::TimeZone, channel: &str, ts: &str, public_url: &Url, mentions: &str) -> Vec<u8> {
    body(alert, zone, channel, Some(ts), public_url, mentions)
}

/// A reminder's reply: the destination's mentions, and how long the alert
/// has waited (in the minutes of the destination's setting).
pub fn reminder_text(due: &DueReminder, mentions: &str) -> String {
    let lead = if mentions.is_empty() { String::new() } else { format!("{mentions} ") };
    let minutes = if due.minutes == 1 { "1 minute".to_owned() } else { format!("{} minutes", due.minutes) };
    format!(
        "⏰ {lead}Reminder {} of {}: this alert is still *Open* and nobody is assigned, {minutes} after it came in. \
         Assign it or set its status to stop the reminders.",
        due.number, due.times
    )
}

/// A reply in the thread of the message at `channel` + `thread_ts`.
pub fn build_reply(channel: &str, thread_ts: &str, text: &str) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Reply<'a> {
        channel: &'a str,
        thread_ts: &'a str,
        text: &'a str,
        unfurl_links: bool,
        unfurl_media: bool,
    }
    let text = herald_model::blocks::cut_escaped(text, herald_model::blocks::MAX_FALLBACK_TEXT);
    serde_json::to_vec(&Reply { channel, thread_ts, text: &text, unfurl_links: false, unfurl_media: false }).expect("plain data serialises")
}

fn body(alert: &AlertRecord, zone: &jiff::tz::TimeZone, channel: &str, ts: Option<&str>, public_url: &Url, mentions: &str) -> Vec<u8> {
    let local = local_time_in(alert.created_at, zone);
    // `10:42 CET`, for an alert that events were folded into.
    let last_local = (alert.event_count > 1).then(|| formatted_in(alert.last_seen_at, zone, "%H:%M %Z"));
    let url = herald_url(public_url, &alert.id);
    let message = AlertMessage {
        id: &alert.id,
        content: &alert.content,
        status: alert.status,
        assignee: alert.assignee.as_ref().map(|a| Assignee { name: &a.name, slack_id: a.slack_id.as_deref() }),
        created_unix: alert.created_at.div_euclid(1000),
        created_local: &local,
        herald_url: &url,
        events: last_local.as_deref().map(|last_local| Events {
            count: alert.event_count,
            last_unix: alert.last_seen_at.div_euclid(1000),
            last_local,
        }),
        mentions,
    }
    .build();
    #[derive(serde::Serialize)]
    struct Write<'a> {
        channel: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        ts: Option<&'a str>,
        text: &'a str,
        blocks: &'a [herald_model::blocks::Block],
        // chat.postMessage only; chat.update takes neither.
        #[serde(skip_serializing_if = "Option::is_none")]
        unfurl_links: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        unfurl_media: Option<bool>,
    }
    let unfurl = ts.is_none().then_some(false);
    serde_json::to_vec(&Write { channel, ts, text: &message.text, blocks: &message.blocks, unfurl_links: unfurl, unfurl_media: unfurl })
        .expect("plain data serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_destination_timezone() {
        let ms = 1_795_939_200_000; // 2026-11-29T08:00:00Z
        assert_eq!(local_time(ms, "Europe/Berlin"), "2026-11-29 09:00 CET");
        assert_eq!(local_time(ms, "UTC"), "2026-11-29 08:00 UTC");
        assert_eq!(local_time(ms, "Not/AZone"), "2026-11-29 08:00 UTC");
    }

    #[test]
    fn links_to_herald_encode_the_alert_id() {
        let base = Url::parse("https://herald.acme.example").unwrap();
        assert_eq!(herald_url(&base, "abc"), "https://herald.acme.example/alerts/abc");
        assert_eq!(herald_url(&base, "a b/c?"), "https://herald.acme.example/alerts/a%20b%2Fc%3F");
    }
}
