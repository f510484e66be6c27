//! "Add to Slack": `GET /slack/install` sends the browser to Slack's
//! authorize page with a single-use state (kept hashed on the server and in
//! an HttpOnly cookie); `GET /slack/oauth/callback` checks both, exchanges
//! the code and stores the installation. Every failure lands on a page that
//! says what happened and stores nothing.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use herald_model::manifest::{BOT_SCOPES, OAUTH_CALLBACK_PATH, public_endpoint};
use serde::Deserialize;

use super::Query;
use crate::AppState;
use crate::domain::accounts::secrets;
use crate::domain::destinations;
use crate::domain::slack_app::install::InstallError;
use crate::http::auth::{self, Authorized, need};
use crate::http::error::ApiError;
use crate::slack::client::SlackError;

const STATE_COOKIE: &str = "herald_oauth_state";
/// How long an install may take between Herald and Slack.
const STATE_LIFETIME_SECS: i64 = 600;

#[derive(Debug, Deserialize)]
pub struct InstallQuery {
    destination: String,
}

fn redirect_uri(state: &AppState) -> String {
    public_endpoint(state.public_url.as_str(), OAUTH_CALLBACK_PATH)
}

/// Starts an install for a destination whose Client ID and Client Secret
/// are saved.
pub async fn install(
    _: Authorized<need::ManageDestinations>,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InstallQuery>,
) -> Result<Response, ApiError> {
    // Only Herald's own pages (or a typed address) may start an install:
    // another site must not start one in an admin's browser.
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return Ok(page(
            &state,
            StatusCode::FORBIDDEN,
            "Start the install from Herald",
            "This install was started from another site and was refused. Use Add to Slack in Herald's setup wizard.",
            None,
        ));
    }
    let (record, app) = destinations::load(&*state.store, &query.destination).await?;
    let Some(app) = app.filter(|a| a.client_secret.is_some()) else {
        return Ok(page(
            &state,
            StatusCode::CONFLICT,
            "Save the app's credentials first",
            "Add to Slack needs the app's Client ID and Client Secret: enter them in the wizard, then try again.",
            Some(&record.id),
        ));
    };
    let secret = secrets::generate("");
    let now = jiff::Timestamp::now().as_second();
    state.store.create_oauth_state(&secrets::hash(&secret), &record.id, now + STATE_LIFETIME_SECS).await?;
    let mut authorize = state.settings.slack_authorize_url.clone();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", &app.client_id)
        .append_pair("scope", &BOT_SCOPES.join(","))
        .append_pair("redirect_uri", &redirect_uri(&state))
        .append_pair("state", &secret);
    let secure = if state.cookies_secure() { "; Secure" } else { "" };
    let cookie = format!("{STATE_COOKIE}={secret}; Path=/slack/oauth; HttpOnly; SameSite=Lax; Max-Age={STATE_LIFETIME_SECS}{secure}");
    tracing::info!(destination.id = %record.id, "install started");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(authorize.as_str())).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<CallbackQuery>,
) -> Response {
    match finish_install(&state, &headers, query).await {
        Ok(destination_id) => {
            let clear = format!("{STATE_COOKIE}=; Path=/slack/oauth; HttpOnly; SameSite=Lax; Max-Age=0");
            let to = format!("/destinations/{destination_id}/setup/5?installed=1");
            ([(header::SET_COOKIE, clear)], Redirect::to(&to)).into_response()
        }
        Err(failure) => failure,
    }
}

