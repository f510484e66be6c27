//! How the web app's files are named in `dist/`. `cargo xtask build` names
//! them and the server picks their cache lifetime by the same rule.

/// Hex digits of the content hash in a file name.
pub const HASH_LEN: usize = 16;

/// `app` + `0123456789abcdef` + `wasm` → `app-0123456789abcdef.wasm`.
pub fn hashed_name(stem: &str, hash: &str, extension: &str) -> String {
    format!("{stem}-{}.{extension}", &hash[..HASH_LEN])
}

/// Whether the last path segment is a content-hashed file (`name-<16 hex>.ext`,
/// also with a `.br`/`.gz` suffix): such a file never changes, so it may be
/// cached for a year.
pub fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((base, _extension)) = name.split_once('.') else { return false };
    let Some((stem, hash)) = base.rsplit_once('-') else { return false };
    !stem.is_empty() && hash.len() == HASH_LEN && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised_with_or_without_a_compression_suffix() {
        let name = hashed_name("app", "0123456789abcdef0123", "wasm");
        assert_eq!(name, "app-0123456789abcdef.wasm");
        assert!(is_hashed_name(&format!("/{name}")));
        assert!(is_hashed_name("/app-0123456789abcdef.js.br"));
    }

    #[test]
    fn plain_names_are_not_hashed() {
        for path in
            ["/index.html", "/herald-icon.png", "/app-0123.js", "/destinations/new", "/-0123456789abcdef.js", "/app-0123456789ABCDEF.js"]
        {
            assert!(!is_hashed_name(path), "{path}");
        }
    }
}
