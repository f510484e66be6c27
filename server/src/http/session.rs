//! `/api/session`: signing in and out, and who is signed in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_model::account::{Me, SignIn};

use super::Body;
use crate::AppState;
use crate::domain::accounts::sessions::{self, SignInError};
use crate::http::auth::{self, Authorized, ClientIp, need};
use crate::http::error::ApiError;

pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(form): Body<SignIn>,
) -> Result<Response, ApiError> {
    let replaced = auth::cookie(&headers, auth::session_cookie_name(state.cookies_secure()));
    let signed_in = sessions::sign_in(
        &*state.store,
        &state.sign_in_limits,
        ip,
        &form.email,
        form.password,
        replaced.as_deref(),
        state.settings.session_ttl,
    )
    .await
    .map_err(refused)?;
    let ttl = i64::try_from(state.settings.session_ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let cookie = auth::session_cookie(&signed_in.token, ttl, state.cookies_secure());
    Ok(([(header::SET_COOKIE, cookie)], Json(Me::new(signed_in.user))).into_response())
}

fn refused(error: SignInError) -> ApiError {
    let message = error.to_string();
    match error {
        SignInError::Invalid(field) => field.into(),
        SignInError::WrongCredentials => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message),
        SignInError::TooManyAttempts(wait) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
            .with_header(header::RETRY_AFTER, wait.as_secs().max(1).to_string()),
        SignInError::Disabled => ApiError::new(StatusCode::FORBIDDEN, "account_disabled", message),
        SignInError::Store(error) => error.into(),
    }
}

pub async fn me(signed_in: Authorized<need::SignedIn>) -> Json<Me> {
    Json(Me::new(signed_in.user))
}

/// Ends the session if there is one; answers the same either way.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = auth::cookie(&headers, auth::session_cookie_name(state.cookies_secure())) {
        sessions::sign_out(&*state.store, &token).await?;
    }
    let cookie = auth::clear_session_cookie(state.cookies_secure());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
