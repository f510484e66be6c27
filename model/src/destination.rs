//! Alert destinations: where Herald sends alerts, the Slack Bot settings
//! form, and the rules every field follows — the same in the browser, as
//! people type, and on the server.

use serde::de::MapAccess;
use serde::{Deserialize, Serialize};

use crate::api::FieldError;
use crate::inline::{deserialize_with, required, walk};
use crate::mention::Mentions;

/// The kinds of destination Herald can deliver to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DestinationKind {
    SlackBot,
}

impl DestinationKind {
    /// The name the interface shows.
    pub fn label(self) -> &'static str {
        match self {
            DestinationKind::SlackBot => "Slack Bot",
        }
    }

    /// The value stored in the database and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationKind::SlackBot => "SLACK_BOT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SLACK_BOT" => Some(DestinationKind::SlackBot),
            _ => None,
        }
    }
}

/// Where a destination is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DestinationStatus {
    /// Setup has not been finished; receives nothing.
    Draft,
    Active,
    /// Switched off by someone; receives nothing.
    Disabled,
}

impl DestinationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationStatus::Draft => "DRAFT",
            DestinationStatus::Active => "ACTIVE",
            DestinationStatus::Disabled => "DISABLED",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DestinationStatus::Draft => "Setup incomplete",
            DestinationStatus::Active => "Active",
            DestinationStatus::Disabled => "Disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [DestinationStatus::Draft, DestinationStatus::Active, DestinationStatus::Disabled].into_iter().find(|v| v.as_str() == s)
    }
}

/// The wizard's steps after choosing the kind: 1 create … 7 finish.
pub const WIZARD_STEPS: u8 = 7;

/// A write-only secret as the API shows it: whether one is stored, and
/// `••••` with its last four characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretHint {
    pub set: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl SecretHint {
    pub fn of(last_four: Option<&str>) -> SecretHint {
        SecretHint { set: last_four.is_some(), hint: last_four.map(|l| format!("••••{l}")) }
    }
}

/// The last four characters of a secret, kept for its hint.
pub fn last_four(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// A destination's settings: the one type the form, the view and the
/// store share. The Slack app's secrets and the deduplication window
/// stand beside it, since the form may leave them out to keep what is
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSettings {
    pub display_name: String,
    /// `#sec-alerts` or `C0123ABCD`, as entered.
    pub channel: String,
    pub client_id: String,
    pub severities: Vec<Severity>,
    pub alert_kinds: Vec<AlertKind>,
    /// Empty: every log type.
    pub log_types: Vec<String>,
    pub timezone: String,
    /// Who each severity's messages notify.
    pub mentions: Mentions,
    /// Minutes an alert may stay Open and unassigned before Herald
    /// replies in its thread as a reminder; 0: never.
    pub remind_after: u32,
    /// At most this many reminders per alert.
    pub remind_times: u32,
}

impl Default for DestinationSettings {
    fn default() -> Self {
        DestinationSettings {
            display_name: String::new(),
            channel: String::new(),
            client_id: String::new(),
            severities: Vec::new(),
            alert_kinds: Vec::new(),
            log_types: Vec::new(),
            timezone: String::new(),
            mentions: Mentions::default(),
            remind_after: 0,
            remind_times: DEFAULT_REMIND_TIMES,
        }
    }
}

/// Reminders per alert when not told.
pub const DEFAULT_REMIND_TIMES: u32 = 3;
/// The most reminders an alert gets.
pub const MAX_REMIND_TIMES: u32 = 10;
/// The longest wait before a reminder: a day, in minutes.
pub const MAX_REMIND_AFTER: u32 = 24 * 60;

/// How deliveries to a destination have gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryHealthView {
    /// RFC 3339: the last message that got through.
    pub last_sent_at: Option<String>,
    /// Deliveries that failed or are being retried, last 24 hours.
    pub failures_24h: u64,
    pub last_error: Option<String>,
}

/// A destination with its settings; secrets only as hints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView {
    pub id: String,
    pub kind: DestinationKind,
    pub status: DestinationStatus,
    pub wizard_step: u8,
    #[serde(flatten)]
    pub settings: DestinationSettings,
    pub client_secret: SecretHint,
    pub signing_secret: SecretHint,
    pub bot_token: SecretHint,
    /// Socket Mode: the app-level token (`xapp-…`).
    pub app_token: SecretHint,
    /// Socket Mode: how the app's connection to Slack is, on the replica
    /// that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_mode: Option<SocketModeView>,
    /// Minutes within which events with the same key fold into one alert;
    /// 0: off.
    pub dedup_window: u32,
    /// What is wrong with its Slack app, e.g. "Disconnected — reinstall",
    /// or why its deliveries fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// How its deliveries have gone: in the list (`GET /api/destinations`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<DeliveryHealthView>,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

/// The settings' keys, as [`read_setting`] numbers them; a view has the
/// first [`REQUIRED_SETTINGS`] always (the others came later).
const SETTINGS: [&str; 10] =
    ["displayName", "channel", "clientId", "severities", "alertKinds", "logTypes", "timezone", "mentions", "remindAfter", "remindTimes"];
const REQUIRED_SETTINGS: usize = 7;

/// Reads `key` into `settings` when it is one of theirs; which one it was.
fn read_setting<'de, A: MapAccess<'de>>(settings: &mut DestinationSettings, key: &str, map: &mut A) -> Result<Option<usize>, A::Error> {
    let Some(i) = SETTINGS.iter().position(|k| *k == key) else { return Ok(None) };
    match i {
        0 => settings.display_name = map.next_value()?,
        1 => settings.channel = map.next_value()?,
        2 => settings.client_id = map.next_value()?,
        3 => settings.severities = map.next_value()?,
        4 => settings.alert_kinds = map.next_value()?,
        5 => settings.log_types = map.next_value()?,
        6 => settings.timezone = map.next_value()?,
        7 => settings.mentions = map.next_value()?,
        8 => settings.remind_after = map.next_value()?,
        _ => settings.remind_times = map.next_value()?,
    }
    Ok(Some(i))
}

