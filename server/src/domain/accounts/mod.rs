//! Accounts: creating users, the one way (from the API, the `herald user
//! create` command, and the unattended first admin alike), and signing in.

pub mod limits;
pub mod password;
pub mod secrets;
pub mod sessions;

use std::path::Path;

use anyhow::{Context as _, bail};
use herald_model::account::{NewUser, Role, UserView};
use herald_model::api::FieldError;

use crate::store::{NewUserRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hashing(#[from] anyhow::Error),
}

/// Validates, hashes the password, stores.
pub async fn create_user(store: &dyn Store, new: NewUser) -> Result<UserView, CreateUserError> {
    let (email, display_name) = new.validate().map_err(CreateUserError::Invalid)?;
    let password_hash = password::hash(new.password).await?;
    Ok(store.create_user(NewUserRecord { email, display_name, role: new.role, password_hash }).await?)
}

/// Reads a password from a file, without the trailing newline editors add.
pub fn read_password_file(path: &Path, setting: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    Ok(text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_owned())
}

/// The name a user gets when none is given: the part of the email before `@`.
pub fn default_display_name(email: &str) -> String {
    email.trim().split('@').next().unwrap_or_default().to_owned()
}

/// At start-up: creates the first admin from `HERALD_ADMIN_EMAIL` and
/// `HERALD_ADMIN_PASSWORD_FILE` when there are no users yet, and says how
/// to create one when there is still nobody who can sign in.
pub async fn bootstrap(store: &dyn Store, admin_email: Option<&str>, admin_password_file: Option<&Path>) -> anyhow::Result<()> {
    match (admin_email, admin_password_file) {
        (Some(email), Some(file)) => {
            if store.count_users().await? == 0 {
                let password = read_password_file(file, "HERALD_ADMIN_PASSWORD_FILE")?;
                let new = NewUser { email: email.to_owned(), display_name: default_display_name(email), role: Role::Admin, password };
                let user =
                    create_user(store, new).await.map_err(|e| anyhow::anyhow!("HERALD_ADMIN_EMAIL / HERALD_ADMIN_PASSWORD_FILE: {e}"))?;
                tracing::info!(user.email = %user.email, "created the first admin from HERALD_ADMIN_EMAIL");
            } else {
                tracing::info!("HERALD_ADMIN_EMAIL is set but users exist already; it changes nothing");
            }
        }
        (Some(_), None) => bail!("HERALD_ADMIN_EMAIL needs HERALD_ADMIN_PASSWORD_FILE: a file holding the first admin's password"),
        (None, Some(_)) => bail!("HERALD_ADMIN_PASSWORD_FILE needs HERALD_ADMIN_EMAIL: the first admin's email"),
        (None, None) => {}
    }
    if store.count_users().await? == 0 {
        tracing::warn!(
            "no users yet: create the first admin with `herald user create --email you@example.com --role admin`, \
             or set HERALD_ADMIN_EMAIL and HERALD_ADMIN_PASSWORD_FILE"
        );
    }
    Ok(())
}
