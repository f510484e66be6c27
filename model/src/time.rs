//! Showing the times the API sends (RFC 3339, UTC) to people.

/// `2026-11-29T10:29:17Z` → `2026-11-29 10:29 UTC`. Anything else is shown
/// as it came.
pub fn short_utc(rfc3339: &str) -> String {
    let looks_right = rfc3339.len() >= 16 && rfc3339.is_char_boundary(16) && rfc3339.as_bytes()[10] == b'T' && rfc3339.ends_with('Z');
    if !looks_right {
        return rfc3339.to_owned();
    }
    format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_shown_to_the_minute() {
        assert_eq!(short_utc("2026-11-29T10:29:17Z"), "2026-11-29 10:29 UTC");
        assert_eq!(short_utc("2026-11-29T10:29:17.215Z"), "2026-11-29 10:29 UTC");
        assert_eq!(short_utc("yesterday"), "yesterday");
        assert_eq!(short_utc("2026-11-29T10:29:17+01:00"), "2026-11-29T10:29:17+01:00");
    }
}