deserialize_with!(DestinationView, "a destination", read_view);

/// [`DestinationView`] in one pass ([`crate::inline`]); the first
/// [`REQUIRED_SETTINGS`] settings must be there.
fn read_view<'de, A: MapAccess<'de>>(map: A) -> Result<DestinationView, A::Error> {
    let (mut id, mut kind, mut status, mut wizard_step, mut created_at, mut updated_at) = (None, None, None, None, None, None);
    let (mut settings, mut seen) = (DestinationSettings::default(), [false; SETTINGS.len()]);
    let (mut client_secret, mut signing_secret, mut bot_token, mut app_token, mut socket_mode) = (None, None, None, None, None);
    let (mut dedup_window, mut problem, mut health) = (DEFAULT_DEDUP_WINDOW, None, None);
    walk(map, |key, map| {
        match key {
            "id" => id = map.next_value()?,
            "kind" => kind = map.next_value()?,
            "status" => status = map.next_value()?,
            "wizardStep" => wizard_step = map.next_value()?,
            "clientSecret" => client_secret = map.next_value()?,
            "signingSecret" => signing_secret = map.next_value()?,
            "botToken" => bot_token = map.next_value()?,
            "appToken" => app_token = map.next_value()?,
            "socketMode" => socket_mode = map.next_value()?,
            "dedupWindow" => dedup_window = map.next_value()?,
            "problem" => problem = map.next_value()?,
            "health" => health = map.next_value()?,
            "createdAt" => created_at = map.next_value()?,
            "updatedAt" => updated_at = map.next_value()?,
            _ => match read_setting(&mut settings, key, map)? {
                Some(i) => seen[i] = true,
                None => return Ok(false),
            },
        }
        Ok(true)
    })?;
    if let Some(i) = seen[..REQUIRED_SETTINGS].iter().position(|seen| !seen) {
        return Err(serde::de::Error::missing_field(SETTINGS[i]));
    }
    Ok(DestinationView {
        id: required(id, "id")?,
        kind: required(kind, "kind")?,
        status: required(status, "status")?,
        wizard_step: required(wizard_step, "wizardStep")?,
        settings,
        client_secret: required(client_secret, "clientSecret")?,
        signing_secret: required(signing_secret, "signingSecret")?,
        bot_token: required(bot_token, "botToken")?,
        app_token: app_token.unwrap_or_default(),
        socket_mode,
        dedup_window,
        problem,
        health,
        created_at: required(created_at, "createdAt")?,
        updated_at: required(updated_at, "updatedAt")?,
    })
}

impl DestinationView {
    /// The form, filled with what is stored; secrets left out (kept).
    pub fn form(&self) -> SlackBotForm {
        SlackBotForm { settings: self.settings.clone(), dedup_window: Some(self.dedup_window), ..SlackBotForm::default() }
    }

    pub fn stored_secrets(&self) -> StoredSecrets {
        StoredSecrets {
            client_secret: self.client_secret.set,
            signing_secret: self.signing_secret.set,
            bot_token: self.bot_token.set,
            app_token: self.app_token.set,
        }
    }
}

/// `POST /api/destinations`: a new draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDestination {
    pub kind: DestinationKind,
}

/// `PATCH /api/destinations/{id}/draft`: progress through the wizard, saved
/// as typed (secrets are not saved this way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftUpdate {
    pub step: u8,
    pub form: SlackBotForm,
}

/// `PUT /api/destinations/{id}/credentials`: the app's Client ID and
/// secrets ahead of the rest of the form (Add to Slack needs them).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub signing_secret: Option<String>,
    /// Socket Mode, instead of the signing secret.
    pub app_token: Option<String>,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// `GET /api/slack/app`: the Slack app new destinations reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlackAppView {
    pub client_id: String,
    pub client_secret: SecretHint,
    pub signing_secret: SecretHint,
    pub bot_token: SecretHint,
    #[serde(default)]
    pub app_token: SecretHint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_mode: Option<SocketModeView>,
}

/// How a Socket Mode app's connection to Slack is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SocketModeState {
    Connected,
    /// Being opened again, after a failure or when Slack asked.
    Reconnecting,
    /// Slack refused the app-level token: nothing more is tried until a new
    /// one is saved (and then only once every few minutes).
    Refused,
}

/// `socketMode` on the Slack app and its destinations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketModeView {
    pub state: SocketModeState,
    /// RFC 3339: in this state since.
    pub since: String,
    /// Why it is not connected, in words to act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Connections open now (two while Slack hands one over to the next).
    pub connections: u32,
}

impl SocketModeView {
    /// The line the destinations page shows.
    pub fn summary(&self) -> String {
        match self.state {
            SocketModeState::Connected => "Socket Mode: connected".to_owned(),
            SocketModeState::Reconnecting => match &self.reason {
                Some(reason) => format!("Socket Mode: reconnecting ({reason})"),
                None => "Socket Mode: connecting".to_owned(),
            },
            SocketModeState::Refused => format!("Socket Mode: {}", self.reason.as_deref().unwrap_or("Slack refused the app-level token")),
        }
    }
}

/// Whether the bot can post in the destination's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelState {
    /// The bot is in the channel.
    Ready,
    /// The channel exists; the bot has not been invited yet.
    Waiting,
    /// Slack said why it cannot tell (see the message).
    Problem,
}

/// `GET /api/destinations/{id}/channel`: the live check of step 6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelCheck {
    pub state: ChannelState,
    /// The channel's ID, once Slack resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// What to show: "✓ @herald is in #sec-alerts", or what to do.
    pub message: String,
}

