//! Alerts: the ingest body as parsed (every limit and rule of the edge
//! decisions in one place), the routing rule, and what the API shows of an
//! alert and its deliveries.

use serde::de::MapAccess;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::FieldError;
use crate::destination::{AlertKind, Severity};
use crate::inline::{deserialize_with, required, walk};

/// At most this many alerts in one `{"alerts": [...]}` batch.
pub const MAX_BATCH: usize = 1_000;
pub const MAX_TITLE_CHARS: usize = 1_000;
pub const MAX_TEXT_CHARS: usize = 10_000;
pub const MAX_CONTEXT_BYTES: usize = 64 * 1024;
pub const MAX_ID_CHARS: usize = 200;
pub const MAX_SHORT_CHARS: usize = 255;
pub const MAX_LIST_ITEMS: usize = 100;
pub const MAX_REFERENCE_CHARS: usize = 2_000;
/// Links shown as buttons on the message (a dashboard, a silence).
pub const MAX_LINKS: usize = 5;
pub const MAX_LINK_LABEL_CHARS: usize = 40;

/// What the detection pipeline says the alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertType {
    Rule,
    ScheduledRule,
    Policy,
    RuleError,
    ScheduledRuleError,
    SystemError,
}

impl AlertType {
    pub const ALL: [AlertType; 6] = [
        AlertType::Rule,
        AlertType::ScheduledRule,
        AlertType::Policy,
        AlertType::RuleError,
        AlertType::ScheduledRuleError,
        AlertType::SystemError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertType::Rule => "RULE",
            AlertType::ScheduledRule => "SCHEDULED_RULE",
            AlertType::Policy => "POLICY",
            AlertType::RuleError => "RULE_ERROR",
            AlertType::ScheduledRuleError => "SCHEDULED_RULE_ERROR",
            AlertType::SystemError => "SYSTEM_ERROR",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AlertType::Rule => "Rule",
            AlertType::ScheduledRule => "Scheduled Rule",
            AlertType::Policy => "Policy",
            AlertType::RuleError => "Rule Error",
            AlertType::ScheduledRuleError => "Scheduled Rule Error",
            AlertType::SystemError => "System Error",
        }
    }

    /// Any case: `rule`, `RULE`.
    pub fn parse(s: &str) -> Option<AlertType> {
        AlertType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The group a destination's "Alert Types" setting names.
    pub fn kind(self) -> AlertKind {
        match self {
            AlertType::Rule | AlertType::ScheduledRule | AlertType::Policy => AlertKind::Alerts,
            AlertType::RuleError | AlertType::ScheduledRuleError => AlertKind::DetectionErrors,
            AlertType::SystemError => AlertKind::SystemErrors,
        }
    }
}

/// Where an alert is in its triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertStatus {
    Open,
    Triaged,
    Resolved,
    /// Shown as "Invalid".
    Closed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [AlertStatus::Open, AlertStatus::Triaged, AlertStatus::Resolved, AlertStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "OPEN",
            AlertStatus::Triaged => "TRIAGED",
            AlertStatus::Resolved => "RESOLVED",
            AlertStatus::Closed => "CLOSED",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AlertStatus::Open => "Open",
            AlertStatus::Triaged => "Triaged",
            AlertStatus::Resolved => "Resolved",
            AlertStatus::Closed => "Invalid",
        }
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// New alerts start open; INFO alerts are informational and start resolved.
    pub fn initial(severity: Severity) -> AlertStatus {
        if severity == Severity::Info { AlertStatus::Resolved } else { AlertStatus::Open }
    }
}

/// What an alert says, as the pipeline sent it: the one type the ingest
/// body, the stored alert, its page and its Slack message share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertContent {
    pub title: String,
    pub severity: Severity,
    #[serde(rename = "type")]
    pub alert_type: AlertType,
    pub detection_id: Option<String>,
    pub log_types: Vec<String>,
    pub description: Option<String>,
    pub runbook: Option<String>,
    pub reference: Option<String>,
    pub tags: Vec<String>,
    /// Buttons that open a page: Grafana's dashboard, panel and silence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// A link the message shows as a button; the URL is an http(s) link a
