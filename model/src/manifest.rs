//! The Slack app manifest Herald asks operators to create their app from:
//! typed structs, serialised (YAML or JSON), never assembled from strings,
//! so any app name comes out as valid, equivalent YAML.

use serde::{Deserialize, Serialize};

/// Bot scopes an alert bot needs (see the Slack platform notes).
pub const BOT_SCOPES: &[&str] =
    &["chat:write", "chat:write.public", "im:write", "channels:read", "groups:read", "users:read", "users:read.email"];

/// Asked for only when destinations mention user groups by their handle
/// (`@sec-oncall`): Herald looks the handle up with `usergroups.list`.
pub const USER_GROUPS_SCOPE: &str = "usergroups:read";

/// Events Herald listens to.
pub const BOT_EVENTS: &[&str] = &["member_joined_channel", "app_uninstalled", "tokens_revoked"];

pub const DEFAULT_APP_NAME: &str = "Herald";
/// Slack's limit on `display_information.name`.
pub const APP_NAME_MAX_CHARS: usize = 35;
const BOT_NAME_MAX_CHARS: usize = 80;
const DESCRIPTION: &str = "Security alerts from Herald, triaged from Slack: assign, set status, resolve, ask a colleague.";
const BACKGROUND_COLOR: &str = "#4a2bc2";

