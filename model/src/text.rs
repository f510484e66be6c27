//! Rules for text people type that are the same everywhere: what counts as
//! blank, and the one character no database Herald runs on can hold.

/// Text as received, less its NUL characters (U+0000): they show nothing,
/// and PostgreSQL cannot store them, so free text (an alert's, a comment)
/// is kept without them rather than refused.
pub fn without_nul(s: &str) -> String {
    s.replace('\0', "")
}

/// A control character (NUL, a tab, a line break…): never part of a name.
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Unicode's Default_Ignorable_Code_Point: characters that show nothing
/// (zero-width spaces and joiners, direction marks, variation selectors,
/// the byte-order mark, Hangul fillers, tags).
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Nothing a reader would see: empty, spaces, or characters that show nothing.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || is_default_ignorable(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_dropped_and_the_rest_kept() {
        assert_eq!(without_nul("a\0b\0\nc"), "ab\nc");
        assert!(has_control("a\0b") && has_control("a\tb") && !has_control("ä b"));
    }

    #[test]
    fn zero_width_characters_are_blank() {
        for blank in ["", "  ", "\u{200b}", "\u{200c}\u{200d}", "\u{2060}", "\u{feff}", " \u{200b} \u{3164}"] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for seen in ["a", "\u{200b}a", "é", "日本"] {
            assert!(!is_blank(seen), "{seen:?}");
        }
    }
}
