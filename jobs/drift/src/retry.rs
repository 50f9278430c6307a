//! How the job retries a call to AWS that may pass: three tries, 400 then 800 ms apart. The SDK's own
//! retries come first; these cover what outlasts them, a throttled burst or a brief outage.

use std::time::Duration;

/// Tries of an AWS call, in all.
pub(crate) const AWS_TRIES: u32 = 3;

/// The pauses between the tries of an AWS call: 400 then 800 ms (a `backon` backoff).
pub(crate) fn aws_pauses() -> impl Iterator<Item = Duration> + Send {
    (1..AWS_TRIES).map(|attempt| Duration::from_millis(200 << attempt))
}
