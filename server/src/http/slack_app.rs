//! `/api/slack/…`: what the setup wizard needs about the Slack app.

use axum::Json;
use axum::extract::State;
use herald_model::manifest::{DEFAULT_APP_NAME, ManifestFormat, ManifestOptions, ManifestText};
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
    #[serde(default)]
    socket_mode: bool,
    #[serde(default)]
    user_groups: bool,
}

/// `GET /api/slack/manifest?format=yaml|json&name=…&enterpriseGrid=true&socketMode=true&userGroups=true`.
pub async fn manifest(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    Query(query): Query<ManifestQuery>,
) -> Json<ManifestText> {
    let options = ManifestOptions {
        public_url: state.public_url.to_string(),
        app_name: query.name.unwrap_or_else(|| DEFAULT_APP_NAME.to_owned()),
        enterprise_grid: query.enterprise_grid,
        socket_mode: query.socket_mode,
        user_groups: query.user_groups,
    };
    Json(manifest_text(&options, query.format))
}
