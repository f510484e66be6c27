//! One module per route.

pub mod alerts;
pub mod destinations;
pub mod edit_destination;
pub mod new_destination;
pub mod not_found;
pub mod setup;
pub mod sign_in;
pub mod tokens;
pub mod users;