/// browser can open (see [`web_link`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// One alert of an ingest body, checked. `created_at` is RFC 3339 as sent
/// (the server normalises it and fills in the time of receipt).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// `None`: Herald assigns one.
    pub alert_id: Option<String>,
    pub content: AlertContent,
    pub created_at: Option<String>,
    /// As sent, compact JSON.
    pub alert_context: Option<String>,
    /// Overrides routing when present.
    pub destinations: Option<Vec<String>>,
    /// Events with the same key fold into one alert while it is open
    /// (`None`: the detection ID and title are the key).
    pub dedup_key: Option<String>,
}

/// The two shapes of `POST /api/alerts`.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestBody {
    One(Box<NewAlert>),
    Batch(Vec<NewAlert>),
}

/// Parses an ingest body: one alert, or `{"alerts": [...]}`. A batch is
/// accepted or refused whole; errors name `alerts[i].field`.
pub fn parse_ingest(body: &Value) -> Result<IngestBody, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", "Send one alert as a JSON object, or {\"alerts\": [...]} for a batch.")]);
    };
    match object.get("alerts") {
        None => parse_alert(body, "").map(|alert| IngestBody::One(Box::new(alert))),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(vec![FieldError::new("alerts", "The batch is empty: send at least one alert.")]);
            }
            if items.len() > MAX_BATCH {
                return Err(vec![FieldError::new(
                    "alerts",
                    format!("A batch holds at most {MAX_BATCH} alerts; this one has {}. Split it.", items.len()),
                )]);
            }
            let mut alerts = Vec::with_capacity(items.len());
            let mut errors = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match parse_alert(item, &format!("alerts[{i}].")) {
                    Ok(alert) => alerts.push(alert),
                    Err(mut e) => errors.append(&mut e),
                }
            }
            if errors.is_empty() { Ok(IngestBody::Batch(alerts)) } else { Err(errors) }
        }
        Some(_) => Err(vec![FieldError::new("alerts", "alerts must be a list of alert objects.")]),
    }
}

