//! Alerts: ingest (check, route, store with the outbox), routing to
//! destinations, the message each destination gets, and re-sending it.

pub mod ingest;
pub mod message;
pub mod resend;
pub mod routing;
