//! Random secrets (session cookies, API tokens) and how they are kept: only
//! their SHA-256 is stored. They carry 256 bits of randomness, so a fast
//! hash is enough; passwords, which people choose, get Argon2id instead.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The prefix of API tokens, so secret scanners and people recognise them.
pub const API_TOKEN_PREFIX: &str = "hrld_";

/// `prefix` + 32 random bytes, base64url.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system random source");
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// What lists show of a token: its prefix and last four characters.
pub fn hint(token: &str) -> String {
    let tail: String = token.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{API_TOKEN_PREFIX}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hinted_by_their_end() {
        let a = generate(API_TOKEN_PREFIX);
        let b = generate(API_TOKEN_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("hrld_") && a.len() == 5 + 43, "{a}");
        assert_eq!(hint("hrld_abcdefgh"), "hrld_…efgh");
        assert_eq!(hash("x").len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }
}