/// Reads the fields of one alert, collecting every problem.
fn parse_alert(value: &Value, prefix: &str) -> Result<NewAlert, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(object) = value.as_object() else {
        let at = prefix.trim_end_matches('.');
        return Err(vec![FieldError::new(if at.is_empty() { "body" } else { at }, "Each alert must be a JSON object.")]);
    };
    let mut fail = |field: &str, message: String| errors.push(FieldError::new(format!("{prefix}{field}"), message));

    let text = |field: &str, limit: usize, fail: &mut dyn FnMut(&str, String)| -> Option<String> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = crate::text::without_nul(s);
                let count = s.chars().count();
                if count > limit {
                    fail(field, format!("{field} is {count} characters; the limit is {limit}. Shorten it."));
                    None
                } else if s.trim().is_empty() {
                    None
                } else {
                    Some(s)
                }
            }
            Some(_) => {
                fail(field, format!("{field} must be a string."));
                None
            }
        }
    };

    let alert_id = text("alertId", MAX_ID_CHARS, &mut fail).map(|s| s.trim().to_owned());
    if let Some(problem) = alert_id.as_deref().and_then(alert_id_problem) {
        fail("alertId", problem.into());
    }
    let title = text("title", MAX_TITLE_CHARS, &mut fail);
    let title_missing = match object.get("title") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => crate::text::is_blank(&crate::text::without_nul(s)),
        Some(_) => false,
    };
    if title_missing {
        fail("title", "title is required: say in a few words what happened.".into());
    }
    let severity = match object.get("severity") {
        None | Some(Value::Null) => {
            fail("severity", "severity is required: one of INFO, LOW, MEDIUM, HIGH, CRITICAL.".into());
            None
        }
        Some(Value::String(s)) => {
            let parsed = Severity::parse(s);
            if parsed.is_none() {
                fail("severity", format!("Unknown severity {s:?}: use one of INFO, LOW, MEDIUM, HIGH, CRITICAL."));
            }
            parsed
        }
        Some(_) => {
            fail("severity", "severity must be a string: one of INFO, LOW, MEDIUM, HIGH, CRITICAL.".into());
            None
        }
    };
    let alert_type = match object.get("type") {
        None | Some(Value::Null) => Some(AlertType::Rule),
        Some(Value::String(s)) if s.trim().is_empty() => Some(AlertType::Rule),
        Some(Value::String(s)) => {
            let parsed = AlertType::parse(s);
            if parsed.is_none() {
                fail(
                    "type",
                    format!("Unknown type {s:?}: use one of RULE, SCHEDULED_RULE, POLICY, RULE_ERROR, SCHEDULED_RULE_ERROR, SYSTEM_ERROR."),
                );
            }
            parsed
        }
        Some(_) => {
            fail("type", "type must be a string such as RULE.".into());
            None
        }
    };
    let detection_id = text("detectionId", MAX_SHORT_CHARS * 4, &mut fail);
    let dedup_key = text("dedupKey", MAX_SHORT_CHARS * 4, &mut fail);
    let description = text("description", MAX_TEXT_CHARS, &mut fail);
    let runbook = text("runbook", MAX_TEXT_CHARS, &mut fail);
    let reference = text("reference", MAX_REFERENCE_CHARS, &mut fail).and_then(|reference| match web_link(&reference) {
        Ok(link) => Some(link),
        Err(problem) => {
            fail("reference", format!("reference {problem}"));
            None
        }
    });
    let created_at = text("createdAt", 64, &mut fail);
    if created_at.as_ref().is_some_and(|at| !looks_like_rfc3339(at)) {
        fail("createdAt", "createdAt must be an RFC 3339 time such as 2026-11-29T08:00:00Z.".into());
    }
    let list = |field: &str, fail: &mut dyn FnMut(&str, String)| -> Vec<String> {
        match object.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() > MAX_LIST_ITEMS => {
                fail(field, format!("{field} has {} items; the limit is {MAX_LIST_ITEMS}.", items.len()));
                Vec::new()
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_str() {
                        Some(s) if s.chars().count() > MAX_SHORT_CHARS => {
                            fail(field, format!("Each of {field} is at most {MAX_SHORT_CHARS} characters."));
                            return Vec::new();
                        }
                        Some(s) if !s.trim().is_empty() => out.push(crate::text::without_nul(s.trim())),
                        Some(_) => {}
                        None => {
                            fail(field, format!("{field} must be a list of strings."));
                            return Vec::new();
                        }
                    }
                }
                out
            }
            Some(_) => {
                fail(field, format!("{field} must be a list of strings."));
                Vec::new()
            }
        }
    };
    let log_types = list("logTypes", &mut fail);
    let tags = list("tags", &mut fail);
    let links = links(object.get("links"), &mut fail);
    let destinations = object.get("destinations").filter(|v| !v.is_null()).map(|_| list("destinations", &mut fail));
    let alert_context = match object.get("alertContext") {
        None | Some(Value::Null) => None,
        Some(context) => {
            let compact = context.to_string();
            if compact.len() > MAX_CONTEXT_BYTES {
                fail(
                    "alertContext",
                    format!("alertContext is {} bytes as JSON; the limit is 64 KiB ({MAX_CONTEXT_BYTES} bytes).", compact.len()),
                );
                None
            } else {
                Some(compact)
            }
        }
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(title), Some(mut severity), Some(alert_type)) = (title, severity, alert_type) else {
        unreachable!("a missing required field is reported above")
    };
    if alert_type == AlertType::SystemError {
        // Herald's own problems are always critical.
        severity = Severity::Critical;
    }
    Ok(NewAlert {
        alert_id,
        content: AlertContent { title, severity, alert_type, detection_id, log_types, description, runbook, reference, tags, links },
        created_at,
        alert_context,
        destinations,
        dedup_key,
    })
}

/// `links: [{"label": "Dashboard", "url": "https://…"}]`, each checked.
fn links(value: Option<&Value>, fail: &mut dyn FnMut(&str, String)) -> Vec<Link> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) if items.len() <= MAX_LINKS => items,
        Some(Value::Array(items)) => {
            fail("links", format!("links has {} items; the limit is {MAX_LINKS}.", items.len()));
            return Vec::new();
        }
        Some(_) => {
            fail("links", "links must be a list of {\"label\": …, \"url\": …} objects.".into());
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("links[{i}]");
        let (Some(label), Some(url)) = (item.get("label").and_then(Value::as_str), item.get("url").and_then(Value::as_str)) else {
            fail(&field, format!("{field} must have a label and a url, both strings."));
            continue;
        };
        let label = crate::text::without_nul(label.trim());
        if label.is_empty() || label.chars().count() > MAX_LINK_LABEL_CHARS {
            fail(&format!("{field}.label"), format!("{field}.label must be 1 to {MAX_LINK_LABEL_CHARS} characters."));
            continue;
        }
        if url.chars().count() > MAX_REFERENCE_CHARS {
            fail(&format!("{field}.url"), format!("{field}.url is longer than {MAX_REFERENCE_CHARS} characters."));
            continue;
        }
        match web_link(url) {
            Ok(url) => out.push(Link { label, url }),
            Err(problem) => fail(&format!("{field}.url"), format!("{field}.url {problem}")),
        }
    }
    out
}

