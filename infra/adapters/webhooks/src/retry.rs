//! When to try a webhook delivery again, and how long to wait.
//!
//! Retried: timeouts, connection failures, HTTP 429 and 5xx. Not retried: every other status
//! (a 4xx says the request itself is refused; a 3xx is not followed, since a redirect could lead
//! anywhere) and a refused address (SSRF guard).
//!
//! The wait before try `n + 1` is exponential, `base_delay · 2^(n−1)` capped at `max_delay`, less a
//! random share of up to `jitter` (default 25 %) of it, so that many deliveries failing together do
//! not retry in lock-step. With `jitter ≤ 0.5` a later wait is never shorter than an earlier one
//! (full jitter, drawing from zero to the whole delay, could wait less on a later try, which is not
//! what a struggling receiver needs). A `Retry-After` header (seconds or an HTTP date), capped at
//! `max_retry_after`, lengthens the wait when it asks for more.

use std::hash::BuildHasher;
use std::time::{Duration, SystemTime};

/// Retry and timeout settings for deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_tries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Per request, connection included.
    pub timeout: Duration,
    /// The longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// Share of each wait drawn at random, 0 to 0.5.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_tries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            jitter: 0.25,
        }
    }
}

/// What an HTTP status means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Delivered,
    Retry,
    GiveUp,
}

pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Delivered,
        429 | 500..=599 => StatusClass::Retry,
        _ => StatusClass::GiveUp,
    }
}

/// A `Retry-After` value: delay seconds, or an HTTP date (IMF-fixdate, as RFC 9110 wants it sent)
/// measured from `now`. A date in the past is zero; anything unreadable is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs).or(Some(Duration::MAX));
    }
    let date = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl RetryPolicy {
    /// The wait after failed try number `tries` (1 for the first), before jitter.
    pub fn backoff(&self, tries: u32) -> Duration {
        let exponent = tries.saturating_sub(1).min(31);
        self.base_delay.saturating_mul(1u32 << exponent).min(self.max_delay)
    }

    /// The wait after failed try number `tries`: the backoff less `jitter · random` of it
    /// (`random` in [0, 1)), or the capped `Retry-After` when that is longer.
    pub fn delay(&self, tries: u32, retry_after: Option<Duration>, random: f64) -> Duration {
        let backoff = self.backoff(tries);
        let jittered = backoff.mul_f64(1.0 - self.jitter * random.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => jittered.max(asked.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// A number in [0, 1) from the standard library's per-instance random hash keys: plenty for jitter,
/// no extra dependency.
pub fn random_unit() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_429_and_5xx_are_retried_and_2xx_is_delivered() {
        assert_eq!(classify_status(200), StatusClass::Delivered);
        assert_eq!(classify_status(204), StatusClass::Delivered);
        for retried in [429, 500, 502, 503, 504, 599] {
            assert_eq!(classify_status(retried), StatusClass::Retry, "{retried}");
        }
        for refused in [301, 302, 400, 401, 403, 404, 408, 410, 413, 422] {
            assert_eq!(classify_status(refused), StatusClass::GiveUp, "{refused}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO), "past");
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::MAX), "huge is capped later");
        for bad in ["", "-5", "1.5", "soon", "06/11/1994"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn waits_grow_exponentially_up_to_the_cap_and_never_shrink_with_jitter() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        let backoffs: Vec<u128> = (1..=6).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(backoffs, [100, 200, 400, 800, 1000, 1000]);
        // The worst case for growth: the earlier wait without jitter, the later with the most.
        for n in 1..4 {
            let longest_earlier = policy.delay(n, None, 0.0);
            let shortest_later = policy.delay(n + 1, None, 0.999_999);
            assert!(shortest_later > longest_earlier, "try {n}: {shortest_later:?} vs {longest_earlier:?}");
        }
        let jittered = policy.delay(3, None, 0.5);
        assert_eq!(jittered, Duration::from_millis(350));
    }

    #[test]
    fn retry_after_lengthens_the_wait_but_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay(1, Some(Duration::from_secs(2)), 0.0), Duration::from_secs(2));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(3600)), 0.0), Duration::from_secs(5));
        assert_eq!(policy.delay(1, Some(Duration::MAX), 0.0), Duration::from_secs(5));
        assert_eq!(policy.delay(1, Some(Duration::ZERO), 0.0), Duration::from_millis(100), "never shorter");
    }

    #[test]
    fn random_units_lie_in_the_unit_interval_and_vary() {
        let draws: Vec<f64> = (0..100).map(|_| random_unit()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let distinct: std::collections::BTreeSet<u64> = draws.iter().map(|x| x.to_bits()).collect();
        assert!(distinct.len() > 90, "{}", distinct.len());
    }
}
