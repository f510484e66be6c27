//! Who a destination's messages notify, per severity: `@here`, `@channel`,
//! user groups and users. Mentions come only from these settings, never
//! from an alert's text (which stays escaped), and every one is parsed
//! into a [`Mention`] before it is stored, so a message cannot carry
//! anything but the four shapes Slack knows.

use serde::{Deserialize, Serialize};

use crate::api::FieldError;
use crate::destination::Severity;

/// One mention, as a destination's settings hold it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mention {
    /// `@here`: the channel's members who are active.
    Here,
    /// `@channel`: every member of the channel.
    Channel,
    /// A user group (`S…`), with its handle when Herald knows it.
    Group { id: String, handle: Option<String> },
    /// A user (`U…` or `W…`).
    User(String),
    /// `@sec-oncall` as typed: a user group's handle that Herald looks up
    /// with Slack's `usergroups.list` when the settings are saved.
    Handle(String),
}

/// The mentions one severity may have.
pub const MAX_MENTIONS: usize = 10;

const HINT: &str = "Use @here, @channel, a user group (@sec-oncall, or its ID like S0123ABCD) or a user ID like U0123ABCD, \
                    separated by commas.";

impl Mention {
    /// `@here`, `<!channel>`, `@sec-oncall`, `<!subteam^S0123ABCD>`,
    /// `S0123ABCD`, `<@U0123ABCD>`, `U0123ABCD`.
    pub fn parse(field: &str, input: &str) -> Result<Mention, FieldError> {
        let text = input.trim();
        let error = |message: String| Err(FieldError::new(field, message));
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "@here" | "<!here>" | "!here" => return Ok(Mention::Here),
            "@channel" | "<!channel>" | "!channel" => return Ok(Mention::Channel),
            "@everyone" | "<!everyone>" => {
                return error("Herald does not mention @everyone (the whole workspace): use @channel or @here.".to_owned());
            }
            _ => {}
        }
        if let Some(inner) = text.strip_prefix("<!subteam^").and_then(|rest| rest.strip_suffix('>')) {
            let (id, label) = match inner.split_once('|') {
                Some((id, label)) => (id, Some(label.trim_start_matches('@'))),
                None => (inner, None),
            };
            if !is_slack_id(id, &['S']) {
                return error(format!("{text} is not a user group: its ID starts with S, like <!subteam^S0123ABCD>."));
            }
            let handle = label.filter(|h| is_handle(h)).map(str::to_owned);
            return Ok(Mention::Group { id: id.to_owned(), handle });
        }
        if let Some(inner) = text.strip_prefix("<@").and_then(|rest| rest.strip_suffix('>')) {
            let id = inner.split_once('|').map_or(inner, |(id, _)| id);
            if !is_slack_id(id, &['U', 'W']) {
                return error(format!("{text} is not a user: a user ID starts with U or W, like <@U0123ABCD>."));
            }
            return Ok(Mention::User(id.to_owned()));
        }
        if is_slack_id(text, &['S']) {
            return Ok(Mention::Group { id: text.to_owned(), handle: None });
        }
        if is_slack_id(text, &['U', 'W']) {
            return Ok(Mention::User(text.to_owned()));
        }
        if let Some(handle) = text.strip_prefix('@').map(str::to_ascii_lowercase)
            && is_handle(&handle)
        {
            return Ok(Mention::Handle(handle));
        }
        if text.is_empty() {
            return error(format!("An empty mention. {HINT}"));
        }
        let shown: String = text.chars().take(40).collect();
        error(format!("{shown:?} is not a mention. {HINT}"))
    }

    /// How it goes into a message's text: `<!here>`, `<!subteam^S…>`,
    /// `<@U…>`. `None` for a handle not looked up (it notifies nobody).
    pub fn slack(&self) -> Option<String> {
        match self {
            Mention::Here => Some("<!here>".to_owned()),
            Mention::Channel => Some("<!channel>".to_owned()),
            Mention::Group { id, .. } => Some(format!("<!subteam^{id}>")),
            Mention::User(id) => Some(format!("<@{id}>")),
            Mention::Handle(_) => None,
        }
    }

    /// As the form shows it and the API carries it; [`Mention::parse`]
    /// reads it back.
    pub fn text(&self) -> String {
        match self {
            Mention::Here => "@here".to_owned(),
            Mention::Channel => "@channel".to_owned(),
            Mention::Group { id, handle: Some(handle) } => format!("<!subteam^{id}|@{handle}>"),
            Mention::Group { id, handle: None } => format!("<!subteam^{id}>"),
            Mention::User(id) => format!("<@{id}>"),
            Mention::Handle(handle) => format!("@{handle}"),
        }
    }

    /// A user group as Slack names it (`usergroups.list`), if its ID and
    /// handle have the shapes Slack gives them.
    pub fn group(id: &str, handle: &str) -> Option<Mention> {
        let handle = handle.to_ascii_lowercase();
        (is_slack_id(id, &['S']) && is_handle(&handle)).then(|| Mention::Group { id: id.to_owned(), handle: Some(handle) })
    }

    /// A user group's handle, typed or looked up.
    pub fn handle(&self) -> Option<&str> {
        match self {
            Mention::Handle(handle) | Mention::Group { handle: Some(handle), .. } => Some(handle),
            _ => None,
        }
    }
}

