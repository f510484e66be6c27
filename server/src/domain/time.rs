//! Time as Herald keeps it: Unix milliseconds.

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
