//! The key that encrypts secrets at rest: 32 random bytes, stored as hex in
//! `HERALD_SECRET_KEY_FILE`, generated on first start with mode 0600.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads the key file, or creates it when it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(text.trim()).with_context(|| {
                format!(
                    "HERALD_SECRET_KEY_FILE {}: expected 64 hex characters. Restore the file from your backup; \
                     without it, stored secrets cannot be read",
                    path.display()
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Self::create(path),
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
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        // create_new: two starts racing must not both write a key.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("HERALD_SECRET_KEY_FILE: cannot create {}", path.display()))?;
        file.write_all(hex::encode(key).as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        tracing::info!(path = %path.display(), "generated a new secret key; back it up with the database");
        Ok(SecretKey(key))
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
    fn debug_output_hides_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }
}
