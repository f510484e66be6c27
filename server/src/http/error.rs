//! The API's error type: every failure a handler returns renders itself as
//! `{"error": {"code", "message", "field", "fields"}}` with the right status.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_model::api::{ErrorBody, ErrorDetail, FieldError};

use crate::domain::error::Error as DomainError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldError>,
    headers: Vec<(axum::http::HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: Vec::new(), headers: Vec::new() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure the client cannot fix. The cause is logged here, once, and the
    /// client sees only a generic sentence.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Herald could not complete the request. The server log has the details.")
    }

    /// 422 naming every bad field; the message is the first field's.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields.first().map_or_else(|| "The request is not valid.".to_owned(), |f| f.message.clone());
        ApiError { fields, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message) }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        let message = self.message.clone();
        self.fields.insert(0, FieldError::new(field, message));
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_header(mut self, name: axum::http::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The stable code, e.g. `slack_unreachable`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The sentence the client sees.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::invalid(vec![error])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.fields.first().map(|f| f.field.clone()),
                fields: if self.fields.len() > 1 { self.fields } else { Vec::new() },
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// A task the handler ran to its end (so that a caller hanging up does not
/// cut it short) that panicked.
impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(err)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(format!("There is no such {what}.")),
            StoreError::EmailTaken => {
                ApiError::new(StatusCode::CONFLICT, "email_taken", "A user with this email exists already.").with_field("email")
            }
            StoreError::LastAdmin => ApiError::new(
                StatusCode::CONFLICT,
                "last_admin",
                "Herald needs at least one enabled admin. Make someone else an admin first.",
            ),
            StoreError::NotDraft => {
                ApiError::new(StatusCode::CONFLICT, "not_a_draft", "This destination's setup is finished: change it from its Edit page.")
            }
            StoreError::Database(_) | StoreError::Corrupt(_) => ApiError::internal(err),
        }
    }
}

/// The domain's errors as the API shows them; codes and sentences are
/// part of the API (clients branch on the code).
impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        match error {
            DomainError::NotFound(message) => ApiError::not_found(message),
            DomainError::Invalid { fields, message } => ApiError::invalid(fields).with_message(message),
            DomainError::NoToken => ApiError::new(StatusCode::CONFLICT, "no_token", message),
            DomainError::SetupIncomplete => ApiError::new(StatusCode::CONFLICT, "setup_incomplete", message),
            DomainError::RefreshRefused => ApiError::new(StatusCode::BAD_GATEWAY, "token_refresh_failed", message),
            DomainError::NothingToResend => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "nothing_to_resend", message).with_field("destinationId")
            }
            DomainError::SlackUnreachable => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "slack_unreachable", message),
            DomainError::BadSlackPayload(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_payload", message),
            // Logged when it was made.
            DomainError::Broken => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message),
            DomainError::Store(error) => error.into(),
        }
    }
}

/// A query string that does not parse: serde's sentence names the
/// parameter and what was expected.
impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let detail = rejection.body_text();
        let detail = detail.strip_prefix("Failed to deserialize query string: ").unwrap_or(&detail);
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", format!("The query string is not valid: {detail}."))
    }
}

/// Bodies that are not the JSON a route expects get a sentence, not serde's
/// internals verbatim.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ),
            JsonRejection::JsonSyntaxError(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "The body is not valid JSON."),
            JsonRejection::JsonDataError(err) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                // serde's message names the field and what was expected.
                format!("The body does not have the expected fields: {}", err.body_text()),
            ),
            JsonRejection::BytesRejection(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("The request body is larger than the limit of {} MiB.", crate::http::BODY_LIMIT / (1024 * 1024)),
            ),
            other => ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
        }
    }
}
