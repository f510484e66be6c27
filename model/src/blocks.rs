//! Slack messages as typed Block Kit, and the alert message built from them.
//! Text is escaped and cut to Slack's limits here, so no message Herald
//! builds is ever refused for its size or shape.

use serde::Serialize;

use crate::alert::{AlertContent, AlertStatus};
use crate::destination::Severity;

pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION_TEXT: usize = 3_000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_FIELD_TEXT: usize = 2_000;
pub const MAX_HEADER_TEXT: usize = 150;
pub const MAX_BUTTON_TEXT: usize = 75;
pub const MAX_BUTTON_VALUE: usize = 2_000;
pub const MAX_BUTTON_URL: usize = 3_000;
pub const MAX_ID: usize = 255;
pub const MAX_ACTIONS: usize = 25;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_OPTION_TEXT: usize = 75;
pub const MAX_OPTION_VALUE: usize = 150;
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
/// The notification text Slack shows; it takes far more, but a fallback is
/// read in a glance.
pub const MAX_FALLBACK_TEXT: usize = 3_000;

/// A message: the plain fallback `text` and its blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Header {
        text: Text,
    },
    Section {
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Text>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        fields: Vec<Text>,
    },
    Context {
        elements: Vec<Text>,
    },
    Actions {
        block_id: String,
        elements: Vec<Element>,
    },
    Divider,
}

/// A text object. Build it with [`Text::plain`] or [`Text::mrkdwn`], which
/// escape and cut to the limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Text {
    PlainText {
        text: String,
        emoji: bool,
    },
    /// Always `verbatim`: Slack then turns no bare URL, `#channel` or
    /// `@here` into a link or a mention; Herald's own `<@U…>`, `<url|…>`
    /// and `<!date…>` still work.
    Mrkdwn {
        text: String,
        verbatim: bool,
    },
}

impl Text {
    /// Plain text is shown as is (no entities), cut to `limit` characters.
    pub fn plain(text: &str, limit: usize) -> Text {
        Text::PlainText { text: cut(text, limit), emoji: true }
    }

    /// Text people or programs wrote, escaped for mrkdwn, then cut.
    pub fn mrkdwn_escaped(text: &str, limit: usize) -> Text {
        Text::Mrkdwn { text: cut_escaped(&escape(text), limit), verbatim: true }
    }

    /// Herald's own mrkdwn (already escaped where needed), cut.
    pub fn mrkdwn(text: String, limit: usize) -> Text {
        Text::Mrkdwn { text: cut_escaped(&text, limit), verbatim: true }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Text::PlainText { text, .. } | Text::Mrkdwn { text, .. } => text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    Button {
        text: Text,
        action_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        style: Option<&'static str>,
    },
    StaticSelect {
        action_id: String,
        placeholder: Text,
        options: Vec<SelectOption>,
    },
    UsersSelect {
        action_id: String,
        placeholder: Text,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectOption {
    pub text: Text,
    pub value: String,
}

/// mrkdwn escaping: only `&`, `<` and `>`, so `<!channel>` and `<url|label>`
/// in an alert's text stay text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `limit` characters, ending with `…` when cut.
pub fn cut(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_owned(),
        Some(_) => {
            let keep: String = text.chars().take(limit.saturating_sub(1)).collect();
            keep + "…"
        }
    }
}

/// [`cut`] for escaped text: never ends inside an entity such as `&amp;`.
pub fn cut_escaped(text: &str, limit: usize) -> String {
    if text.char_indices().nth(limit).is_none() {
        return text.to_owned();
    }
    let mut keep: String = text.chars().take(limit.saturating_sub(1)).collect();
    if let Some(amp) = keep.rfind('&')
        && !keep[amp..].contains(';')
    {
        keep.truncate(amp);
    }
    keep + "…"
}

/// `https://docs.acme.example:8443/x` → `docs.acme.example:8443`.
fn link_host(reference: &str) -> Option<String> {
    let url = url::Url::parse(reference).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(())?;
    url.host_str().filter(|h| !h.is_empty()).map(str::to_owned)
}

/// Action IDs the triage controls carry; the interactivity handler matches
/// on them.
pub mod actions {
    pub const ASSIGN: &str = "alert.assign";
    pub const STATUS: &str = "alert.status";
    pub const RESOLVE: &str = "alert.resolve";
    pub const DETAILS: &str = "alert.details";
    pub const BOOMERANG: &str = "alert.boomerang";
    pub const VIEW: &str = "alert.view";
    /// A link of the alert (`alert.link.0`, …): Slack opens it, Herald
    /// only acknowledges the click.
    pub const LINK: &str = "alert.link";
}

pub fn severity_emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "⚪",
        Severity::Low => "🔵",
        Severity::Medium => "🟡",
        Severity::High => "🟠",
        Severity::Critical => "🔴",
    }
}

