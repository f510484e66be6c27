//! Time as Herald keeps it: Unix milliseconds.

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `base · 2^(attempt-1)`, at most `max`, ±25 % jitter so that many
/// things failing together do not try again together.
pub fn backoff(base: std::time::Duration, attempt: u32, max: std::time::Duration) -> std::time::Duration {
    let exponential = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(max);
    let mut random = [0u8; 2];
    getrandom::fill(&mut random).expect("the system random source");
    let jitter = 0.75 + f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX) * 0.5;
    exponential.mul_f64(jitter)
}
