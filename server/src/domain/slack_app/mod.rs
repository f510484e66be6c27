//! The Slack app Herald is installed as: its tokens (refreshed when they
//! rotate), its installation and identity, the destination's channel, and
//! what people do with alert messages in Slack.

pub mod cache;
pub mod channel;
pub mod installation;
pub mod interactions;
pub mod tokens;
