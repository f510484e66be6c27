//! What Herald does, whoever asks (the API, Slack, the worker): accounts,
//! destinations, alerts, triage and the Slack app. Nothing here knows
//! HTTP: what goes wrong is an [`error::Error`], which the http layer
//! turns into a status.

pub mod accounts;
pub mod alerts;
pub mod destinations;
pub mod error;
pub mod inbound;
pub mod interactions;
pub mod metrics;
pub mod outbox;
pub mod secret_key;
pub mod slack_app;
pub mod system;
pub mod time;
pub mod triage;