/// Slack IDs: a letter from `first`, then upper-case letters and digits.
fn is_slack_id(s: &str, first: &[char]) -> bool {
    (9..=24).contains(&s.len()) && s.starts_with(first) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A user group's handle: `a-z 0-9 - _ .`, as Slack makes them.
fn is_handle(s: &str) -> bool {
    (1..=80).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

impl Serialize for Mention {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Mention {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Mention::parse("mentions", &text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A destination's mentions, per severity (`{"CRITICAL": ["@channel"]}`
/// in JSON). Held as one list per severity, not in a map: the browser's
/// download is smaller without a map type of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions([Vec<Mention>; 5]);

impl Mentions {
    /// Each severity's list.
    pub fn from_lists(lists: impl IntoIterator<Item = (Severity, Vec<Mention>)>) -> Mentions {
        let mut mentions = Mentions::default();
        for (severity, list) in lists {
            mentions.set(severity, list);
        }
        mentions
    }

    pub fn of(&self, severity: Severity) -> &[Mention] {
        &self.0[severity as usize]
    }

    pub fn set(&mut self, severity: Severity, list: Vec<Mention>) {
        self.0[severity as usize] = list;
    }

    /// The severities that mention anyone, least severe first.
    pub fn lists(&self) -> impl Iterator<Item = (Severity, &[Mention])> {
        Severity::ALL.into_iter().map(|s| (s, self.of(s))).filter(|(_, list)| !list.is_empty())
    }

    /// What a message for an alert of `severity` starts with: `<!here>
    /// <!subteam^S…>`, or nothing.
    pub fn slack_text(&self, severity: Severity) -> String {
        self.of(severity).iter().filter_map(Mention::slack).collect::<Vec<_>>().join(" ")
    }

    /// Every mention, in order, for the handles to look up.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Severity, &mut Mention)> {
        Severity::ALL.into_iter().zip(self.0.iter_mut()).flat_map(|(severity, list)| list.iter_mut().map(move |m| (severity, m)))
    }

    /// The settings tidied: no repeats (a group typed by handle and by ID
    /// is one); `Err` names a severity with too many (`mentions.CRITICAL`).
    pub fn validate(&self) -> Result<Mentions, FieldError> {
        let mut tidy = Mentions::default();
        for (severity, list) in self.lists() {
            let mut kept: Vec<Mention> = Vec::with_capacity(list.len());
            for mention in list {
                let same = |k: &Mention| k == mention || (k.slack().is_some() && k.slack() == mention.slack());
                match kept.iter_mut().find(|k| same(k)) {
                    // The one with a handle stays, for the form to show.
                    Some(k) if k.handle().is_none() => *k = mention.clone(),
                    Some(_) => {}
                    None => kept.push(mention.clone()),
                }
            }
            if kept.len() > MAX_MENTIONS {
                return Err(FieldError::new(
                    field(severity),
                    format!("At most {MAX_MENTIONS} mentions per severity: mention a user group instead of many people."),
                ));
            }
            tidy.set(severity, kept);
        }
        Ok(tidy)
    }

    /// Handles typed for groups `before` knows become those groups, so a
    /// form that shows a group by its handle keeps its ID (and needs no
    /// lookup) when saved again.
    pub fn reuse_groups(&mut self, before: &Mentions) {
        let known =
            |handle: &str| before.0.iter().flatten().find(|m| matches!(m, Mention::Group { .. }) && m.handle() == Some(handle)).cloned();
        for (_, mention) in self.iter_mut() {
            if let Mention::Handle(handle) = mention
                && let Some(group) = known(handle)
            {
                *mention = group;
            }
        }
    }

    /// The first handle not looked up yet, with its severity's field.
    pub fn unresolved(&self) -> Option<FieldError> {
        self.lists().find_map(|(severity, list)| {
            list.iter().find_map(|m| match m {
                Mention::Handle(handle) => Some(FieldError::new(
                    field(severity),
                    format!("@{handle} has not been looked up in Slack yet: save the destination's settings, or enter the group's ID."),
                )),
                _ => None,
            })
        })
    }

    /// Whether any names a user group by its handle.
    pub fn names_groups(&self) -> bool {
        self.0.iter().flatten().any(|m| m.handle().is_some())
    }
}

impl Serialize for Mentions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        for (severity, list) in self.lists() {
            map.serialize_entry(severity.as_str(), list)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Mentions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Mentions;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("mentions by severity")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Mentions, A::Error> {
                let mut mentions = Mentions::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let severity = Severity::parse(&key).ok_or_else(|| {
                        serde::de::Error::custom(format!("{key:?} is not a severity: INFO, LOW, MEDIUM, HIGH or CRITICAL"))
                    })?;
                    mentions.set(severity, map.next_value()?);
                }
                Ok(mentions)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The field a severity's mentions are in: `mentions.CRITICAL`.
pub fn field(severity: Severity) -> String {
    format!("mentions.{}", severity.as_str())
}

/// A list as typed in the form: mentions separated by commas or spaces.
pub fn parse_list(severity: Severity, input: &str) -> Result<Vec<Mention>, FieldError> {
    let field = field(severity);
    input.split([',', ' ', '\n', '\t']).filter(|part| !part.trim().is_empty()).map(|part| Mention::parse(&field, part)).collect()
}

/// A list as the form shows it: `@here, @sec-oncall`.
pub fn list_text(list: &[Mention]) -> String {
    list.iter()
        .map(|m| match m.handle() {
            Some(handle) => format!("@{handle}"),
            None => m.text(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_slack_knows_is_read_and_written_back() {
        let cases = [
            ("@here", Mention::Here, "<!here>"),
            ("<!channel>", Mention::Channel, "<!channel>"),
            ("@Channel", Mention::Channel, "<!channel>"),
            ("<!subteam^S0123ABCD>", Mention::Group { id: "S0123ABCD".into(), handle: None }, "<!subteam^S0123ABCD>"),
            (
                "<!subteam^S0123ABCD|@sec-oncall>",
                Mention::Group { id: "S0123ABCD".into(), handle: Some("sec-oncall".into()) },
                "<!subteam^S0123ABCD>",
            ),
            ("S0123ABCD", Mention::Group { id: "S0123ABCD".into(), handle: None }, "<!subteam^S0123ABCD>"),
            ("<@U0123ABCD>", Mention::User("U0123ABCD".into()), "<@U0123ABCD>"),
            (" W0123ABCD ", Mention::User("W0123ABCD".into()), "<@W0123ABCD>"),
        ];
        for (input, mention, slack) in cases {
            assert_eq!(Mention::parse("m", input).unwrap(), mention, "{input}");
            assert_eq!(mention.slack().unwrap(), slack);
            assert_eq!(Mention::parse("m", &mention.text()).unwrap(), mention, "round trip of {input}");
        }
        assert_eq!(Mention::parse("m", "@Sec-OnCall").unwrap(), Mention::Handle("sec-oncall".into()));
        assert_eq!(Mention::Handle("sec-oncall".into()).slack(), None, "not looked up: notifies nobody");
    }

    #[test]
    fn anything_else_is_refused_with_the_shapes_to_use() {
        for bad in ["<!everyone>", "here", "<!subteam^U0123ABCD>", "<@S0123ABCD>", "@sec oncall", "<script>", "@", "s0123abcd"] {
            let error = Mention::parse("mentions.HIGH", bad).unwrap_err();
            assert_eq!(error.field, "mentions.HIGH");
            assert!(!error.message.is_empty(), "{bad}");
        }
        assert!(Mention::parse("m", "@everyone").unwrap_err().message.contains("@channel or @here"));
        assert!(Mention::parse("m", "<b>hi</b>").unwrap_err().message.contains("@sec-oncall"));
    }

    #[test]
    fn a_list_is_typed_with_commas_and_rendered_for_slack() {
        let list = parse_list(Severity::Critical, "@here, @sec-oncall,U0123ABCD").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list_text(&list), "@here, @sec-oncall, <@U0123ABCD>");
        let error = parse_list(Severity::Critical, "@here, nope").unwrap_err();
        assert_eq!(error.field, "mentions.CRITICAL");
        let mentions = Mentions::from_lists([(Severity::Critical, list)]);
        assert_eq!(mentions.slack_text(Severity::Critical), "<!here> <@U0123ABCD>");
        assert_eq!(mentions.slack_text(Severity::Low), "");
        assert_eq!(mentions.unresolved().map(|e| e.field), Some("mentions.CRITICAL".to_owned()), "@sec-oncall is to look up");
    }

    #[test]
    fn settings_read_from_json_keyed_by_severity_and_tidied() {
        let json = serde_json::json!({"CRITICAL": ["@channel", "@channel", "<!subteam^S0123ABCD|@sec-oncall>"], "LOW": []});
        let mentions: Mentions = serde_json::from_value(json).unwrap();
        let tidy = mentions.validate().unwrap();
        assert_eq!(tidy.lists().count(), 1, "empty lists go");
        assert_eq!(tidy.of(Severity::Critical).len(), 2, "repeats go");
        assert_eq!(serde_json::to_value(&tidy).unwrap(), serde_json::json!({"CRITICAL": ["@channel", "<!subteam^S0123ABCD|@sec-oncall>"]}));
        let bad = serde_json::from_value::<Mentions>(serde_json::json!({"CRITICAL": ["<!everyone>"]})).unwrap_err();
        assert!(bad.to_string().contains("@everyone"), "{bad}");
        let many = Mentions::from_lists([(Severity::High, (0..11).map(|i| Mention::User(format!("U00000000{i:02}"))).collect())]);
        assert_eq!(many.validate().unwrap_err().field, "mentions.HIGH");
        let twice = Mentions::from_lists([(Severity::High, parse_list(Severity::High, "<!subteam^S0123ABCD|@ops>, S0123ABCD").unwrap())]);
        assert_eq!(twice.validate().unwrap().of(Severity::High).len(), 1, "one group, by handle and by ID");
        let id_first =
            Mentions::from_lists([(Severity::High, parse_list(Severity::High, "S0123ABCD, <!subteam^S0123ABCD|@ops>").unwrap())]);
        assert_eq!(id_first.validate().unwrap().of(Severity::High)[0].handle(), Some("ops"), "the handle is kept");
        assert_eq!(Mention::group("S0123ABCD|x", "ops"), None, "Slack's answer is checked whole");
        assert!(Mention::group("S0123ABCD", "Ops").is_some());
    }

    #[test]
    fn a_handle_of_a_known_group_keeps_its_id_and_others_wait_for_a_lookup() {
        let before = Mentions::from_lists([(Severity::Critical, parse_list(Severity::Critical, "<!subteam^S0123ABCD|@ops>").unwrap())]);
        let mut typed = Mentions::from_lists([(Severity::High, parse_list(Severity::High, "@ops, @new-team").unwrap())]);
        typed.reuse_groups(&before);
        assert_eq!(typed.of(Severity::High)[0], Mention::Group { id: "S0123ABCD".into(), handle: Some("ops".into()) });
        let error = typed.unresolved().unwrap();
        assert_eq!(error.field, "mentions.HIGH");
        assert!(error.message.contains("@new-team"), "{}", error.message);
        assert_eq!(before.unresolved(), None);
    }
}
