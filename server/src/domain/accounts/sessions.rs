//! Signing in and out: a password checked against its hash (as slowly for
//! an unknown email as for a known one), attempts limited per account and
//! per address, and a session stored only as its token's hash.

use std::net::IpAddr;
use std::time::Duration;

use herald_model::account::{Email, UserView};
use herald_model::api::FieldError;

use super::limits::SignInLimits;
use super::{password, secrets};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("{}", .0.message)]
    Invalid(FieldError),
    /// The one answer for a wrong email or a wrong password: it must not
    /// tell which accounts exist.
    #[error("The email or password is not right.")]
    WrongCredentials,
    #[error("Too many sign-in attempts. Wait {} seconds, then try again.", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    /// Said only to someone who knows the password.
    #[error("This account is disabled. Ask an admin to enable it.")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new session: the token for the cookie, and whose it is.
pub struct Session {
    pub token: String,
    pub user: UserView,
}

/// Checks the password and opens a session lasting `ttl`. `replaced`: the
/// session token the browser already had, ended (a session is never
/// reused across a sign-in).
pub async fn sign_in(
    store: &dyn Store,
    limits: &SignInLimits,
    ip: IpAddr,
    email: &str,
    given_password: String,
    replaced: Option<&str>,
    ttl: Duration,
) -> Result<Session, SignInError> {
    let email = Email::parse("email", email).map_err(SignInError::Invalid)?;
    if let Err(wait) = limits.may_try(&email.key(), ip) {
        tracing::warn!(client.ip = %ip, "sign-in attempts limited");
        return Err(SignInError::TooManyAttempts(wait));
    }
    // Others' failures from this address hold back guesses, not a
    // correct password.
    let address_wait = limits.address_wait(ip);
    let record = store.user_by_email(&email).await?;
    let stored_hash = record.as_ref().map(|r| r.password_hash.clone());
    let matches = password::verify(given_password, stored_hash).await;
    let user = match record {
        Some(record) if matches => record.user,
        _ => {
            limits.failed(&email.key(), ip);
            if let Some(wait) = address_wait {
                tracing::warn!(client.ip = %ip, "sign-in attempts limited");
                return Err(SignInError::TooManyAttempts(wait));
            }
            return Err(SignInError::WrongCredentials);
        }
    };
    if !user.enabled {
        return Err(SignInError::Disabled);
    }
    let now = jiff::Timestamp::now().as_second();
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let token = secrets::generate("");
    store.delete_expired_sessions(now).await?;
    if let Some(old) = replaced {
        store.delete_session(&secrets::hash(old)).await?;
    }
    store.create_session(&secrets::hash(&token), &user.id, now, now + ttl).await?;
    tracing::info!(user.id = %user.id, "signed in");
    Ok(Session { token, user })
}

/// Ends the session with this token, if there is one.
pub async fn sign_out(store: &dyn Store, token: &str) -> Result<(), StoreError> {
    store.delete_session(&secrets::hash(token)).await
}
