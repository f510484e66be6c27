//! Alerts: ingest (check, route, store with the outbox) from Herald's API
//! and from Alertmanager's and Grafana's webhooks, routing to
//! destinations, the message each destination gets, and re-sending it.

pub mod ingest;
pub mod message;
pub mod resend;
pub mod routing;
pub mod webhook;
