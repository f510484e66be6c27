//! Pieces several pages use.

pub mod copy;
pub mod notice;
pub mod shell;