/// The install, checked step by step; `Err` is the page to show.
async fn finish_install(state: &AppState, headers: &HeaderMap, query: CallbackQuery) -> Result<String, Response> {
    let Some(sent_state) = query.state.filter(|s| !s.is_empty()) else {
        return Err(page(
            state,
            StatusCode::BAD_REQUEST,
            "Start the install from Herald",
            "This install did not start in Herald, so Herald cannot tell which destination it is for. Open Alert Destinations in Herald and use Add to Slack there.",
            None,
        ));
    };
    // The cookie first: a stranger who saw the state (in a log, a
    // shoulder) cannot use it up before the admin's browser comes back.
    if auth::cookie(headers, STATE_COOKIE).as_deref() != Some(sent_state.as_str()) {
        return Err(page(
            state,
            StatusCode::BAD_REQUEST,
            "This install was started in another browser",
            "For your safety the install must finish in the browser that started it. Start it again there, or here.",
            None,
        ));
    }
    let now = jiff::Timestamp::now().as_second();
    let destination_id =
        state.store.take_oauth_state(&secrets::hash(&sent_state), now).await.map_err(|e| internal(state, e))?.ok_or_else(|| {
            page(
                state,
                StatusCode::BAD_REQUEST,
                "This install link has expired",
                "The link was used already, is older than 10 minutes, or was not made by this Herald. Start the install again.",
                None,
            )
        })?;
    if let Some(error) = query.error {
        let message = if error == "access_denied" {
            "The install was cancelled in Slack, so nothing changed. Try again when you are ready.".to_owned()
        } else {
            format!("Slack stopped the install ({error}). Nothing changed.")
        };
        return Err(page(state, StatusCode::BAD_REQUEST, "The app was not installed", &message, Some(&destination_id)));
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return Err(page(
            state,
            StatusCode::BAD_REQUEST,
            "Slack sent no install code",
            "The link back from Slack has no code, so Herald cannot finish the install. Start the install again.",
            Some(&destination_id),
        ));
    };
    let (_record, app) = destinations::load(&*state.store, &destination_id).await.map_err(|e| ApiError::from(e).into_response())?;
    let app = app.ok_or_else(|| internal(state, "the destination's Slack app is gone"))?;
    let installation = state.apps.install(&app, &code, &redirect_uri(state), now).await.map_err(|error| match error {
        InstallError::Refused(error) => {
            page(state, exchange_status(&error), "Slack did not complete the install", &exchange_failure(&error), Some(&destination_id))
        }
        InstallError::Broken(cause) => internal(state, cause),
    })?;
    tracing::info!(
        destination.id = %destination_id,
        slack.team = installation.team_id.as_deref().unwrap_or("-"),
        org_wide = installation.is_enterprise_install,
        "installed through Add to Slack"
    );
    Ok(destination_id)
}

/// What went wrong in the code exchange, and the fix.
/// Slack refusing (a bad, used or foreign code, a wrong secret) is the
/// request's problem: 400, start again. Only Slack out of reach is a
/// gateway's: 502.
fn exchange_status(error: &SlackError) -> StatusCode {
    match error {
        SlackError::Api(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    }
}

fn exchange_failure(error: &SlackError) -> String {
    match error.code() {
        Some("invalid_code" | "code_already_used") => "The install code expired or was used already. Start the install again.".to_owned(),
        Some("bad_redirect_uri") => "Slack does not accept Herald's callback address: update the app from Herald's manifest (its redirect URL must match HERALD_PUBLIC_URL), then try again.".to_owned(),
        Some("bad_client_secret") | Some("invalid_client_id") => "Slack refused the app's credentials: check the Client ID and Client Secret in the wizard, then try again.".to_owned(),
        Some("oauth_authorization_url_mismatch") => "The app was opened from another Slack address: start the install from Herald again.".to_owned(),
        Some("cannot_install_an_org_installed_app") => "The app is installed to the whole organization already: ask the org admin to add this workspace.".to_owned(),
        Some(other) => format!("Slack answered “{other}”. Start the install again."),
        None => format!("Herald could not finish with Slack: {error}."),
    }
}

fn internal(state: &AppState, cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "install failed");
    page(
        state,
        StatusCode::INTERNAL_SERVER_ERROR,
        "The install failed",
        "Herald could not store the installation. The server log has the details.",
        None,
    )
}

/// A page in the app's look (its stylesheet, no script: the CSP stays
/// strict): what happened, and the way back.
fn page(state: &AppState, status: StatusCode, title: &str, message: &str, destination: Option<&str>) -> Response {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let back = match destination {
        Some(id) => {
            format!("<a class=\"button primary\" href=\"/destinations/{}/setup/4\">Back to the setup, to try again</a>", escape(id))
        }
        None => "<a class=\"button primary\" href=\"/destinations\">Back to Alert Destinations</a>".to_owned(),
    };
    let stylesheet = crate::http::web::stylesheet_href(&state.settings.dist_dir)
        .map(|href| format!("<link rel=\"stylesheet\" href=\"{}\">", escape(&href)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Herald</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">{stylesheet}</head>\
         <body><header class=\"topbar\"><a class=\"brand\" href=\"/\"><img src=\"/favicon.svg\" alt=\"\" width=\"24\" height=\"24\">Herald</a></header>\
         <main class=\"content\"><section class=\"page narrow\"><h1>{title}</h1>\
         <p class=\"notice error\" role=\"alert\">{message}</p><p>{back}</p></section></main></body></html>",
        title = escape(title),
        message = escape(message),
    );
    (status, Html(html)).into_response()
}
