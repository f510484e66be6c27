//! Pieces several pages use.

pub mod copy;
pub mod destination_form;
pub mod notice;
pub mod shell;
pub mod title;