/// Who an alert is assigned to: a Herald user, and their Slack user ID
/// when Herald knows it (a mention then notifies them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignee<'a> {
    pub name: &'a str,
    pub slack_id: Option<&'a str>,
}

impl Assignee<'_> {
    /// `<@U0ANA00001>`, or the name, escaped.
    pub fn mention(&self) -> String {
        match self.slack_id {
            Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => format!("<@{id}>"),
            _ => escape(self.name),
        }
    }
}

/// What the alert message shows. Times come ready: the server knows the
/// destination's timezone.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertMessage<'a> {
    pub id: &'a str,
    pub content: &'a AlertContent,
    pub status: AlertStatus,
    /// Who the alert is assigned to.
    pub assignee: Option<Assignee<'a>>,
    /// Unix seconds of the alert's creation.
    pub created_unix: i64,
    /// The same time in the destination's timezone, e.g.
    /// `2026-11-29 09:00 CET`, for clients that cannot render Slack's date.
    pub created_local: &'a str,
    /// `<public URL>/alerts/<id>`.
    pub herald_url: &'a str,
    /// Events folded into the alert, when more than one.
    pub events: Option<Events<'a>>,
    /// Who the destination notifies for this severity, as Slack writes it
    /// (`<!here> <!subteam^S…>`, from [`crate::mention::Mentions::slack_text`]);
    /// empty: nobody.
    pub mentions: &'a str,
}

/// How many events an alert stands for, and when the latest came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Events<'a> {
    pub count: u64,
    /// Unix seconds of the latest.
    pub last_unix: i64,
    /// Its time of day in the destination's timezone, e.g. `10:42 CET`.
    pub last_local: &'a str,
}

