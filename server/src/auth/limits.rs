//! Sign-in attempts are limited per account and per IP address, so
//! passwords cannot be guessed quickly. Limits are per server process.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts at one account from one address: 5 at once, then one every 12 s.
const PER_ACCOUNT_AND_IP: (u32, Duration) = (5, Duration::from_secs(12));
/// Attempts at one account from anywhere: looser, so that one stranger
/// cannot lock a colleague out, yet a botnet cannot guess freely.
const PER_ACCOUNT: (u32, Duration) = (30, Duration::from_secs(4));
/// Attempts from one address at any accounts: 30 at once, then one every 2 s.
const PER_IP: (u32, Duration) = (30, Duration::from_secs(2));

pub struct SignInLimits {
    by_account_and_ip: DefaultKeyedRateLimiter<(String, IpAddr)>,
    by_account: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn quota((burst, period): (u32, Duration)) -> Quota {
    Quota::with_period(period).expect("a non-zero period").allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"))
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            by_account_and_ip: RateLimiter::keyed(quota(PER_ACCOUNT_AND_IP)),
            by_account: RateLimiter::keyed(quota(PER_ACCOUNT)),
            by_ip: RateLimiter::keyed(quota(PER_IP)),
            clock: DefaultClock::default(),
        }
    }
}

impl SignInLimits {
    /// Counts one attempt; `Err` says how long to wait. Unknown accounts
    /// are limited exactly like known ones, so limits reveal nothing.
    pub fn check(&self, account_key: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        let ip = network_of(ip);
        let results = [
            self.by_ip.check_key(&ip).err(),
            self.by_account_and_ip.check_key(&(account_key.to_owned(), ip)).err(),
            self.by_account.check_key(&account_key.to_owned()).err(),
        ];
        let wait = results.into_iter().flatten().map(|n| n.wait_time_from(now)).max();
        // Memory stays bounded under a spray of made-up accounts.
        if self.by_account.len() > 10_000 {
            self.by_account.retain_recent();
            self.by_account_and_ip.retain_recent();
        }
        if self.by_ip.len() > 10_000 {
            self.by_ip.retain_recent();
        }
        match wait {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
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
    fn an_account_gets_five_quick_attempts_then_must_wait() {
        let limits = SignInLimits::default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..5 {
            assert!(limits.check("ana@acme.example", ip).is_ok());
        }
        let wait = limits.check("ana@acme.example", ip).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= PER_ACCOUNT_AND_IP.1, "{wait:?}");
        assert!(limits.check("raj@acme.example", ip).is_ok(), "other accounts are not affected");
        assert!(limits.check("ana@acme.example", IpAddr::from([127, 0, 0, 2])).is_ok(), "nor Ana from her own desk");
    }

    #[test]
    fn many_addresses_cannot_guess_one_account_freely() {
        let limits = SignInLimits::default();
        for i in 0..PER_ACCOUNT.0 {
            assert!(limits.check("ana@acme.example", IpAddr::from([10, 1, 0, i as u8])).is_ok());
        }
        assert!(limits.check("ana@acme.example", IpAddr::from([10, 2, 0, 1])).is_err());
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let limits = SignInLimits::default();
        let ip = IpAddr::from([10, 0, 0, 7]);
        for i in 0..PER_IP.0 {
            assert!(limits.check(&format!("user{i}@acme.example"), ip).is_ok());
        }
        assert!(limits.check("one-more@acme.example", ip).is_err());
        assert!(limits.check("one-more@acme.example", IpAddr::from([10, 0, 0, 8])).is_ok());
    }
}