/// An http(s) link as a browser reads it (WHATWG URL rules: `\` is `/`),
/// so the link Slack shows and its host label name the same site. `Err`
/// ends a sentence that starts with the field's name.
pub fn web_link(link: &str) -> Result<String, String> {
    if !(link.starts_with("https://") || link.starts_with("http://")) {
        return Err("must be an http(s) link.".into());
    }
    if link.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be one link, without spaces (encode them as %20).".into());
    }
    match url::Url::parse(link) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url.to_string()),
        Ok(_) => Err("must name a site, like https://docs.example.com/runbook.".into()),
        Err(error) => Err(format!("is not a link a browser can open ({error}).")),
    }
}

/// A quick shape check; the server parses the time properly.
/// RFC 3339's shape: `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z`
/// or an offset within ±23:59. (Whether it is a real time, month 13 or
/// February 30th, the server's time library says.)
pub fn looks_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let two = |at: usize| (b[at] - b'0') * 10 + (b[at + 1] - b'0');
    let shaped = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shaped {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', ..] if b.len() == i + 6 => {
            digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6) && two(i + 1) <= 23 && two(i + 4) <= 59
        }
        _ => false,
    }
}

/// Why an alert ID cannot be one: it must be a safe URL path segment, so
/// its page in Herald and Slack's "View in Herald" link open it.
fn alert_id_problem(id: &str) -> Option<&'static str> {
    if id == "." || id == ".." {
        return Some("alertId cannot be . or .. (a path segment browsers remove); use letters, numbers, - or _.");
    }
    if id.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '\\' | '?' | '#')) {
        return Some("alertId must be one URL path segment: no spaces, control characters, / \\ ? or #.");
    }
    None
}

/// A destination's filters, as the routing rule reads them.
#[derive(Debug, Clone, Copy)]
pub struct Filters<'a> {
    pub severities: &'a [Severity],
    pub alert_kinds: &'a [AlertKind],
    /// Empty: every log type.
    pub log_types: &'a [String],
}

/// The routing rule: the alert's severity is one the destination takes, its
/// type is in one of the destination's alert types, and, when the
/// destination names log types, the alert has one of them. System errors are
/// Herald's own and carry no log types, so the log-type filter does not
/// apply to them.
pub fn matches(filters: Filters<'_>, severity: Severity, alert_type: AlertType, log_types: &[String]) -> bool {
    filters.severities.contains(&severity)
        && filters.alert_kinds.contains(&alert_type.kind())
        && (filters.log_types.is_empty()
            || alert_type == AlertType::SystemError
            || log_types.iter().any(|t| filters.log_types.iter().any(|f| f.eq_ignore_ascii_case(t))))
}

/// What became of one alert at `POST /api/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub alert_id: String,
    /// `false`: an alert with this ID was received before and is not
    /// delivered again.
    pub created: bool,
    /// How many destinations it is queued for (for a repeat: how many the
    /// first one went to).
    pub deliveries: usize,
    /// `true`: an event of an open alert with the same deduplication key,
    /// folded into it (`alertId` is that alert's); its message is updated.
    #[serde(default)]
    pub folded: bool,
    /// Webhooks: `true` when the source said the alert is resolved and
    /// Herald resolved it (its messages are updated).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
}

/// The answer to `POST /api/alerts`: 202 when anything new was queued, 200
/// when every alert was a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestAnswer {
    pub alerts: Vec<Accepted>,
}

/// Where one alert's message to one destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryState {
    /// Waiting its turn (the channel's pace, or a new alert).
    Queued,
    /// Being sent now.
    Sending,
    Sent,
    /// Failed for a reason that may pass; tried again at `next_attempt_at`.
    Retrying,
    /// Given up: a permanent error, or too many attempts.
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 5] =
        [DeliveryState::Queued, DeliveryState::Sending, DeliveryState::Sent, DeliveryState::Retrying, DeliveryState::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "QUEUED",
            DeliveryState::Sending => "SENDING",
            DeliveryState::Sent => "SENT",
            DeliveryState::Retrying => "RETRYING",
            DeliveryState::Failed => "FAILED",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An alert's delivery to one destination, as the alert page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub destination_id: String,
    pub destination_name: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// RFC 3339, when retrying.
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed, in plain words.
    pub last_error: Option<String>,
    pub slack_channel: Option<String>,
    pub slack_ts: Option<String>,
    /// A link to the message in Slack, once sent.
    pub permalink: Option<String>,
    pub updated_at: String,
}

