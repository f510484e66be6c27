//! Bodies of Herald's HTTP API, as the server sends them and the app reads them.

use serde::{Deserialize, Serialize};

use crate::destination::DestinationView;

/// The one shape every API error has:
/// `{"error": {"code": "...", "message": "...", "field": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `not_found` or `invalid_field`.
    pub code: String,
    /// A sentence for people: what went wrong and how to fix it.
    pub message: String,
    /// The input field the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field error, when a form had several (`field` is the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody { error: ErrorDetail { code: code.into(), message: message.into(), field: None, fields: Vec::new() } }
    }
}

/// A problem with one input field, named as the API names it (`displayName`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// `GET /api/destinations`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DestinationList {
    pub destinations: Vec<DestinationView>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub version: String,
    /// This replica holds the delivery lease: it is the one sending to
    /// Slack (one at a time does; the others stand by).
    pub delivering: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The server can reach its database.
    Ok,
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_without_a_field_leaves_the_field_out() {
        let body = ErrorBody::new("not_found", "No such page.");
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"error":{"code":"not_found","message":"No such page."}}"#);
    }
}
