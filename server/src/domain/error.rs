//! What can go wrong in the domain, in its own words. The http layer turns
//! each kind into a status and a stable code; the worker asks
//! [`Error::retryable`] rather than reading HTTP codes.

use herald_model::api::FieldError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist; the sentence names it.
    #[error("{0}")]
    NotFound(String),
    /// Input that breaks a rule: every bad field, and the sentence to show.
    #[error("{message}")]
    Invalid { fields: Vec<FieldError>, message: String },
    /// Herald has no bot token to call Slack with yet.
    #[error("Install the app with Add to Slack, or save its Bot OAuth Token, first (steps 3 and 5).")]
    NoToken,
    /// The destination is still a draft.
    #[error("Finish setting this destination up first; a draft receives nothing anyway.")]
    SetupIncomplete,
    /// Slack said no to renewing a rotating token: only a new install mends it.
    #[error("Slack refused to renew the app's token: reinstall the app with Add to Slack.")]
    RefreshRefused,
    /// Slack could not be asked to renew the token: the next try may work.
    #[error("Slack could not be reached to renew the app's token; Herald tries again.")]
    SlackUnreachable,
    /// A re-send that names a destination the alert was never routed to.
    #[error("This alert has no delivery to that destination: it was not routed there.")]
    NothingToResend,
    /// A Slack payload Herald cannot act on; the sentence says why.
    #[error("Not an interaction Herald can handle: {0}.")]
    BadSlackPayload(String),
    /// Something nobody outside can fix; the cause was logged when it was
    /// made (see [`Error::broken`]).
    #[error("Herald could not complete the request. The server log has the details.")]
    Broken,
    /// A store rule a person can act on (an email taken, the last admin, a
    /// destination no longer a draft).
    #[error(transparent)]
    Store(StoreError),
}

impl Error {
    /// A failure the caller cannot fix: the cause is logged here, once.
    pub fn broken(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Error::Broken
    }

    /// Bad fields; the sentence is the first one's.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields.first().map_or_else(|| "The request is not valid.".to_owned(), |f| f.message.clone());
        Error::Invalid { fields, message }
    }

    /// The same bad fields under another sentence.
    pub fn with_message(self, message: impl Into<String>) -> Self {
        match self {
            Error::Invalid { fields, .. } => Error::Invalid { fields, message: message.into() },
            other => other,
        }
    }

    /// Whether trying again later may work: Slack out of reach, or Herald's
    /// own trouble (a database error). Everything else needs a person.
    pub fn retryable(&self) -> bool {
        matches!(self, Error::SlackUnreachable | Error::Broken)
    }
}

impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        Error::invalid(vec![error])
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Error::NotFound(format!("There is no such {what}.")),
            StoreError::Database(_) | StoreError::Corrupt(_) => Error::broken(error),
            StoreError::EmailTaken | StoreError::LastAdmin | StoreError::NotDraft => Error::Store(error),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