/// An alert in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSummary {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    #[serde(rename = "type")]
    pub alert_type: AlertType,
    pub status: AlertStatus,
    pub detection_id: Option<String>,
    pub created_at: String,
    /// The least advanced of its deliveries (failed before retrying before
    /// queued before sent); `None` when it went nowhere.
    pub delivery: Option<DeliveryState>,
    /// Events folded into it, the first included.
    #[serde(default = "one")]
    pub event_count: u64,
    /// RFC 3339: the latest event.
    #[serde(default)]
    pub last_seen_at: String,
}

fn one() -> u64 {
    1
}

/// `GET /api/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertList {
    pub alerts: Vec<AlertSummary>,
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityAction {
    Status,
    Assign,
    Comment,
    /// Resolved with a comment.
    Resolve,
    /// A Boomerang question to someone.
    Question,
    /// Their answer.
    Answer,
    /// More events folded in (`new_value`: how many).
    Events,
}

impl ActivityAction {
    pub const ALL: [ActivityAction; 7] = [
        ActivityAction::Status,
        ActivityAction::Assign,
        ActivityAction::Comment,
        ActivityAction::Resolve,
        ActivityAction::Question,
        ActivityAction::Answer,
        ActivityAction::Events,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityAction::Status => "STATUS",
            ActivityAction::Assign => "ASSIGN",
            ActivityAction::Comment => "COMMENT",
            ActivityAction::Resolve => "RESOLVE",
            ActivityAction::Question => "QUESTION",
            ActivityAction::Answer => "ANSWER",
            ActivityAction::Events => "EVENTS",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityAction> {
        ActivityAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Where a change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivitySource {
    Slack,
    Console,
    /// The alert pipeline, through the ingest API.
    Api,
}

impl ActivitySource {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivitySource::Slack => "SLACK",
            ActivitySource::Console => "CONSOLE",
            ActivitySource::Api => "API",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActivitySource::Slack => "Slack",
            ActivitySource::Console => "Herald",
            ActivitySource::Api => "the alert pipeline",
        }
    }

    pub fn parse(s: &str) -> Option<ActivitySource> {
        [ActivitySource::Slack, ActivitySource::Console, ActivitySource::Api].into_iter().find(|a| a.as_str() == s)
    }
}

/// One entry of an alert's history: who changed what, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// The Herald user who made the change, when one did.
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub source: ActivitySource,
    pub action: ActivityAction,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub comment: Option<String>,
}

/// An entry of the history as the alert page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityView {
    /// RFC 3339.
    pub at: String,
    #[serde(flatten)]
    pub activity: Activity,
    /// The entry in words: "Ana changed the status from Open to Triaged".
    pub summary: String,
}

deserialize_with!(ActivityView, "an entry of an alert's history", read_activity);

/// [`ActivityView`] in one pass ([`crate::inline`]): the entry is inline.
fn read_activity<'de, A: MapAccess<'de>>(map: A) -> Result<ActivityView, A::Error> {
    let (mut at, mut actor_name, mut source, mut action, mut summary) = (None, None, None, None, None);
    let (mut actor_id, mut old_value, mut new_value, mut comment) = Default::default();
    walk(map, |key, map| {
        match key {
            "at" => at = map.next_value()?,
            "actorId" => actor_id = map.next_value()?,
            "actorName" => actor_name = map.next_value()?,
            "source" => source = map.next_value()?,
            "action" => action = map.next_value()?,
            "oldValue" => old_value = map.next_value()?,
            "newValue" => new_value = map.next_value()?,
            "comment" => comment = map.next_value()?,
            "summary" => summary = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let activity = Activity {
        actor_id,
        actor_name: required(actor_name, "actorName")?,
        source: required(source, "source")?,
        action: required(action, "action")?,
        old_value,
        new_value,
        comment,
    };
    Ok(ActivityView { at: required(at, "at")?, activity, summary: required(summary, "summary")? })
}

/// Who an alert is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssigneeView {
    /// The Herald user.
    pub id: Option<String>,
    pub name: String,
}

/// `PATCH /api/alerts/{id}`: change the status, the assignee, or both.
/// `assigneeId: ""` takes the assignment away.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AlertStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
}

/// `POST /api/alerts/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewComment {
    pub comment: String,
}

