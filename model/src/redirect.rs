//! Where the app may send someone after signing in: only a path on this
//! site, never another site, however the link was crafted.

/// `next` when it is a plain local path (`/destinations/new?x=1`); `None`
/// for anything that could leave the site: `//evil.example`, `/\evil`,
/// `/%09/evil` once decoded (browsers drop tabs and newlines in URLs),
/// other schemes, or the sign-in page itself.
pub fn local_path(next: &str) -> Option<&str> {
    let plain = next.starts_with('/') && !next.starts_with("//") && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    (plain && !next.starts_with("/sign-in")).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass() {
        for path in ["/destinations", "/destinations/new?step=2", "/alerts/b90c19e6#history"] {
            assert_eq!(local_path(path), Some(path));
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for next in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/ /evil",
            "/sign-in?next=/x",
        ] {
            assert_eq!(local_path(next), None, "{next:?}");
        }
    }
}