impl AlertMessage<'_> {
    pub fn build(&self) -> Message {
        let alert = self.content;
        // Ingest allows 200 characters; the cut only guards the limits.
        let id = cut(self.id, MAX_ID - "alert:".len());
        let emoji = severity_emoji(alert.severity);
        let mut blocks = Vec::with_capacity(8);
        blocks.push(Block::Header { text: Text::plain(&format!("{emoji} {}", alert.title), MAX_HEADER_TEXT) });
        if !self.mentions.is_empty() {
            // Built from parsed mentions only: never from the alert's text.
            blocks.push(Block::Section { text: Some(Text::mrkdwn(self.mentions.to_owned(), MAX_SECTION_TEXT)), fields: Vec::new() });
        }

        let log_types = if alert.log_types.is_empty() { "—".to_owned() } else { escape(&alert.log_types.join(", ")) };
        let field = |label: &str, value: String| Text::mrkdwn(format!("*{label}*\n{value}"), MAX_FIELD_TEXT);
        let when = format!("<!date^{}^{{date_short_pretty}} {{time}}|{}>", self.created_unix, escape(self.created_local));
        blocks.push(Block::Section {
            text: None,
            fields: vec![
                field("Severity", format!("{emoji} {}", alert.severity.label())),
                field("Status", self.status.label().to_owned()),
                field("Detection", alert.detection_id.as_deref().map_or_else(|| "—".to_owned(), |d| format!("`{}`", escape(d)))),
                field("Alert type", alert.alert_type.label().to_owned()),
                field("Log types", log_types),
                field("Time", when),
                field("Assignee", self.assignee.map_or_else(|| "Nobody yet".to_owned(), |a| a.mention())),
            ],
        });
        if let Some(events) = self.events.filter(|e| e.count > 1) {
            let text = format!("×{} · last at <!date^{}^{{time}}|{}>", events.count, events.last_unix, escape(events.last_local));
            blocks.push(Block::Context { elements: vec![Text::mrkdwn(text, MAX_SECTION_TEXT)] });
        }
        if let Some(description) = alert.description.as_deref() {
            blocks.push(Block::Section { text: Some(Text::mrkdwn_escaped(description, MAX_SECTION_TEXT)), fields: Vec::new() });
        }
        if let Some(runbook) = alert.runbook.as_deref() {
            let text = format!("*Runbook*\n{}", escape(runbook));
            blocks.push(Block::Section { text: Some(Text::mrkdwn(text, MAX_SECTION_TEXT)), fields: Vec::new() });
        }
        if let Some(reference) = alert.reference.as_deref() {
            // Labelled with its host, so the text cannot pretend to be
            // another site; plain text when it would not fit whole.
            let text = match link_host(reference) {
                Some(host) if !reference.contains(['<', '>', '|']) && !reference.chars().any(char::is_whitespace) => {
                    format!("Reference: <{}|{}>", escape(reference), escape(&cut(&host, 80)))
                }
                _ => format!("Reference: {}", escape(reference)),
            };
            let text = if text.chars().count() <= MAX_SECTION_TEXT { text } else { format!("Reference: {}", escape(reference)) };
            blocks.push(Block::Context { elements: vec![Text::mrkdwn(text, MAX_SECTION_TEXT)] });
        }

        // The alert's own links, in a row of their own above the controls.
        let links: Vec<Element> = alert
            .links
            .iter()
            .enumerate()
            .filter(|(_, link)| link.url.len() <= MAX_BUTTON_URL)
            .map(|(i, link)| Element::Button {
                text: Text::plain(&link.label, MAX_BUTTON_TEXT),
                action_id: format!("{}.{i}", actions::LINK),
                value: Some(id.clone()),
                url: Some(link.url.clone()),
                style: None,
            })
            .collect();
        if !links.is_empty() {
            blocks.push(Block::Actions { block_id: format!("links:{id}"), elements: links });
        }

        let button = |label: &str, action: &str, style: Option<&'static str>| Element::Button {
            text: Text::plain(label, MAX_BUTTON_TEXT),
            action_id: action.to_owned(),
            value: Some(id.clone()),
            url: None,
            style,
        };
        let statuses = AlertStatus::ALL
            .into_iter()
            .map(|s| SelectOption { text: Text::plain(s.label(), MAX_OPTION_TEXT), value: s.as_str().to_owned() })
            .collect();
        blocks.push(Block::Actions {
            block_id: format!("alert:{id}"),
            elements: vec![
                Element::UsersSelect { action_id: actions::ASSIGN.into(), placeholder: Text::plain("Set Assignee", MAX_BUTTON_TEXT) },
                Element::StaticSelect {
                    action_id: actions::STATUS.into(),
                    placeholder: Text::plain("Update Status", MAX_BUTTON_TEXT),
                    options: statuses,
                },
                button("Resolve", actions::RESOLVE, Some("primary")),
                button("Show Details", actions::DETAILS, None),
                button("Boomerang", actions::BOOMERANG, None),
                Element::Button {
                    text: Text::plain("View in Herald", MAX_BUTTON_TEXT),
                    action_id: actions::VIEW.into(),
                    value: Some(id.clone()),
                    url: (self.herald_url.len() <= MAX_BUTTON_URL).then(|| self.herald_url.to_owned()),
                    style: None,
                },
            ],
        });

        let mut text = if self.mentions.is_empty() { String::new() } else { format!("{} ", self.mentions) };
        text.push_str(&format!("{emoji} [{}] {}", alert.severity.as_str(), escape(&alert.title)));
        if let Some(detection) = alert.detection_id.as_deref() {
            text.push_str(&format!(" ({})", escape(detection)));
        }
        if let Some(events) = self.events.filter(|e| e.count > 1) {
            text.push_str(&format!(" ×{}", events.count));
        }
        Message { text: cut_escaped(&text, MAX_FALLBACK_TEXT), blocks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_touches_only_the_three_characters() {
        assert_eq!(escape("<!channel> & <https://x|y> *bold*"), "&lt;!channel&gt; &amp; &lt;https://x|y&gt; *bold*");
    }

    #[test]
    fn cutting_ends_with_a_marker_and_never_inside_an_entity() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
        assert_eq!(cut("ééééé", 3), "éé…");
        let escaped = escape("ab<<<<");
        // "ab&lt;&lt;…": cutting at 6 would keep "ab&lt" + "…".
        assert_eq!(cut_escaped(&escaped, 7), "ab&lt;…");
        assert_eq!(cut_escaped(&escaped, 6), "ab…");
    }
}
