//! Sign-in attempts are limited per account and per IP address, so
//! passwords cannot be guessed quickly. Only *failed* attempts count: a
//! colleague signing in often spends nothing. The limit on an account from
//! one address decides first; an address held back by others' failures
//! (one office, one NAT) still lets a correct password through. Limits are
//! per server process.
//!
//! Each limit is a GCRA schedule of failures. (Rate-limiter crates spend a
//! cell to answer "may I?"; here the question comes before the password is
//! checked and only a failure may spend.)

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures at one account from one address: 5 at once, then one every 12 s.
const PER_ACCOUNT_AND_IP: (u32, Duration) = (5, Duration::from_secs(12));
/// Failures at one account from anywhere: looser, so that one stranger
/// cannot lock a colleague out, yet a botnet cannot guess freely.
const PER_ACCOUNT: (u32, Duration) = (30, Duration::from_secs(4));
/// Failures from one address at any accounts: 30 at once, then one every 2 s.
const PER_IP: (u32, Duration) = (30, Duration::from_secs(2));

/// Failures per key: when the schedule is `burst` failures ahead of now,
/// the key waits.
struct Failures<K> {
    burst: u32,
    period: Duration,
    ahead: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn new((burst, period): (u32, Duration)) -> Self {
        Failures { burst, period, ahead: Mutex::new(HashMap::new()) }
    }

    /// How long `key` must wait before its next attempt, if at all.
    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let ahead = self.ahead.lock().expect("the limiter's lock");
        let tat = *ahead.get(key)?;
        let allowance = self.period * (self.burst - 1);
        tat.checked_duration_since(now).and_then(|d| d.checked_sub(allowance)).filter(|w| !w.is_zero())
    }

    fn failed(&self, key: &K, now: Instant) {
        let mut ahead = self.ahead.lock().expect("the limiter's lock");
        // Memory stays bounded under a spray of made-up accounts.
        if ahead.len() > 10_000 {
            ahead.retain(|_, tat| *tat > now);
        }
        let tat = ahead.entry(key.clone()).or_insert(now);
        *tat = (*tat).max(now) + self.period;
    }
}

pub struct SignInLimits {
    by_account_and_ip: Failures<(String, IpAddr)>,
    by_account: Failures<String>,
    by_ip: Failures<IpAddr>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            by_account_and_ip: Failures::new(PER_ACCOUNT_AND_IP),
            by_account: Failures::new(PER_ACCOUNT),
            by_ip: Failures::new(PER_IP),
        }
    }
}

impl SignInLimits {
    /// Before the password is checked: `Err` (how long to wait) when this
    /// account has failed too often, from this address or from anywhere.
    /// Unknown accounts are limited exactly like known ones, so limits
    /// reveal nothing.
    pub fn may_try(&self, account_key: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let pair = (account_key.to_owned(), network_of(ip));
        let wait = [self.by_account_and_ip.wait(&pair, now), self.by_account.wait(&account_key.to_owned(), now)];
        match wait.into_iter().flatten().max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Whether the address as a whole is held back (by failures at any
    /// accounts): only a correct password gets through it.
    pub fn address_wait(&self, ip: IpAddr) -> Option<Duration> {
        self.by_ip.wait(&network_of(ip), Instant::now())
    }

    /// A wrong password (or an unknown account): counts against all three.
    pub fn failed(&self, account_key: &str, ip: IpAddr) {
        let now = Instant::now();
        let ip = network_of(ip);
        self.by_account_and_ip.failed(&(account_key.to_owned(), ip), now);
        self.by_account.failed(&account_key.to_owned(), now);
        self.by_ip.failed(&ip, now);
    }
}

/// One IPv6 host usually holds a whole /64: it counts as one address.
fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::from(segments)
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_fails_five_times_quickly_then_must_wait() {
        let limits = SignInLimits::default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..5 {
            assert!(limits.may_try("ana@acme.example", ip).is_ok());
            limits.failed("ana@acme.example", ip);
        }
        let wait = limits.may_try("ana@acme.example", ip).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= PER_ACCOUNT_AND_IP.1, "{wait:?}");
        assert!(limits.may_try("raj@acme.example", ip).is_ok(), "other accounts are not affected");
        assert!(limits.may_try("ana@acme.example", IpAddr::from([127, 0, 0, 2])).is_ok(), "nor Ana from her own desk");
    }

    #[test]
    fn attempts_that_do_not_fail_spend_nothing() {
        let limits = SignInLimits::default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..100 {
            assert!(limits.may_try("ana@acme.example", ip).is_ok());
        }
        assert_eq!(limits.address_wait(ip), None);
    }

    #[test]
    fn many_addresses_cannot_guess_one_account_freely() {
        let limits = SignInLimits::default();
        for i in 0..PER_ACCOUNT.0 {
            limits.failed("ana@acme.example", IpAddr::from([10, 1, 0, i as u8]));
        }
        assert!(limits.may_try("ana@acme.example", IpAddr::from([10, 2, 0, 1])).is_err());
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
    }

    #[test]
    fn one_address_spraying_many_accounts_is_held_back_but_a_right_password_is_not() {
        let limits = SignInLimits::default();
        let ip = IpAddr::from([10, 0, 0, 7]);
        for i in 0..PER_IP.0 {
            limits.failed(&format!("user{i}@acme.example"), ip);
        }
        assert!(limits.address_wait(ip).is_some(), "the address is held back");
        assert!(limits.may_try("ana@acme.example", ip).is_ok(), "yet Ana may try her password from it");
        assert_eq!(limits.address_wait(IpAddr::from([10, 0, 0, 8])), None);
    }
}
