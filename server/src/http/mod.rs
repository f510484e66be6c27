//! The HTTP side: every route Herald answers, the layers around them, the
//! API error, who is calling, and the web app's files.

mod alerts;
pub mod auth;
mod destinations;
pub mod error;
mod health;
mod session;
mod slack_app;
mod slack_events;
mod slack_interactivity;
mod slack_oauth;
mod slack_request;
mod tokens;
mod users;
mod views;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{delete, get, patch, post, put};
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::http::error::ApiError;

/// Largest request body Herald reads (the ingest API's batch limit).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Slack's events and interactions are a few KiB.
pub const SLACK_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    // Each handler names what it requires in its signature:
    // `Authorized<need::…>` for people, `ApiCaller` for programs.
    let api = Router::new()
        .route("/session", get(session::me).post(session::sign_in).delete(session::sign_out))
        .route("/alerts", get(alerts::list).post(alerts::create))
        .route("/ingest/alertmanager", post(alerts::from_alertmanager))
        .route("/ingest/grafana", post(alerts::from_grafana).put(alerts::from_grafana))
        .route("/alerts/{id}", get(alerts::get).patch(alerts::update))
        .route("/alerts/{id}/resend", post(alerts::resend))
        .route("/alerts/{id}/comments", post(alerts::add_comment))
        .route("/assignees", get(alerts::assignees))
        .route("/destinations", get(destinations::list).post(destinations::create))
        .route("/destinations/{id}", get(destinations::get).put(destinations::update).delete(destinations::delete))
        .route("/destinations/{id}/draft", patch(destinations::save_draft))
        .route("/destinations/{id}/credentials", put(destinations::save_credentials))
        .route("/destinations/{id}/app-token", delete(destinations::leave_socket_mode))
        .route("/destinations/{id}/finish", post(destinations::finish))
        .route("/destinations/{id}/enable", post(destinations::enable))
        .route("/destinations/{id}/disable", post(destinations::disable))
        .route("/destinations/{id}/channel", get(destinations::channel))
        .route("/destinations/{id}/welcome", post(destinations::welcome))
        .route("/slack/app", get(destinations::slack_app))
        .route("/timezones", get(destinations::timezones))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", patch(users::update))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/token", get(tokens::current))
        .route("/slack/manifest", get(slack_app::manifest))
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf_guard))
        .layer(middleware::map_response(never_cache));
    // Slack's own calls: verified by signature, not by session. Unknown
    // /slack paths answer like unknown API routes, never with the web app.
    let slack = Router::new()
        .route("/events", post(slack_events::events))
        .route("/interactivity", post(slack_interactivity::interactivity))
        .route("/install", get(slack_oauth::install))
        .route("/oauth/callback", get(slack_oauth::callback))
        .fallback(no_such_route)
        // Slack's requests are small; nothing bigger is read.
        .layer(DefaultBodyLimit::max(SLACK_BODY_LIMIT))
        .layer(middleware::from_fn(refuse_oversized_slack_bodies))
        .layer(middleware::map_response(never_cache));

    let routes = Router::new()
        .route("/healthz", get(health::healthz).layer(middleware::map_response(never_cache)))
        .route("/metrics", get(alerts::metrics).layer(middleware::map_response(never_cache)))
        .nest("/api", api)
        .nest("/slack", slack);
    web::with_static_files(routes, &state.settings.dist_dir)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_oversized_bodies))
        // A body sent too slowly, or a request Herald cannot answer in
        // time, ends rather than holding a connection.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(state.settings.body_timeout))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, state.settings.request_timeout))
        .layer(middleware::map_response_with_state(state.clone(), web::security_headers))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            // The path only: query strings carry OAuth codes and states.
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

/// A JSON body whose problems come back in the API's error shape.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// The address's query string, whose problems (a word where a number
/// belongs) come back in the API's error shape too.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

// Nested routers see the path without its prefix; OriginalUri has it whole.
async fn no_such_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("There is no {method} {} in Herald's API.", uri.path()))
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{} does not accept {method}.", uri.path()))
}

async fn never_cache(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Refuses a declared body over [`BODY_LIMIT`] before any handler runs, on
/// every route, with the API's error shape. Bodies without a length are held
/// to the same limit by `DefaultBodyLimit` when a handler reads them.
async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    if declared_length(&request).is_some_and(|len| len > BODY_LIMIT as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The request body is larger than the limit of {} MiB. Send less at once.", BODY_LIMIT / (1024 * 1024)),
        )
        .into_response();
    }
    next.run(request).await
}

/// The same for `/slack/*`, at [`SLACK_BODY_LIMIT`].
async fn refuse_oversized_slack_bodies(request: Request, next: Next) -> Response {
    if declared_length(&request).is_some_and(|len| len > SLACK_BODY_LIMIT as u64) {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "Slack's requests are at most 64 KiB; this one is larger.")
            .into_response();
    }
    next.run(request).await
}

fn declared_length(request: &Request) -> Option<u64> {
    request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
}