/// `POST /api/destinations/{id}/welcome`: what happened, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WelcomeOutcome {
    pub sent: bool,
    pub message: String,
    /// Slack's error code when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_error: Option<String>,
}

/// `GET /api/timezones`: IANA names, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimezoneList {
    pub timezones: Vec<String>,
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// Any case: `high`, `HIGH`, `High`.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// The alert types a destination accepts, grouped as its settings show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertKind {
    /// RULE, SCHEDULED_RULE, POLICY.
    Alerts,
    /// RULE_ERROR, SCHEDULED_RULE_ERROR.
    DetectionErrors,
    /// SYSTEM_ERROR: Herald's own problems.
    SystemErrors,
}

impl AlertKind {
    pub const ALL: [AlertKind; 3] = [AlertKind::Alerts, AlertKind::DetectionErrors, AlertKind::SystemErrors];

    pub fn label(self) -> &'static str {
        match self {
            AlertKind::Alerts => "Alerts",
            AlertKind::DetectionErrors => "Detection Errors",
            AlertKind::SystemErrors => "System Errors",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Alerts => "ALERTS",
            AlertKind::DetectionErrors => "DETECTION_ERRORS",
            AlertKind::SystemErrors => "SYSTEM_ERRORS",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Log types the form offers; any other `Vendor.Name` may be typed.
pub const SUPPORTED_LOG_TYPES: &[&str] = &[
    "AWS.ALB",
    "AWS.CloudTrail",
    "AWS.CloudWatchEvents",
    "AWS.Config",
    "AWS.GuardDuty",
    "AWS.S3ServerAccess",
    "AWS.SecurityHub",
    "AWS.VPCFlow",
    "AWS.WAFWebACL",
    "Azure.MonitorActivity",
    "Box.Event",
    "Cloudflare.HttpRequest",
    "CrowdStrike.FDREvent",
    "Duo.Authentication",
    "GCP.AuditLog",
    "GitHub.Audit",
    "GitLab.Audit",
    "GSuite.Reports",
    "Juniper.Access",
    "Microsoft365.Audit.General",
    "MicrosoftGraph.SecurityAlert",
    "Nginx.Access",
    "Okta.SystemLog",
    "OneLogin.Events",
    "Osquery.Differential",
    "Salesforce.Login",
    "SentinelOne.Activity",
    "Slack.AuditLogs",
    "Snowflake.LoginHistory",
    "Suricata.Alert",
    "Syslog.RFC5424",
    "Tailscale.Audit",
    "Teleport.Audit",
    "Wiz.Issue",
    "Zeek.Conn",
    "Zendesk.Audit",
    "Zoom.Activity",
    "Zscaler.ZIA.WebLog",
];

/// Where in Slack a destination posts: a channel ID, or a name Herald
/// resolves to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum ChannelRef {
    Id(String),
    /// Without the `#`.
    Name(String),
}

const CHANNEL_HINT: &str = "Enter a channel name like #sec-alerts or a channel ID like C0123ABCD.";

impl ChannelRef {
    pub fn parse(field: &'static str, input: &str) -> Result<ChannelRef, FieldError> {
        let input = input.trim();
        let error = |message: String| Err(FieldError::new(field, message));
        if input.is_empty() {
            return error(CHANNEL_HINT.to_owned());
        }
        if looks_like_channel_id(input) {
            return Ok(ChannelRef::Id(input.to_owned()));
        }
        let name = input.strip_prefix('#').unwrap_or(input);
        if name.is_empty() {
            return error(CHANNEL_HINT.to_owned());
        }
        // ASCII letters only are lowered: Unicode's case table would be
        // the largest part of the web app's data, for a hint.
        let suggestion = || {
            let fixed: String = name
                .to_ascii_lowercase()
                .split(|c: char| c.is_whitespace() || c == '.')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            format!("#{fixed}")
        };
        let did_you_mean = || {
            let fixed = suggestion();
            if fixed.chars().any(char::is_uppercase) { ".".to_owned() } else { format!(": did you mean {fixed}?") }
        };
        if name.chars().any(|c| c.is_whitespace()) {
            return error(format!("Channel names have no spaces{}", did_you_mean()));
        }
        if name.chars().any(char::is_uppercase) {
            return error(format!("Channel names are lowercase{}", did_you_mean()));
        }
        // What Slack allows, exactly: lower-case letters, numbers, - and _
        // (letters of any script; no symbols, controls or direction marks).
        let allowed = |c: char| c == '-' || c == '_' || (c.is_alphanumeric() && !c.is_uppercase());
        if let Some(bad) = name.chars().find(|&c| !allowed(c)) {
            let fixed: String = suggestion().chars().filter(|&c| c == '#' || allowed(c)).collect();
            let hint = if fixed.len() > 1 { format!(": did you mean {fixed}?") } else { ".".to_owned() };
            return error(format!("A channel name has only lower-case letters, numbers, - and _ (not {bad:?}){hint}"));
        }
        if name.chars().count() > 80 {
            return error("A channel name has at most 80 characters.".to_owned());
        }
        Ok(ChannelRef::Name(name.to_owned()))
    }

    /// `#sec-alerts` or `C0123ABCD`.
    pub fn display(&self) -> String {
        match self {
            ChannelRef::Id(id) => id.clone(),
            ChannelRef::Name(name) => format!("#{name}"),
        }
    }
}

/// Slack conversation IDs: `C…` public, `G…` private, upper-case letters
/// and digits.
pub fn looks_like_channel_id(s: &str) -> bool {
    (9..=24).contains(&s.len()) && s.starts_with(['C', 'G']) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `1234567890.1234567890`: two runs of digits with a dot.
pub fn parse_client_id(field: &'static str, input: &str) -> Result<String, FieldError> {
    let id = input.trim();
    let valid = id.len() <= 40
        && id.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
        });
    if valid {
        Ok(id.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "A Client ID is two numbers joined by a dot, like 1234567890.1234567890: copy it from Basic Information → App Credentials.",
        ))
    }
}

