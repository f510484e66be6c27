//! Typed records the tests start from: a destination's settings as the
//! console sends them, through the fake Slack's app. A test changes only
//! the fields it is about (`SlackBotForm { severities: …, ..slack_bot(…) }`).

use herald_model::destination::{AlertKind, Severity, SlackBotForm};

use crate::fake_slack::defaults;

/// `name` on `channel` through the fake Slack's app, with its secrets and
/// bot token: HIGH alerts, in UTC, the default deduplication window.
pub fn slack_bot(name: &str, channel: &str) -> SlackBotForm {
    SlackBotForm {
        display_name: name.to_owned(),
        channel: channel.to_owned(),
        client_id: defaults::CLIENT_ID.to_owned(),
        client_secret: Some(defaults::CLIENT_SECRET.to_owned()),
        signing_secret: Some(defaults::SIGNING_SECRET.to_owned()),
        bot_token: Some(defaults::BOT_TOKEN.to_owned()),
        severities: vec![Severity::High],
        alert_kinds: vec![AlertKind::Alerts],
        log_types: Vec::new(),
        timezone: "UTC".to_owned(),
        dedup_window: None,
    }
}
