//! Pieces several pages use.

pub mod notice;
pub mod shell;
