//! Everything Slack: the app manifest now; the Web API client, OAuth,
//! signatures and interactivity as they arrive.

pub mod manifest;
