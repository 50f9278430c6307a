//! How the job retries a call to AWS that may pass: three tries, 400 then 800 ms apart. The SDK's own
//! retries come first; these cover what outlasts them, a throttled burst or a brief outage.

use std::time::Duration;

/// Tries of an AWS call, in all.
pub(crate) const AWS_TRIES: u32 = 3;

/// The pauses between the tries of an AWS call: 400 then 800 ms (a `backon` backoff).
pub(crate) fn aws_pauses() -> impl Iterator<Item = Duration> + Send {
    (1..AWS_TRIES).map(|attempt| Duration::from_millis(200 << attempt))
}

/// The pauses between the tries of one ranged GET (`tries` in all): 200, then
/// 400 ms, ... — a body that broke off, or came back short, is usually whole on the next try.
pub(crate) fn ranged_get_pauses(tries: u32) -> impl Iterator<Item = Duration> + Send {
    (1..tries).map(|attempt| Duration::from_millis(100 << attempt))
}

/// The pauses between the sends of a BatchWriteItem whose items DynamoDB left unprocessed (or
/// that failed retryably), `tries` sends in all: 100 ms doubling, at most 3.2 s.
pub(crate) fn unprocessed_pauses(tries: u32) -> impl Iterator<Item = Duration> + Send {
    (1..tries).map(|attempt| Duration::from_millis(50u64 << attempt.min(6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedules_keep_their_pauses() {
        let ms = |pauses: &mut dyn Iterator<Item = Duration>| pauses.map(|d| d.as_millis()).collect::<Vec<_>>();
        assert_eq!(ms(&mut aws_pauses()), [400, 800]);
        assert_eq!(ms(&mut ranged_get_pauses(3)), [200, 400]);
        assert_eq!(ms(&mut unprocessed_pauses(8)), [100, 200, 400, 800, 1600, 3200, 3200]);
    }
}