/// Client Secret and Signing Secret: 32 hexadecimal characters.
pub fn parse_hex_secret(field: &'static str, label: &str, input: &str) -> Result<String, FieldError> {
    let secret = input.trim();
    if secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(secret.to_ascii_lowercase());
    }
    let mut message = format!("The {label} is 32 characters of 0-9 and a-f: copy it from Basic Information → App Credentials");
    if secret.len() != 32 && !secret.is_empty() {
        message.push_str(&format!(" (this one has {}).", secret.chars().count()));
    } else {
        message.push('.');
    }
    Err(FieldError::new(field, message))
}

/// An app-level token (Socket Mode): `xapp-…`.
pub fn parse_app_token(field: &'static str, input: &str) -> Result<String, FieldError> {
    let token = input.trim();
    let error = |message: &str| Err(FieldError::new(field, message));
    match token.strip_prefix("xapp-") {
        Some(body) if !body.is_empty() && token.len() <= 255 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Ok(token.to_owned())
        }
        Some(_) => error("This token is cut short or has stray characters: copy the whole app-level token again."),
        None if token.starts_with("xoxb-") || token.starts_with("xoxe.xoxb-") => {
            error("This is the bot token (xoxb-). The app-level token starts with xapp-: Basic Information → App-Level Tokens.")
        }
        None => error(
            "An app-level token starts with xapp-: create one under Basic Information → App-Level Tokens, with the scope connections:write.",
        ),
    }
}

/// A bot token: `xoxb-…`, or `xoxe.xoxb-…` with token rotation.
pub fn parse_bot_token(field: &'static str, input: &str) -> Result<String, FieldError> {
    let token = input.trim();
    let error = |message: &str| Err(FieldError::new(field, message));
    let body = token.strip_prefix("xoxb-").or_else(|| token.strip_prefix("xoxe.xoxb-"));
    match body {
        Some(body) if !body.is_empty() && token.len() <= 255 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Ok(token.to_owned())
        }
        Some(_) => error("This token is cut short or has stray characters: copy the whole Bot User OAuth Token again."),
        None if token.starts_with("xoxp-") || token.starts_with("xoxe.xoxp-") => {
            error("This is a user token (xoxp-). Use the Bot User OAuth Token, which starts with xoxb-.")
        }
        None if token.starts_with("xapp-") => {
            error("This is an app-level token (xapp-). Use the Bot User OAuth Token, which starts with xoxb-.")
        }
        None => error("A bot token starts with xoxb-: copy the Bot User OAuth Token from OAuth & Permissions."),
    }
}

/// `Vendor.Name`, e.g. `AWS.CloudTrail` or `Zscaler.ZIA.WebLog`.
pub fn parse_log_type(field: &'static str, input: &str) -> Result<String, FieldError> {
    let log_type = input.trim();
    let mut parts = log_type.split('.');
    let vendor_ok = parts.next().is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()));
    let rest: Vec<&str> = parts.collect();
    let rest_ok = !rest.is_empty() && rest.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if vendor_ok && rest_ok && log_type.len() <= 100 {
        Ok(log_type.to_owned())
    } else {
        Err(FieldError::new(field, format!("Log types look like AWS.CloudTrail (vendor, dot, name); {log_type:?} does not.")))
    }
}

/// A destination's display name.
pub fn parse_destination_name(field: &'static str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if crate::text::is_blank(name) {
        return Err(FieldError::new(field, "Name the destination, e.g. \"Security alerts\"."));
    }
    if name.chars().count() > 100 {
        return Err(FieldError::new(field, "A destination name has at most 100 characters."));
    }
    if crate::text::has_control(name) {
        return Err(FieldError::new(field, "A destination name is one line of text, without tabs or control characters."));
    }
    Ok(name.to_owned())
}

/// The deduplication window as typed: whole minutes, 0 (off) to a week.
pub fn parse_dedup_window(field: &'static str, input: &str) -> Result<u32, FieldError> {
    match input.trim().parse::<u32>() {
        Ok(minutes) if minutes <= MAX_DEDUP_WINDOW => Ok(minutes),
        Ok(_) => Err(dedup_window_too_long(field)),
        Err(_) => Err(FieldError::new(field, "Enter whole minutes, e.g. 60; 0 turns folding off.")),
    }
}

/// "Remind after" as typed: whole minutes, 0 (off) to a day.
pub fn parse_remind_after(field: &'static str, input: &str) -> Result<u32, FieldError> {
    match input.trim().parse::<u32>() {
        Ok(minutes) if minutes <= MAX_REMIND_AFTER => Ok(minutes),
        _ => Err(FieldError::new(field, format!("Enter whole minutes up to {MAX_REMIND_AFTER}, e.g. 30; 0 turns reminders off."))),
    }
}

/// "At most … reminders" as typed.
pub fn parse_remind_times(field: &'static str, input: &str) -> Result<u32, FieldError> {
    match input.trim().parse::<u32>() {
        Ok(times) if (1..=MAX_REMIND_TIMES).contains(&times) => Ok(times),
        _ => Err(FieldError::new(field, format!("Remind 1 to {MAX_REMIND_TIMES} times."))),
    }
}

fn dedup_window_too_long(field: &'static str) -> FieldError {
    FieldError::new(field, format!("The deduplication window is at most {MAX_DEDUP_WINDOW} minutes (a week); 0 turns folding off."))
}

