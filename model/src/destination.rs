//! Alert destinations: where Herald sends alerts.

use serde::{Deserialize, Serialize};

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

/// A destination as the destinations list shows it: no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSummary {
    pub id: String,
    pub display_name: String,
    pub kind: DestinationKind,
    /// RFC 3339.
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        for kind in [DestinationKind::SlackBot] {
            assert_eq!(DestinationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json_name(kind), kind.as_str());
        }
    }

    fn serde_json_name(kind: DestinationKind) -> String {
        serde_json::to_value(kind).unwrap().as_str().unwrap().to_owned()
    }
}
