//! The key that encrypts secrets at rest: 32 random bytes, stored as hex in
//! `HERALD_SECRET_KEY_FILE`, generated on first start with mode 0600; and
//! sealing with it (AES-256-GCM, a fresh nonce each time, bound to where
//! the secret is kept).

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
#[cfg(test)]
use secrecy::ExposeSecret as _;
use secrecy::SecretString;

#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Sealed values start with this, so a later format can be told apart.
const SEALED_PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error)]
#[error(
    "a stored secret cannot be decrypted: the key in HERALD_SECRET_KEY_FILE is not the one it was stored with, or the value was altered"
)]
pub struct UnsealError;

impl SecretKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plaintext`. `context` names where it is kept (table,
    /// column, row), so a sealed value copied elsewhere does not open.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
        let cipher = aes_gcm::Aes256Gcm::new(aes_gcm::Key::<aes_gcm::Aes256Gcm>::from_slice(&self.0));
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the system random source");
        let sealed = cipher
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .expect("AES-GCM encrypts any message this size");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{SEALED_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<SecretString, UnsealError> {
        use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
        let bytes = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .filter(|bytes| bytes.len() > 12)
            .ok_or(UnsealError)?;
        let (nonce, ciphertext) = bytes.split_at(12);
        let cipher = aes_gcm::Aes256Gcm::new(aes_gcm::Key::<aes_gcm::Aes256Gcm>::from_slice(&self.0));
        // Zeroed when dropped; the secret's one other copy is its SecretString.
        let plain = zeroize::Zeroizing::new(
            cipher
                .decrypt(aes_gcm::Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
                .map_err(|_| UnsealError)?,
        );
        std::str::from_utf8(&plain).map(SecretString::from).map_err(|_| UnsealError)
    }

    /// Reads the key file, or creates it when it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match Self::read(path)? {
            Some(key) => Ok(key),
            None => Self::create(path),
        }
    }

    /// Reads the key file, which must exist: the database holds secrets
    /// sealed with it, and a new key could not open them.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Self::read(path)?.ok_or_else(|| {
            anyhow::anyhow!(
                "HERALD_SECRET_KEY_FILE {} is missing, but the database holds secrets sealed with a key: \
                 restore the key file from the backup made with the database (a new key cannot open them)",
                path.display()
            )
        })
    }

    fn read(path: &Path) -> anyhow::Result<Option<Self>> {
        warn_if_others_can_read(path);
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(text.trim()).map(Some).with_context(|| {
                format!(
                    "HERALD_SECRET_KEY_FILE {}: expected 64 hex characters. Restore the file from your backup; \
                     without it, stored secrets cannot be read",
                    path.display()
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("HERALD_SECRET_KEY_FILE: cannot read {}", path.display())),
        }
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(text, &mut key)?;
        Ok(SecretKey(key))
    }

    fn create(path: &Path) -> anyhow::Result<Self> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::store::private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        // create_new: two starts racing must not both write a key.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).with_context(|| format!("HERALD_SECRET_KEY_FILE: cannot create {}", path.display()))?;
        file.write_all(hex::encode(key).as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        tracing::info!(path = %path.display(), "generated a new secret key; back it up with the database");
        Ok(SecretKey(key))
    }
}

/// Says so when the key file is readable by others than its owner.
fn warn_if_others_can_read(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "the secret key file is readable by others: run chmod 600 on it"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_creates_a_private_key_file_and_later_starts_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret.key");
        let first = SecretKey::load_or_create(&path).unwrap();
        let again = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(first.bytes(), again.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, "not hex").unwrap();
        let err = format!("{:#}", SecretKey::load_or_create(&path).unwrap_err());
        assert!(err.contains("HERALD_SECRET_KEY_FILE"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not hex");
    }

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_place() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(&dir.path().join("k")).unwrap();
        let other = SecretKey::load_or_create(&dir.path().join("other")).unwrap();
        let sealed = key.seal("xoxb-secret-token", "slack_apps.bot_token:1");
        assert!(sealed.starts_with("v1:") && !sealed.contains("xoxb"), "{sealed}");
        assert_ne!(sealed, key.seal("xoxb-secret-token", "slack_apps.bot_token:1"), "a fresh nonce each time");
        assert_eq!(key.open(&sealed, "slack_apps.bot_token:1").unwrap().expose_secret(), "xoxb-secret-token");
        assert!(key.open(&sealed, "slack_apps.bot_token:2").is_err(), "bound to its place");
        assert!(other.open(&sealed, "slack_apps.bot_token:1").is_err(), "bound to its key");
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(key.open(&tampered, "slack_apps.bot_token:1").is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }
}
