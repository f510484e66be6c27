//! `/api/session`: signing in and out, and who is signed in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_model::account::{Email, Me, SignIn};

use super::Body;
use crate::AppState;
use crate::domain::accounts::{password, secrets};
use crate::http::auth::{self, Authorized, ClientIp, need};
use crate::http::error::ApiError;

/// The one answer for a wrong email or a wrong password: it must not tell
/// which accounts exist.
fn wrong_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "The email or password is not right.")
}

fn too_many_attempts(wait: std::time::Duration) -> ApiError {
    let seconds = wait.as_secs().max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("Too many sign-in attempts. Wait {seconds} seconds, then try again."),
    )
    .with_header(header::RETRY_AFTER, seconds.to_string())
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(form): Body<SignIn>,
) -> Result<Response, ApiError> {
    let email = Email::parse("email", &form.email)?;
    let limits = &state.sign_in_limits;
    if let Err(wait) = limits.may_try(&email.key(), ip) {
        tracing::warn!(client.ip = %ip, "sign-in attempts limited");
        return Err(too_many_attempts(wait));
    }
    // Others' failures from this address hold back guesses, not a
    // correct password.
    let address_wait = limits.address_wait(ip);
    let record = state.store.user_by_email(&email).await?;
    let stored_hash = record.as_ref().map(|r| r.password_hash.clone());
    let matches = password::verify(form.password, stored_hash).await;
    let user = match record {
        Some(record) if matches => record.user,
        _ => {
            limits.failed(&email.key(), ip);
            if let Some(wait) = address_wait {
                tracing::warn!(client.ip = %ip, "sign-in attempts limited");
                return Err(too_many_attempts(wait));
            }
            return Err(wrong_credentials());
        }
    };
    if !user.enabled {
        // Said only to someone who knows the password.
        return Err(ApiError::new(StatusCode::FORBIDDEN, "account_disabled", "This account is disabled. Ask an admin to enable it."));
    }

    let now = jiff::Timestamp::now().as_second();
    let ttl = i64::try_from(state.settings.session_ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let token = secrets::generate("");
    state.store.delete_expired_sessions(now).await?;
    // A session cookie the browser already had is never reused.
    if let Some(old) = auth::cookie(&headers, auth::session_cookie_name(state.cookies_secure())) {
        state.store.delete_session(&secrets::hash(old)).await?;
    }
    state.store.create_session(&secrets::hash(&token), &user.id, now, now + ttl).await?;
    tracing::info!(user.id = %user.id, "signed in");
    let cookie = auth::session_cookie(&token, ttl, state.cookies_secure());
    Ok(([(header::SET_COOKIE, cookie)], Json(Me::new(user))).into_response())
}

pub async fn me(signed_in: Authorized<need::SignedIn>) -> Json<Me> {
    Json(Me::new(signed_in.user))
}

/// Ends the session if there is one; answers the same either way.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = auth::cookie(&headers, auth::session_cookie_name(state.cookies_secure())) {
        state.store.delete_session(&secrets::hash(token)).await?;
    }
    let cookie = auth::clear_session_cookie(state.cookies_secure());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
