//! `/api/destinations`: the alert destinations (View Alerts to look,
//! Manage Destinations to change), and the setup wizard's drafts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_model::api::DestinationList;
use herald_model::destination::{
    AppCredentials, ChannelCheck, DestinationView, DraftUpdate, NewDestination, SlackAppView, SlackBotForm, TimezoneList, WelcomeOutcome,
};

use super::Body;
use super::Query;
use super::views;
use crate::AppState;
use crate::domain::destinations;
use crate::http::auth::{Authorized, need};
use crate::http::error::ApiError;

/// A destination as a route answers with it.
fn shown(state: &AppState, destination: destinations::Destination) -> DestinationView {
    views::with_socket_mode(views::destination(destination), state.apps.socket_mode())
}

pub async fn list(_: Authorized<need::ViewAlerts>, State(state): State<AppState>) -> Result<Json<DestinationList>, ApiError> {
    let records = state.store.list_destinations().await?;
    let apps = state.store.list_slack_apps().await?;
    let health = state.store.delivery_health(crate::domain::time::now_ms()).await?;
    let destinations = records.into_iter().map(|r| {
        let health = health.get(&r.id);
        views::with_socket_mode(views::destination_in_list(r, &apps, health), state.apps.socket_mode())
    });
    Ok(Json(DestinationList { destinations: destinations.collect() }))
}

pub async fn create(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Body(new): Body<NewDestination>,
) -> Result<(StatusCode, Json<DestinationView>), ApiError> {
    Ok((StatusCode::CREATED, Json(shown(&state, destinations::create(&*state.store, new.kind).await?))))
}

pub async fn get(
    _: Authorized<need::ViewAlerts>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::get(&*state.store, &id).await?)))
}

pub async fn update(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(form): Body<SlackBotForm>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::save_settings(&*state.store, &state.apps, &id, form).await?)))
}

pub async fn save_draft(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(update): Body<DraftUpdate>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::save_draft(&*state.store, &id, update).await?)))
}

pub async fn finish(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::finish(&*state.store, &id).await?)))
}

pub async fn enable(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::set_enabled(&*state.store, &id, true).await?)))
}

pub async fn disable(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::set_enabled(&*state.store, &id, false).await?)))
}

pub async fn delete(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_destination(&id).await?;
    tracing::info!(destination.id = %id, "destination deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/destinations/{id}/app-token`: the app leaves Socket Mode.
pub async fn leave_socket_mode(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::leave_socket_mode(&*state.store, &state.apps, &id).await?)))
}

pub async fn save_credentials(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(credentials): Body<AppCredentials>,
) -> Result<Json<DestinationView>, ApiError> {
    Ok(Json(shown(&state, destinations::save_credentials(&*state.store, &state.apps, &id, credentials).await?)))
}

/// `?channel=#name`: a channel typed in step 5, checked before it is saved.
#[derive(Debug, serde::Deserialize)]
pub struct ChannelQuery {
    channel: Option<String>,
}

/// Step 6's live check of the channel (step 5's, with `?channel=`).
pub async fn channel(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ChannelQuery>,
) -> Result<Json<ChannelCheck>, ApiError> {
    Ok(Json(destinations::channel::check(&*state.store, &state.apps, &id, query.channel.as_deref()).await?))
}

/// Step 7's welcome message: 200 with what happened, sent or not.
pub async fn welcome(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WelcomeOutcome>, ApiError> {
    Ok(Json(destinations::channel::welcome(&*state.store, &state.apps, &id).await?))
}

/// The stored Slack app, for pre-filling a new destination (404 before the first).
pub async fn slack_app(_: Authorized<need::ManageDestinations>, State(state): State<AppState>) -> Result<Json<SlackAppView>, ApiError> {
    let app = state.store.latest_slack_app().await?.ok_or_else(|| ApiError::not_found("No Slack app is stored yet."))?;
    Ok(Json(SlackAppView { socket_mode: state.apps.socket_mode().get(&app.client_id), ..views::slack_app(&app) }))
}

pub async fn timezones(_: Authorized<need::SignedIn>) -> Json<TimezoneList> {
    Json(TimezoneList { timezones: destinations::timezones() })
}