/// A comment or resolution note: 1 to 3,000 characters (a Slack section).
pub fn parse_comment(field: &str, input: &str) -> Result<String, FieldError> {
    let comment = input.trim();
    if comment.is_empty() {
        return Err(FieldError::new(field, "Write a comment: what was found or done."));
    }
    let count = comment.chars().count();
    if count > MAX_COMMENT_CHARS {
        return Err(FieldError::new(field, format!("The comment is {count} characters; the limit is {MAX_COMMENT_CHARS}.")));
    }
    Ok(crate::text::without_nul(comment))
}

pub const MAX_COMMENT_CHARS: usize = 3_000;

/// People an alert can be assigned to (`GET /api/assignees`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AssigneeList {
    pub users: Vec<AssigneeView>,
}

/// `GET /api/alerts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub id: String,
    #[serde(flatten)]
    pub content: AlertContent,
    pub status: AlertStatus,
    pub created_at: String,
    pub received_at: String,
    /// In the browser the app never parses the context, it only shows it:
    /// there it arrives as one `Value::String`, the JSON text the browser's
    /// `JSON.stringify` indented (a JSON value parser in the wasm cost
    /// 5 KiB brotli).
    pub alert_context: Option<Value>,
    pub assignee: Option<AssigneeView>,
    pub deliveries: Vec<DeliveryView>,
    /// Oldest first.
    pub activity: Vec<ActivityView>,
    /// Events folded into it, the first included; `alertContext` is the
    /// latest one's.
    pub event_count: u64,
    /// RFC 3339: the latest event.
    pub last_seen_at: String,
    /// The events before the latest, newest first (at most
    /// [`MAX_EARLIER_EVENTS`]).
    pub earlier_events: Vec<EarlierEvent>,
}

deserialize_with!(AlertView, "an alert", read_alert);

