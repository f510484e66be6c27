//! Types both sides of Herald share. No I/O: this crate compiles to wasm32 for
//! the app and natively for the server, so the browser and the server agree on
//! every API body and every validation rule.

pub mod account;
pub mod alert;
pub mod api;
pub mod assets;
pub mod blocks;
pub mod destination;
pub mod inline;
pub mod manifest;
pub mod mention;
pub mod redirect;
pub mod text;
pub mod time;
