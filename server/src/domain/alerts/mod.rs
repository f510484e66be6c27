//! Alerts: ingest (check, route, store with the outbox), routing to
//! destinations, and the message each destination gets.

pub mod ingest;
pub mod message;
pub mod routing;