/// [`AlertView`] in one pass ([`crate::inline`]): its content is inline.
fn read_alert<'de, A: MapAccess<'de>>(map: A) -> Result<AlertView, A::Error> {
    let (mut id, mut status, mut created_at, mut received_at, mut deliveries, mut activity) = (None, None, None, None, None, None);
    let (mut title, mut severity, mut alert_type) = (None, None, None);
    let (mut detection_id, mut description, mut runbook, mut reference) = Default::default();
    let (mut log_types, mut tags) = (None, None);
    #[cfg_attr(target_arch = "wasm32", allow(unused_mut))]
    let mut links = Vec::new();
    let (mut assignee, mut event_count, mut last_seen_at, mut earlier_events) = (None, 1, String::new(), Vec::new());
    #[cfg_attr(target_arch = "wasm32", allow(unused_mut))]
    let mut alert_context = None;
    walk(map, |key, map| {
        match key {
            "id" => id = map.next_value()?,
            "title" => title = map.next_value()?,
            "severity" => severity = map.next_value()?,
            "type" => alert_type = map.next_value()?,
            "detectionId" => detection_id = map.next_value()?,
            "logTypes" => log_types = map.next_value()?,
            "description" => description = map.next_value()?,
            "runbook" => runbook = map.next_value()?,
            "reference" => reference = map.next_value()?,
            "tags" => tags = map.next_value()?,
            // The console does not show them; the Slack message does.
            #[cfg(not(target_arch = "wasm32"))]
            "links" => links = map.next_value()?,
            "status" => status = map.next_value()?,
            "createdAt" => created_at = map.next_value()?,
            "receivedAt" => received_at = map.next_value()?,
            // In the browser the page reads the context itself (see the field).
            #[cfg(not(target_arch = "wasm32"))]
            "alertContext" => alert_context = map.next_value()?,
            "assignee" => assignee = map.next_value()?,
            "deliveries" => deliveries = map.next_value()?,
            "activity" => activity = map.next_value()?,
            "eventCount" => event_count = map.next_value()?,
            "lastSeenAt" => last_seen_at = map.next_value()?,
            "earlierEvents" => earlier_events = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let content = AlertContent {
        title: required(title, "title")?,
        severity: required(severity, "severity")?,
        alert_type: required(alert_type, "type")?,
        detection_id,
        log_types: required(log_types, "logTypes")?,
        description,
        runbook,
        reference,
        tags: required(tags, "tags")?,
        links,
    };
    Ok(AlertView {
        id: required(id, "id")?,
        content,
        status: required(status, "status")?,
        created_at: required(created_at, "createdAt")?,
        received_at: required(received_at, "receivedAt")?,
        alert_context,
        assignee,
        deliveries: required(deliveries, "deliveries")?,
        activity: required(activity, "activity")?,
        event_count,
        last_seen_at,
        earlier_events,
    })
}

/// How many of the events before the latest an alert keeps.
pub const MAX_EARLIER_EVENTS: usize = 20;

/// One of the events folded into an alert before the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlierEvent {
    /// RFC 3339: when Herald received it.
    pub at: String,
    /// Its `alertContext`, compact JSON text as sent.
    pub context: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(body: Value) -> Result<NewAlert, Vec<FieldError>> {
        match parse_ingest(&body)? {
            IngestBody::One(alert) => Ok(*alert),
            IngestBody::Batch(_) => panic!("a batch"),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn an_alert_view_reads_back_what_it_writes_with_its_content_inline() {
        let IngestBody::One(new) = parse_ingest(&json!({"title": "Login", "severity": "HIGH", "tags": ["t"], "runbook": "r"})).unwrap()
        else {
            panic!("one alert")
        };
        let view = AlertView {
            id: "a1".into(),
            content: new.content,
            status: AlertStatus::Triaged,
            created_at: "2026-12-01T10:00:00Z".into(),
            received_at: "2026-12-01T10:00:01Z".into(),
            alert_context: Some(json!({"ip": "203.0.113.7"})),
            assignee: Some(AssigneeView { id: Some("u1".into()), name: "Ana".into() }),
            deliveries: Vec::new(),
            activity: vec![ActivityView {
                at: "2026-12-01T10:02:00Z".into(),
                activity: Activity {
                    actor_id: Some("u1".into()),
                    actor_name: "Ana".into(),
                    source: ActivitySource::Slack,
                    action: ActivityAction::Status,
                    old_value: Some("Open".into()),
                    new_value: Some("Triaged".into()),
                    comment: None,
                },
                summary: "Ana changed the status from Open to Triaged".into(),
            }],
            event_count: 3,
            last_seen_at: "2026-12-01T10:09:00Z".into(),
            earlier_events: vec![EarlierEvent { at: "2026-12-01T10:05:00Z".into(), context: None }],
        };
        let mut json = serde_json::to_value(&view).unwrap();
        assert_eq!((&json["title"], &json["type"], &json["runbook"]), (&json!("Login"), &json!("RULE"), &json!("r")), "inline");
        assert_eq!((&json["activity"][0]["actorName"], &json["activity"][0]["at"]), (&json!("Ana"), &json!("2026-12-01T10:02:00Z")));
        json["futureField"] = json!([1]);
        assert_eq!(serde_json::from_value::<AlertView>(json.clone()).unwrap(), view, "unknown keys are ignored");
        json.as_object_mut().unwrap().remove("severity");
        let error = serde_json::from_value::<AlertView>(json).unwrap_err();
        assert!(error.to_string().contains("missing field `severity`"), "{error}");
    }

    #[test]
    fn a_minimal_alert_defaults_its_type_and_is_matched_in_any_case() {
        let alert = one(json!({"title": "Login", "severity": "high", "type": "scheduled_rule"})).unwrap();
        assert_eq!(alert.content.severity, Severity::High);
        assert_eq!(alert.content.alert_type, AlertType::ScheduledRule);
        let alert = one(json!({"title": "Login", "severity": "LOW"})).unwrap();
        assert_eq!(alert.content.alert_type, AlertType::Rule);
        assert_eq!(alert.alert_id, None);
    }

    #[test]
    fn nul_characters_are_dropped_from_an_alerts_text_and_a_title_of_nothing_else_is_missing() {
        let alert = one(json!({"title": "Log\u{0}in", "severity": "HIGH", "tags": ["a\u{0}b"], "description": "x\u{0}"})).unwrap();
        assert_eq!((alert.content.title.as_str(), alert.content.tags.as_slice()), ("Login", &["ab".to_owned()][..]));
        assert_eq!(alert.content.description.as_deref(), Some("x"));
        let errors = one(json!({"title": "\u{0}", "severity": "HIGH"})).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["title"]);
    }

    #[test]
    fn every_bad_field_is_named_with_the_fix() {
        let errors = one(json!({"severity": "URGENT", "type": "ALARM", "logTypes": "AWS", "reference": "ftp://x"})).unwrap_err();
        assert_eq!(fields(errors.clone()), ["title", "severity", "type", "reference", "logTypes"]);
        assert!(errors[1].message.contains("INFO, LOW, MEDIUM, HIGH, CRITICAL"), "{errors:?}");
    }

    #[test]
    fn oversized_fields_say_the_limit() {
        let errors = one(json!({
            "title": "x".repeat(1_001),
            "severity": "LOW",
            "description": "y".repeat(10_001),
            "alertContext": {"blob": "z".repeat(70_000)},
        }))
        .unwrap_err();
        assert_eq!(fields(errors.clone()), ["title", "description", "alertContext"]);
        assert!(errors[0].message.contains("limit is 1000"), "{errors:?}");
        assert!(errors[2].message.contains("64 KiB"), "{errors:?}");
        assert!(one(json!({"title": "x".repeat(1_000), "severity": "LOW"})).is_ok());
    }

    #[test]
    fn a_batch_names_each_bad_item_by_index() {
        let errors = parse_ingest(&json!({"alerts": [
            {"title": "ok", "severity": "LOW"},
            {"title": "no severity"},
            "not an object",
        ]}))
        .unwrap_err();
        assert_eq!(fields(errors), ["alerts[1].severity", "alerts[2]"]);
        let too_many: Vec<Value> = (0..1_001).map(|_| json!({"title": "t", "severity": "LOW"})).collect();
        assert_eq!(fields(parse_ingest(&json!({"alerts": too_many})).unwrap_err()), ["alerts"]);
    }

    #[test]
    fn system_errors_are_always_critical_and_info_alerts_start_resolved() {
        let alert = one(json!({"title": "x", "severity": "LOW", "type": "SYSTEM_ERROR"})).unwrap();
        assert_eq!(alert.content.severity, Severity::Critical);
        assert_eq!(AlertStatus::initial(Severity::Info), AlertStatus::Resolved);
        assert_eq!(AlertStatus::initial(Severity::Low), AlertStatus::Open);
        assert_eq!(AlertStatus::Closed.label(), "Invalid");
    }

    #[test]
    fn routing_table() {
        use AlertKind::*;
        use AlertType::*;
        use Severity::*;
        let all_sev = Severity::ALL.to_vec();
        let cloudtrail = vec!["AWS.CloudTrail".to_owned()];
        let none: Vec<String> = Vec::new();
        // (severities, kinds, log types of the destination) (severity, type, log types of the alert) → routed
        type Case<'a> = (Vec<Severity>, Vec<AlertKind>, &'a Vec<String>, Severity, AlertType, Vec<&'a str>, bool);
        let table: Vec<Case> = vec![
            (all_sev.clone(), vec![Alerts], &none, High, Rule, vec![], true),
            (vec![Critical], vec![Alerts], &none, High, Rule, vec![], false),
            (all_sev.clone(), vec![DetectionErrors], &none, High, Rule, vec![], false),
            (all_sev.clone(), vec![DetectionErrors], &none, Low, ScheduledRuleError, vec![], true),
            (all_sev.clone(), vec![Alerts], &none, Low, Policy, vec![], true),
            (all_sev.clone(), vec![Alerts], &cloudtrail, Low, Rule, vec!["AWS.CloudTrail"], true),
            (all_sev.clone(), vec![Alerts], &cloudtrail, Low, Rule, vec!["aws.cloudtrail"], true),
            (all_sev.clone(), vec![Alerts], &cloudtrail, Low, Rule, vec!["Okta.SystemLog"], false),
            (all_sev.clone(), vec![Alerts], &cloudtrail, Low, Rule, vec![], false),
            (all_sev.clone(), vec![Alerts], &cloudtrail, Low, Rule, vec!["Okta.SystemLog", "AWS.CloudTrail"], true),
            (all_sev.clone(), vec![Alerts], &none, Critical, SystemError, vec![], false),
            (vec![Critical], vec![SystemErrors], &cloudtrail, Critical, SystemError, vec![], true),
            (vec![High], vec![SystemErrors], &none, Critical, SystemError, vec![], false),
            (vec![], vec![Alerts], &none, Info, Rule, vec![], false),
        ];
        for (i, (severities, kinds, dest_logs, severity, alert_type, logs, expected)) in table.into_iter().enumerate() {
            let logs: Vec<String> = logs.into_iter().map(str::to_owned).collect();
            let filters = Filters { severities: &severities, alert_kinds: &kinds, log_types: dest_logs };
            assert_eq!(matches(filters, severity, alert_type, &logs), expected, "row {i}");
        }
    }
}
