//! Password hashing with Argon2id (the argon2 crate's defaults: 19 MiB,
//! two passes), off the async threads.

use std::sync::LazyLock;

use anyhow::Context as _;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};

/// Each hash takes 19 MiB for a moment: at most one per core at a time,
/// so a flood of sign-ins queues instead of exhausting memory.
static HASHING: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await.context("the hashing queue")?;
    tokio::task::spawn_blocking(move || hash_now(&password)).await.context("the hashing task")?
}

/// Prepares the decoy hash at start-up, so that the first sign-in with an
/// unknown email takes no longer than any other.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(|| LazyLock::force(&DECOY).len()).await;
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("the system random source: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("encoding a salt: {e}"))?;
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

/// A hash no password matches, checked when the email is unknown so that
/// the answer takes as long as for a real account.
static DECOY: LazyLock<String> = LazyLock::new(|| hash_now("decoy password that is never accepted").expect("hashing the decoy"));

/// Whether `password` matches `stored`; with no stored hash, spends the same
/// time and answers no.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| DECOY.clone());
        let matches = PasswordHash::new(&hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
        real && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify("decoy password that is never accepted".into(), None).await);
    }
}
