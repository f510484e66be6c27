//! Verifying that a request comes from Slack: HMAC-SHA256 of
//! `v0:{timestamp}:{raw body}` with the app's signing secret, lowercase hex,
//! compared in constant time, with timestamps at most 300 s away from now.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now, either way.
pub const MAX_SKEW_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no Slack signature or timestamp")]
    Missing,
    #[error("the request's timestamp is not a number")]
    BadTimestamp,
    #[error("the request's timestamp is more than five minutes from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks `signature` (`v0=<64 lowercase hex>`) over `body` at `timestamp`,
/// as of `now` (Unix seconds).
pub fn verify(secret: &str, timestamp: &str, body: &[u8], signature: &str, now: i64) -> Result<(), SignatureError> {
    let sent: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if now.abs_diff(sent) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let hex = signature.strip_prefix("v0=").ok_or(SignatureError::Mismatch)?;
    // Lowercase only, as Slack sends and its SDKs accept.
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(SignatureError::Mismatch);
    }
    let expected = ::hex::decode(hex).map_err(|_| SignatureError::Mismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(b"v0:");
    mac.update(timestamp.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const THEN: i64 = 1531420618;

    #[test]
    fn slacks_published_example_verifies() {
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, THEN), Ok(()));
    }

    #[test]
    fn a_tampered_body_or_wrong_secret_is_refused() {
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(verify(SECRET, TIMESTAMP, tampered.as_bytes(), SIGNATURE, THEN), Err(SignatureError::Mismatch));
        assert_eq!(verify("another secret", TIMESTAMP, BODY.as_bytes(), SIGNATURE, THEN), Err(SignatureError::Mismatch));
        let upper = format!("v0={}", SIGNATURE[3..].to_uppercase());
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), &upper, THEN), Err(SignatureError::Mismatch));
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), "v1=abc", THEN), Err(SignatureError::Mismatch));
    }

    #[test]
    fn timestamps_may_be_300_seconds_away_but_not_301() {
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, THEN + 300), Ok(()));
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, THEN - 300), Ok(()));
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, THEN + 301), Err(SignatureError::Stale));
        assert_eq!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, THEN - 301), Err(SignatureError::Stale));
        assert_eq!(verify(SECRET, "soon", BODY.as_bytes(), SIGNATURE, THEN), Err(SignatureError::BadTimestamp));
        assert_eq!(verify(SECRET, &i64::MIN.to_string(), BODY.as_bytes(), SIGNATURE, THEN), Err(SignatureError::Stale));
    }
}
