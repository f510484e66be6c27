//! Every HTTP route Herald answers, and the layers around them.

mod destinations;
mod health;

use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::{Router, middleware};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::error::ApiError;
use crate::web;

/// Largest request body Herald reads (the ingest API's batch limit).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/destinations", get(destinations::list))
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed);
    // Slack's endpoints arrive with the Slack-connection work; until then every
    // /slack path answers like an unknown API route, never with the web app.
    let slack = Router::new().fallback(no_such_route);

    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .nest("/api", api)
        .nest("/slack", slack);
    // The cache-control layer covers only the static files; API answers are
    // never cached.
    let routes = web::with_static_files(routes, &state.settings.dist_dir);
    routes
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Refuses an oversized Content-Length before any handler runs, on
        // every route, including ones that never read a body.
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::map_response(web::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

// Nested routers see the path without its prefix; OriginalUri has it whole.
async fn no_such_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("There is no {method} {} in Herald's API.", uri.path()))
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{} does not accept {method}.", uri.path()))
}