/// The paths under Herald's public URL that Slack calls.
pub const OAUTH_CALLBACK_PATH: &str = "slack/oauth/callback";
pub const INTERACTIVITY_PATH: &str = "slack/interactivity";
pub const EVENTS_PATH: &str = "slack/events";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub display_information: DisplayInformation,
    pub features: Features,
    pub oauth_config: OAuthConfig,
    pub settings: Settings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayInformation {
    pub name: String,
    pub description: String,
    pub background_color: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    pub bot_user: BotUser,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotUser {
    pub display_name: String,
    pub always_online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthConfig {
    pub redirect_urls: Vec<String>,
    pub scopes: Scopes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes {
    pub bot: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub event_subscriptions: EventSubscriptions,
    pub interactivity: Interactivity,
    pub org_deploy_enabled: bool,
    pub socket_mode_enabled: bool,
    pub token_rotation_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSubscriptions {
    /// Left out in Socket Mode: events come over Herald's own connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_url: Option<String>,
    pub bot_events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactivity {
    pub is_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_url: Option<String>,
}

/// What a manifest depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestOptions {
    /// Herald's public base URL, e.g. `https://herald.example.com/`.
    pub public_url: String,
    /// The app's name in Slack (cut to 35 characters).
    pub app_name: String,
    /// Enterprise Grid: the app can be installed org-wide.
    pub enterprise_grid: bool,
    /// Herald opens the connection to Slack (Socket Mode): no Request URLs.
    #[serde(default)]
    pub socket_mode: bool,
    /// Destinations mention user groups by handle: adds [`USER_GROUPS_SCOPE`].
    #[serde(default)]
    pub user_groups: bool,
}

impl ManifestOptions {
    pub fn new(public_url: impl Into<String>) -> Self {
        ManifestOptions {
            public_url: public_url.into(),
            app_name: DEFAULT_APP_NAME.to_owned(),
            enterprise_grid: false,
            socket_mode: false,
            user_groups: false,
        }
    }
}

/// `path` under the public base URL, whether or not the base ends in `/`.
pub fn public_endpoint(public_url: &str, path: &str) -> String {
    format!("{}/{path}", public_url.trim_end_matches('/'))
}

/// The app name as Slack takes it: trimmed, line breaks as spaces, at most
/// 35 characters, never empty.
pub fn app_name(input: &str) -> String {
    let one_line: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let name: String = one_line.chars().take(APP_NAME_MAX_CHARS).collect();
    let name = name.trim().to_owned();
    if name.is_empty() { DEFAULT_APP_NAME.to_owned() } else { name }
}

/// What [`app_name`] changed in `input`, in words for the person who typed
/// it; `None` when it is used as given.
pub fn app_name_note(input: &str) -> Option<String> {
    let name = app_name(input);
    if name == input {
        return None;
    }
    let one_line: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(if one_line.is_empty() {
        format!("The app name was empty, so the manifest names the app \"{DEFAULT_APP_NAME}\".")
    } else if one_line.chars().count() > APP_NAME_MAX_CHARS {
        format!("Slack allows app names of at most {APP_NAME_MAX_CHARS} characters: the manifest names the app \"{name}\".")
    } else {
        format!("Line breaks and runs of spaces in the app name became single spaces: the manifest names the app \"{name}\".")
    })
}

/// The bot's handle, from the app name: what people type after `/invite @`.
/// Only `a-z 0-9 - _ .` (the stricter of Slack's two schemas), at most 80
/// characters, never empty.
pub fn bot_display_name(app_name: &str) -> String {
    let mut handle = String::new();
    for c in app_name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            handle.push(c);
        } else if !handle.ends_with('-') {
            handle.push('-');
        }
    }
    let handle: String = handle.trim_matches(|c| matches!(c, '-' | '.' | '_')).chars().take(BOT_NAME_MAX_CHARS).collect();
    if handle.is_empty() { "herald".to_owned() } else { handle }
}

impl Manifest {
    pub fn new(options: &ManifestOptions) -> Manifest {
        let name = app_name(&options.app_name);
        let url = |path| public_endpoint(&options.public_url, path);
        // Slack calls these only over https; in Socket Mode it calls nothing.
        let request_url = |path| (!options.socket_mode).then(|| url(path));
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        let mut scopes = strings(BOT_SCOPES);
        if options.user_groups {
            scopes.push(USER_GROUPS_SCOPE.to_owned());
        }
        Manifest {
            display_information: DisplayInformation {
                name: name.clone(),
                description: DESCRIPTION.to_owned(),
                background_color: BACKGROUND_COLOR.to_owned(),
            },
            features: Features { bot_user: BotUser { display_name: bot_display_name(&name), always_online: true } },
            oauth_config: OAuthConfig { redirect_urls: vec![url(OAUTH_CALLBACK_PATH)], scopes: Scopes { bot: scopes } },
            settings: Settings {
                event_subscriptions: EventSubscriptions { request_url: request_url(EVENTS_PATH), bot_events: strings(BOT_EVENTS) },
                interactivity: Interactivity { is_enabled: true, request_url: request_url(INTERACTIVITY_PATH) },
                org_deploy_enabled: options.enterprise_grid,
                socket_mode_enabled: options.socket_mode,
                token_rotation_enabled: false,
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest serialises")
    }

    /// YAML that means the same to YAML 1.1 readers (PyYAML, older Ruby
    /// and Go libraries) as to YAML 1.2 ones: every string is
    /// double-quoted, so a name like `yes`, `2026-11-29`, `0x1F` or `=`
    /// stays a string.
    pub fn to_yaml(&self) -> String {
        let value = serde_json::to_value(self).expect("a manifest serialises");
        let mut out = String::new();
        yaml_mapping(&value, 0, &mut out);
        out
    }
}

fn yaml_mapping(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let Value::Object(map) = value else { return };
    for (key, item) in map {
        // Keys are Herald's own (`display_information`, …): plain is safe.
        out.push_str(&" ".repeat(indent));
        out.push_str(key);
        out.push(':');
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                yaml_mapping(item, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() && items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                out.push('\n');
                for item in items {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str("- ");
                    yaml_scalar(item, out);
                    out.push('\n');
                }
            }
            _ => {
                out.push(' ');
                yaml_scalar(item, out);
                out.push('\n');
            }
        }
    }
}

/// A scalar, strings double-quoted with escapes both YAML versions read;
/// anything else (empty or nested collections) as JSON, which is YAML.
fn yaml_scalar(value: &serde_json::Value, out: &mut String) {
    let serde_json::Value::String(text) = value else {
        out.push_str(&value.to_string());
        return;
    };
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            // Controls, C1 (NEL included), line and paragraph separators
            // and the BOM: YAML 1.1 readers refuse or fold them raw.
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The manifest in the form the wizard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ManifestFormat {
    #[default]
    Yaml,
    Json,
}

/// `GET /api/slack/manifest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestText {
    pub format: ManifestFormat,
    /// Ready to paste into Slack.
    pub text: String,
    /// What to type after `/invite @`.
    pub bot_display_name: String,
    /// Herald's public URL, which the wizard asks about.
    #[serde(default)]
    pub public_url: String,
    /// Slack accepts only https request URLs: a warning when Herald's
    /// public URL is not https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_to_slack_s_limit_on_one_line() {
        assert_eq!(app_name("  Acme\nAlerts  "), "Acme Alerts");
        assert_eq!(app_name(&"x".repeat(50)).chars().count(), 35);
        assert_eq!(app_name("🚨".repeat(40).as_str()).chars().count(), 35);
        assert_eq!(app_name(" \n "), "Herald");
    }

    #[test]
    fn bot_handles_keep_only_what_both_schemas_allow() {
        assert_eq!(bot_display_name("Herald"), "herald");
        assert_eq!(bot_display_name("Acme: \"prod\" alerts"), "acme-prod-alerts");
        assert_eq!(bot_display_name("🚨🚨"), "herald");
        assert_eq!(bot_display_name("sec.alerts_bot"), "sec.alerts_bot");
    }

    #[test]
    fn endpoints_join_with_or_without_a_trailing_slash() {
        assert_eq!(public_endpoint("https://h.example/", EVENTS_PATH), "https://h.example/slack/events");
        assert_eq!(public_endpoint("https://h.example", EVENTS_PATH), "https://h.example/slack/events");
    }
}
