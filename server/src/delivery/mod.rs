//! Background work: the worker that sends due deliveries to Slack within
//! its limits, its pacing, and the retention sweep.

pub mod pacing;
pub mod retention;
pub mod worker;