/// The Slack Bot destination form, as the wizard and the API send it.
/// Secrets left out (or empty) keep what is stored.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlackBotForm {
    #[serde(flatten)]
    pub settings: DestinationSettings,
    pub client_secret: Option<String>,
    pub signing_secret: Option<String>,
    pub bot_token: Option<String>,
    /// Socket Mode: stands in for the signing secret.
    pub app_token: Option<String>,
    /// Minutes; `None`: keep the stored window ([`DEFAULT_DEDUP_WINDOW`]
    /// for a new destination).
    pub dedup_window: Option<u32>,
    /// The later settings a body left out (a client older than them):
    /// the stored ones are kept ([`SlackBotForm::keep_left_out`]).
    #[serde(skip)]
    pub left_out: LeftOut,
}

/// Which of the settings added after the first seven a body left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub mentions: bool,
    pub remind_after: bool,
    pub remind_times: bool,
}

deserialize_with!(SlackBotForm, "the Slack Bot destination's settings", read_form);

/// [`SlackBotForm`] in one pass; any field may be left out. Read by hand
/// like the views, and so that a wrong value is named by its field
/// (`severities[1]`): the API's error finds the field through the reader,
/// which it cannot do inside flatten's buffer.
fn read_form<'de, A: MapAccess<'de>>(map: A) -> Result<SlackBotForm, A::Error> {
    let mut settings = DestinationSettings::default();
    let (mut client_secret, mut signing_secret, mut bot_token, mut app_token, mut dedup_window) = (None, None, None, None, None);
    let mut seen = [false; SETTINGS.len()];
    walk(map, |key, map| {
        match key {
            "clientSecret" => client_secret = map.next_value()?,
            "signingSecret" => signing_secret = map.next_value()?,
            "botToken" => bot_token = map.next_value()?,
            "appToken" => app_token = map.next_value()?,
            "dedupWindow" => dedup_window = map.next_value()?,
            _ => match read_setting(&mut settings, key, map)? {
                Some(i) => seen[i] = true,
                None => return Ok(false),
            },
        }
        Ok(true)
    })?;
    // The settings after the first seven: mentions, remindAfter, remindTimes.
    let left_out = LeftOut {
        mentions: !seen[REQUIRED_SETTINGS],
        remind_after: !seen[REQUIRED_SETTINGS + 1],
        remind_times: !seen[REQUIRED_SETTINGS + 2],
    };
    Ok(SlackBotForm { settings, client_secret, signing_secret, bot_token, app_token, dedup_window, left_out })
}

/// Events with the same key fold into one alert within an hour.
pub const DEFAULT_DEDUP_WINDOW: u32 = 60;
/// The longest window: a week, in minutes.
pub const MAX_DEDUP_WINDOW: u32 = 7 * 24 * 60;

impl std::fmt::Debug for SlackBotForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        let secrets = [given(&self.client_secret), given(&self.signing_secret), given(&self.bot_token), given(&self.app_token)];
        debug_settings(f, "SlackBotForm", &self.settings, secrets)
    }
}

/// The one `Debug` both forms of the settings share: secrets only say
/// whether they are given.
fn debug_settings(f: &mut std::fmt::Formatter<'_>, name: &str, settings: &DestinationSettings, secrets: [bool; 4]) -> std::fmt::Result {
    let shown = |given: bool| if given { "***" } else { "(keep)" };
    f.debug_struct(name)
        .field("settings", settings)
        .field("client_secret", &shown(secrets[0]))
        .field("signing_secret", &shown(secrets[1]))
        .field("bot_token", &shown(secrets[2]))
        .field("app_token", &shown(secrets[3]))
        .finish()
}

/// Which secrets are stored already (so the form may leave them out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredSecrets {
    pub client_secret: bool,
    pub signing_secret: bool,
    pub bot_token: bool,
    pub app_token: bool,
}

/// A form that passed every rule: the settings trimmed, sorted and
/// without repeats (the channel as [`ChannelRef::display`] shows it).
#[derive(Clone, PartialEq, Eq)]
pub struct ValidSlackBot {
    pub settings: DestinationSettings,
    /// `None`: keep the stored one.
    pub client_secret: Option<String>,
    pub signing_secret: Option<String>,
    pub bot_token: Option<String>,
    pub app_token: Option<String>,
    /// `None`: keep the stored one.
    pub dedup_window: Option<u32>,
}

impl std::fmt::Debug for ValidSlackBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets = [self.client_secret.is_some(), self.signing_secret.is_some(), self.bot_token.is_some(), self.app_token.is_some()];
        debug_settings(f, "ValidSlackBot", &self.settings, secrets)
    }
}

