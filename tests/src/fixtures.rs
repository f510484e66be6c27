//! Typed records the tests start from: a destination's settings as the
//! console sends them, through the fake Slack's app. A test changes only
//! the fields it is about (`slack_bot(…).with(|s| s.severities = …)`).

use herald_model::destination::{AlertKind, DestinationSettings, Severity, SlackBotForm};

use crate::fake_slack::defaults;

/// `name` on `channel` through the fake Slack's app, with its secrets and
/// bot token: HIGH alerts, in UTC, the default deduplication window.
pub fn slack_bot(name: &str, channel: &str) -> SlackBotForm {
    SlackBotForm {
        settings: DestinationSettings {
            display_name: name.to_owned(),
            channel: channel.to_owned(),
            client_id: defaults::CLIENT_ID.to_owned(),
            severities: vec![Severity::High],
            alert_kinds: vec![AlertKind::Alerts],
            log_types: Vec::new(),
            timezone: "UTC".to_owned(),
            ..DestinationSettings::default()
        },
        client_secret: Some(defaults::CLIENT_SECRET.to_owned()),
        signing_secret: Some(defaults::SIGNING_SECRET.to_owned()),
        bot_token: Some(defaults::BOT_TOKEN.to_owned()),
        app_token: None,
        dedup_window: None,
        left_out: Default::default(),
    }
}

/// The same through Socket Mode: the app-level token instead of the
/// signing secret.
pub fn socket_mode_bot(name: &str, channel: &str) -> SlackBotForm {
    SlackBotForm { signing_secret: None, app_token: Some(defaults::APP_TOKEN.to_owned()), ..slack_bot(name, channel) }
}

/// A form changed where a test needs it.
pub trait With {
    /// The same form with its settings changed by `change`.
    fn with(self, change: impl FnOnce(&mut DestinationSettings)) -> Self;
}

impl With for SlackBotForm {
    fn with(mut self, change: impl FnOnce(&mut DestinationSettings)) -> Self {
        change(&mut self.settings);
        self
    }
}
