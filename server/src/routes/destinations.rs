//! `/api/destinations`: the alert destinations.

use axum::Json;
use axum::extract::State;
use herald_model::api::DestinationList;

use crate::AppState;
use crate::auth::{Authorized, need};
use crate::error::ApiError;

pub async fn list(_: Authorized<need::ViewAlerts>, State(state): State<AppState>) -> Result<Json<DestinationList>, ApiError> {
    let destinations = state.store.list_destinations().await?;
    Ok(Json(DestinationList { destinations }))
}