fn given(secret: &Option<String>) -> Option<&str> {
    secret.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl SlackBotForm {
    /// The settings the body left out, as `stored` has them.
    pub fn keep_left_out(&mut self, stored: &DestinationSettings) {
        let settings = &mut self.settings;
        if self.left_out.mentions {
            settings.mentions = stored.mentions.clone();
        }
        if self.left_out.remind_after {
            settings.remind_after = stored.remind_after;
        }
        if self.left_out.remind_times {
            settings.remind_times = stored.remind_times;
        }
        self.left_out = LeftOut::default();
    }

    /// Every rule, every field; all problems at once. The time zone is
    /// checked by the server against its time zone database.
    pub fn validate(&self, stored: StoredSecrets) -> Result<ValidSlackBot, Vec<FieldError>> {
        let settings = &self.settings;
        let mut errors = Vec::new();
        let mut keep = |result: Result<String, FieldError>| result.map_err(|e| errors.push(e)).ok();
        let display_name = keep(parse_destination_name("displayName", &settings.display_name));
        let client_id = keep(parse_client_id("clientId", &settings.client_id));
        let mut secret =
            |field: &'static str, label: &str, value: &Option<String>, stored: bool, parse: &dyn Fn(&str) -> Result<String, FieldError>| {
                match given(value) {
                    Some(v) => parse(v).map(Some).map_err(|e| errors.push(e)).ok().flatten(),
                    None if stored => None,
                    None => {
                        errors.push(FieldError::new(field, format!("Enter the {label}.")));
                        None
                    }
                }
            };
        let client_secret = secret("clientSecret", "Client Secret", &self.client_secret, stored.client_secret, &|v| {
            parse_hex_secret("clientSecret", "Client Secret", v)
        });
        // Slack signs what it sends over https; over Socket Mode the
        // connection vouches for it. One of the two is needed.
        let socket_mode = given(&self.app_token).is_some() || stored.app_token;
        let signing_secret = secret("signingSecret", "Signing Secret", &self.signing_secret, stored.signing_secret || socket_mode, &|v| {
            parse_hex_secret("signingSecret", "Signing Secret", v)
        });
        let bot_token = secret("botToken", "Bot User OAuth Token", &self.bot_token, stored.bot_token, &|v| parse_bot_token("botToken", v));
        let app_token = given(&self.app_token).and_then(|v| parse_app_token("appToken", v).map_err(|e| errors.push(e)).ok());
        let channel = ChannelRef::parse("channel", &settings.channel).map_err(|e| errors.push(e)).ok();
        if settings.severities.is_empty() {
            errors.push(FieldError::new("severities", "Pick at least one severity."));
        }
        if settings.alert_kinds.is_empty() {
            errors.push(FieldError::new("alertKinds", "Pick at least one alert type."));
        }
        let mut log_types = Vec::new();
        for log_type in &settings.log_types {
            match parse_log_type("logTypes", log_type) {
                Ok(t) if !log_types.contains(&t) => log_types.push(t),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        let timezone = settings.timezone.trim();
        if timezone.is_empty() {
            errors.push(FieldError::new("timezone", "Pick a time zone, e.g. UTC or Europe/Berlin."));
        }
        if self.dedup_window.is_some_and(|minutes| minutes > MAX_DEDUP_WINDOW) {
            errors.push(dedup_window_too_long("dedupWindow"));
        }
        let mentions = settings.mentions.validate().map_err(|e| errors.push(e)).ok();
        if settings.remind_after > MAX_REMIND_AFTER {
            errors.push(FieldError::new(
                "remindAfter",
                format!("Remind after at most {MAX_REMIND_AFTER} minutes (a day); 0 turns reminders off."),
            ));
        }
        if settings.remind_after > 0 && !(1..=MAX_REMIND_TIMES).contains(&settings.remind_times) {
            errors.push(FieldError::new("remindTimes", format!("Remind 1 to {MAX_REMIND_TIMES} times.")));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut severities = settings.severities.clone();
        severities.sort();
        severities.dedup();
        let mut alert_kinds = settings.alert_kinds.clone();
        alert_kinds.sort();
        alert_kinds.dedup();
        Ok(ValidSlackBot {
            settings: DestinationSettings {
                display_name: display_name.expect("checked"),
                channel: channel.expect("checked").display(),
                client_id: client_id.expect("checked"),
                severities,
                alert_kinds,
                log_types,
                timezone: timezone.to_owned(),
                mentions: mentions.expect("checked"),
                remind_after: settings.remind_after,
                remind_times: settings.remind_times.clamp(1, MAX_REMIND_TIMES),
            },
            client_secret,
            signing_secret,
            bot_token,
            app_token,
            dedup_window: self.dedup_window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        let kind = DestinationKind::SlackBot;
        assert_eq!(DestinationKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        for severity in Severity::ALL {
            assert_eq!(Severity::parse(&severity.as_str().to_lowercase()), Some(severity));
            assert_eq!(serde_json::to_value(severity).unwrap(), severity.as_str());
        }
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn channel_names_and_ids_are_told_apart() {
        assert_eq!(ChannelRef::parse("c", "#sec-alerts").unwrap(), ChannelRef::Name("sec-alerts".into()));
        assert_eq!(ChannelRef::parse("c", "sec-alerts").unwrap(), ChannelRef::Name("sec-alerts".into()));
        assert_eq!(ChannelRef::parse("c", " C0123ABCD ").unwrap(), ChannelRef::Id("C0123ABCD".into()));
        assert_eq!(ChannelRef::parse("c", "G0PRIVATE12").unwrap(), ChannelRef::Id("G0PRIVATE12".into()));
        assert_eq!(ChannelRef::parse("c", "#hello-world").unwrap().display(), "#hello-world");
        assert_eq!(ChannelRef::parse("c", "#sécurité").unwrap(), ChannelRef::Name("sécurité".into()));
    }

    #[test]
    fn bad_channels_get_a_suggestion() {
        let message = |input: &str| ChannelRef::parse("channel", input).unwrap_err().message;
        assert!(message("#Sec Alerts").contains("#sec-alerts"), "{}", message("#Sec Alerts"));
        assert!(message("#SecAlerts").contains("lowercase"));
        // Only ASCII letters are lowered for a hint; without one, the rule.
        assert_eq!(message("#Équipe"), "Channel names are lowercase.");
        assert!(message("#Sécurité Ops").contains("#sécurité-ops"), "{}", message("#Sécurité Ops"));
        assert!(message("#sec.alerts").contains("#sec-alerts"));
        assert!(message("").contains("C0123ABCD"));
        assert!(message("#").contains("#sec-alerts"));
        assert!(message(&format!("#{}", "a".repeat(81))).contains("80"));
    }

    #[test]
    fn credentials_have_the_shapes_slack_gives_them() {
        assert!(parse_client_id("f", "1234567890.1234567890123").is_ok());
        for bad in ["", "1234567890", "abc.def", "1234567890.", ".123"] {
            assert!(parse_client_id("f", bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_hex_secret("f", "Signing Secret", "0123456789ABCDEF0123456789abcdef").unwrap(),
            "0123456789abcdef0123456789abcdef"
        );
        assert!(parse_hex_secret("f", "Signing Secret", "0123").unwrap_err().message.contains("this one has 4"));
        assert!(parse_hex_secret("f", "Client Secret", "g123456789abcdef0123456789abcdef").is_err());
        assert!(parse_bot_token("f", "xoxb-1111-2222-abcDEF").is_ok());
        assert!(parse_bot_token("f", "xoxe.xoxb-1-abc").is_ok());
        assert!(parse_bot_token("f", "xoxp-1111").unwrap_err().message.contains("user token"));
        assert!(parse_bot_token("f", "xapp-1-A").unwrap_err().message.contains("app-level"));
        assert!(parse_bot_token("f", "xoxb-").is_err());
        assert!(parse_bot_token("f", "xoxb-abc def").is_err());
    }

    #[test]
    fn log_types_are_vendor_dot_name() {
        for good in SUPPORTED_LOG_TYPES {
            assert!(parse_log_type("f", good).is_ok(), "{good}");
        }
        for bad in ["", "AWS", "AWS.", ".CloudTrail", "AWS CloudTrail", "AWS..CloudTrail"] {
            assert!(parse_log_type("f", bad).is_err(), "{bad}");
        }
    }

    fn filled() -> SlackBotForm {
        SlackBotForm {
            settings: DestinationSettings {
                display_name: "Security alerts".into(),
                channel: "#sec-alerts".into(),
                client_id: "1111111111.2222222222".into(),
                severities: vec![Severity::Critical, Severity::High, Severity::High],
                alert_kinds: vec![AlertKind::Alerts],
                log_types: vec![],
                timezone: "UTC".into(),
                ..DestinationSettings::default()
            },
            client_secret: Some("0123456789abcdef0123456789abcdef".into()),
            signing_secret: Some("fedcba9876543210fedcba9876543210".into()),
            bot_token: Some("xoxb-1-2-abc".into()),
            app_token: None,
            dedup_window: None,
            left_out: LeftOut::default(),
        }
    }

    #[test]
    fn the_deduplication_window_is_at_most_a_week() {
        assert_eq!(filled().validate(StoredSecrets::default()).unwrap().dedup_window, None, "kept when not given");
        let week = SlackBotForm { dedup_window: Some(MAX_DEDUP_WINDOW), ..filled() };
        assert_eq!(week.validate(StoredSecrets::default()).unwrap().dedup_window, Some(10_080));
        let off = SlackBotForm { dedup_window: Some(0), ..filled() };
        assert_eq!(off.validate(StoredSecrets::default()).unwrap().dedup_window, Some(0));
        let errors = SlackBotForm { dedup_window: Some(MAX_DEDUP_WINDOW + 1), ..filled() }.validate(StoredSecrets::default()).unwrap_err();
        assert_eq!(errors[0].field, "dedupWindow");
        assert!(errors[0].message.contains("0 turns folding off"), "{}", errors[0].message);
    }

    #[test]
    fn a_typed_deduplication_window_is_whole_minutes_up_to_a_week() {
        assert_eq!(parse_dedup_window("dedupWindow", " 90 ").unwrap(), 90);
        assert_eq!(parse_dedup_window("dedupWindow", "0").unwrap(), 0);
        for typed in ["", "1.5", "-1", "an hour"] {
            let error = parse_dedup_window("dedupWindow", typed).unwrap_err();
            assert_eq!(error.field, "dedupWindow");
            assert!(error.message.contains("whole minutes"), "{typed:?}: {}", error.message);
        }
        assert!(parse_dedup_window("dedupWindow", "10081").unwrap_err().message.contains("at most 10080"));
    }

    #[test]
    fn reminders_are_off_by_default_and_bounded() {
        let valid = filled().validate(StoredSecrets::default()).unwrap();
        assert_eq!((valid.settings.remind_after, valid.settings.remind_times), (0, DEFAULT_REMIND_TIMES));
        let mut form = filled();
        form.settings.remind_after = 30;
        form.settings.remind_times = 2;
        assert_eq!(form.validate(StoredSecrets::default()).unwrap().settings.remind_after, 30);
        form.settings.remind_times = 0;
        assert_eq!(form.validate(StoredSecrets::default()).unwrap_err()[0].field, "remindTimes");
        form.settings.remind_after = MAX_REMIND_AFTER + 1;
        form.settings.remind_times = 3;
        assert_eq!(form.validate(StoredSecrets::default()).unwrap_err()[0].field, "remindAfter");
        assert_eq!(parse_remind_after("remindAfter", " 45 ").unwrap(), 45);
        assert!(parse_remind_after("remindAfter", "soon").unwrap_err().message.contains("0 turns reminders off"));
        assert_eq!(parse_remind_times("remindTimes", "3").unwrap(), 3);
        assert!(parse_remind_times("remindTimes", "11").is_err());
        let json: SlackBotForm = serde_json::from_value(serde_json::json!({"remindAfter": 15, "mentions": {"HIGH": ["@here"]}})).unwrap();
        assert_eq!((json.settings.remind_after, json.settings.remind_times), (15, DEFAULT_REMIND_TIMES), "times default to 3");
        assert_eq!(json.settings.mentions.slack_text(Severity::High), "<!here>");
        assert_eq!(json.left_out, LeftOut { mentions: false, remind_after: false, remind_times: true });
        let mut older: SlackBotForm = serde_json::from_value(serde_json::json!({"displayName": "SOC", "remindTimes": 5})).unwrap();
        let stored =
            DestinationSettings { remind_after: 30, remind_times: 7, mentions: json.settings.mentions.clone(), ..filled().settings };
        older.keep_left_out(&stored);
        let kept = &older.settings;
        assert_eq!((kept.remind_after, kept.remind_times, &kept.mentions), (30, 5, &stored.mentions), "each left out is kept, alone");
    }

    #[test]
    fn a_filled_form_is_valid_and_tidied() {
        let valid = filled().validate(StoredSecrets::default()).unwrap();
        assert_eq!(valid.settings.severities, [Severity::High, Severity::Critical]);
        assert_eq!(valid.settings.channel, ChannelRef::Name("sec-alerts".into()).display());
    }

    #[test]
    fn missing_secrets_are_errors_unless_stored_already() {
        let mut form = filled();
        form.client_secret = None;
        form.signing_secret = Some("  ".into());
        form.bot_token = None;
        let fields: Vec<String> = form.validate(StoredSecrets::default()).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["clientSecret", "signingSecret", "botToken"]);
        let stored = StoredSecrets { client_secret: true, signing_secret: true, bot_token: true, app_token: false };
        let valid = form.validate(stored).unwrap();
        assert_eq!((valid.client_secret, valid.signing_secret, valid.bot_token), (None, None, None));
    }

    #[test]
    fn an_app_level_token_stands_in_for_the_signing_secret() {
        let socket_mode = SlackBotForm { signing_secret: None, app_token: Some(" xapp-1-A0HERALD01-1234-abcdef ".into()), ..filled() };
        let valid = socket_mode.validate(StoredSecrets::default()).unwrap();
        assert_eq!((valid.signing_secret, valid.app_token.as_deref()), (None, Some("xapp-1-A0HERALD01-1234-abcdef")));
        let stored = StoredSecrets { app_token: true, ..StoredSecrets::default() };
        let keep = SlackBotForm { signing_secret: None, ..filled() };
        assert_eq!(keep.validate(stored).unwrap().app_token, None, "the stored one is kept");
        let bot = SlackBotForm { signing_secret: None, app_token: Some("xoxb-1-2-abc".into()), ..filled() };
        let errors = bot.validate(StoredSecrets::default()).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["appToken"]);
        assert!(errors[0].message.contains("starts with xapp-"), "{}", errors[0].message);
        assert!(parse_app_token("appToken", "xapp-").is_err());
        assert!(parse_app_token("appToken", "xapp-1 A").unwrap_err().message.contains("stray characters"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let form =
            SlackBotForm { settings: DestinationSettings { channel: "#Bad Name".into(), ..Default::default() }, ..Default::default() };
        let fields: Vec<String> = form.validate(StoredSecrets::default()).unwrap_err().into_iter().map(|e| e.field).collect();
        for field in
            ["displayName", "channel", "clientId", "clientSecret", "signingSecret", "botToken", "severities", "alertKinds", "timezone"]
        {
            assert!(fields.iter().any(|f| f == field), "{field} missing from {fields:?}");
        }
    }

    #[test]
    fn a_view_reads_back_what_it_writes() {
        let view = DestinationView {
            id: "d1".into(),
            kind: DestinationKind::SlackBot,
            status: DestinationStatus::Active,
            wizard_step: 7,
            settings: filled().settings,
            client_secret: SecretHint::of(Some("abcd")),
            signing_secret: SecretHint::default(),
            bot_token: SecretHint::of(Some("wxyz")),
            app_token: SecretHint::of(Some("9f3e")),
            socket_mode: Some(SocketModeView {
                state: SocketModeState::Reconnecting,
                since: "2026-12-01T10:04:00Z".into(),
                reason: Some("Slack closed the connection".into()),
                connections: 0,
            }),
            dedup_window: 15,
            problem: Some("Disconnected — reinstall".into()),
            health: Some(DeliveryHealthView { last_sent_at: None, failures_24h: 2, last_error: Some("ratelimited".into()) }),
            created_at: "2026-12-01T10:00:00Z".into(),
            updated_at: "2026-12-01T10:05:00Z".into(),
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!((&json["displayName"], &json["dedupWindow"]), (&serde_json::json!("Security alerts"), &serde_json::json!(15)), "flat");
        assert_eq!(serde_json::from_value::<DestinationView>(json).unwrap(), view);
        let bare = DestinationView { problem: None, health: None, ..view };
        let mut json = serde_json::to_value(&bare).unwrap();
        json["unknownField"] = serde_json::json!({"ignored": [1, 2]});
        assert_eq!(serde_json::from_value::<DestinationView>(json.clone()).unwrap(), bare, "unknown keys are ignored");
        json.as_object_mut().unwrap().remove("status");
        let error = serde_json::from_value::<DestinationView>(json).unwrap_err();
        assert!(error.to_string().contains("missing field `status`"), "{error}");
        let mut json = serde_json::to_value(&bare).unwrap();
        json.as_object_mut().unwrap().remove("timezone");
        let error = serde_json::from_value::<DestinationView>(json).unwrap_err();
        assert!(error.to_string().contains("missing field `timezone`"), "a setting is required too: {error}");
    }

    #[test]
    fn a_form_may_leave_out_any_field_and_reads_back_what_it_writes() {
        let form: SlackBotForm = serde_json::from_value(serde_json::json!({"displayName": "SOC", "dedupWindow": 5})).unwrap();
        assert_eq!((form.settings.display_name.as_str(), form.dedup_window, form.bot_token), ("SOC", Some(5), None));
        assert_eq!(form.settings.severities, []);
        let filled = filled();
        let json = serde_json::to_value(&filled).unwrap();
        assert_eq!(json["clientId"], "1111111111.2222222222", "the settings are inline");
        assert_eq!(serde_json::from_value::<SlackBotForm>(json).unwrap(), filled);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let text = format!("{:?}", filled());
        assert!(!text.contains("0123456789abcdef") && !text.contains("xoxb-"), "{text}");
    }
}
