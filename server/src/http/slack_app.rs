//! `/api/slack/…`: what the setup wizard needs about the Slack app.

use axum::Json;
use axum::extract::State;
use herald_model::manifest::{DEFAULT_APP_NAME, ManifestFormat, ManifestText};
use serde::Deserialize;

use super::Query;
use crate::AppState;
use crate::http::auth::{Authorized, need};
use crate::slack::manifest::manifest_text;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestQuery {
    #[serde(default)]
    format: ManifestFormat,
    name: Option<String>,
    #[serde(default)]
    enterprise_grid: bool,
}

/// `GET /api/slack/manifest?format=yaml|json&name=…&enterpriseGrid=true`.
pub async fn manifest(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Query(query): Query<ManifestQuery>,
) -> Json<ManifestText> {
    let name = query.name.as_deref().unwrap_or(DEFAULT_APP_NAME);
    Json(manifest_text(&state.public_url, name, query.enterprise_grid, query.format))
}
