//! Webhook deliveries seen, for de-duplication: a sender retries a delivery under the same id, and a
//! validly signed request can be replayed within the signature tolerance, so a receiver runs each
//! delivery id at most once at a time and never again once it is done.
//!
//! [`WebhookDeliveries::begin`] claims a delivery id. It is `Fresh` (run it), `InProgress` (another
//! invocation is running it) or `Done`. A claim left `processing` for longer than
//! [`DEFAULT_TAKEOVER`] belongs to an invocation that died (the function's timeout is shorter), and
//! the next `begin` takes it over. [`WebhookDeliveries::finish`] marks a delivery done;
//! [`WebhookDeliveries::abandon`] forgets a claim after a failure that may pass, so that the sender's
//! retry runs it again.
//!
//! Adapters: `DynamoDeliveries` (production, in `deltaone-aws`) and [`MemoryDeliveries`] (one process, for tests and
//! local runs).
//!
//! DynamoDB table: partition key `delivery_id` (S); attributes `status` (`processing` | `done`),
//! `started_at` (N, unix seconds of the claim), `finished_at` (N, when done) and `expires_at` (N, unix
//! seconds; the table's TTL attribute, [`DEFAULT_RETENTION`] after the claim). An item past
//! `expires_at` that DynamoDB has not deleted yet counts as absent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

/// How long a finished delivery id is remembered (MLflow retries within seconds; 7 days is plenty).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a claim may stay `processing` before another invocation takes it over. Keep the
/// function's timeout below it.
pub const DEFAULT_TAKEOVER: Duration = Duration::from_secs(120);

/// What [`WebhookDeliveries::begin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// The delivery is now claimed by the caller: run it, then `finish` or `abandon` it.
    Fresh,
    /// Another invocation claimed it less than the takeover time ago and is running it.
    InProgress,
    /// It ran to the end before.
    Done,
}

#[derive(Debug, thiserror::Error)]
#[error("webhook deliveries {table}: {message}")]
pub struct DeliveryError {
    pub table: String,
    pub message: String,
    pub retryable: bool,
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

#[async_trait]
pub trait WebhookDeliveries: Send + Sync {
    /// Claims `delivery_id` unless it is done or claimed by a live invocation — atomically, so that
    /// of concurrent calls for one id exactly one gets [`Begin::Fresh`].
    async fn begin(&self, delivery_id: &str) -> Result<Begin, DeliveryError>;

    /// Marks a claimed delivery done: later `begin`s of the id answer [`Begin::Done`].
    async fn finish(&self, delivery_id: &str) -> Result<(), DeliveryError>;

    /// Forgets a claim (a failure that may pass), so that a retry of the delivery runs again. A
    /// delivery that is done is left alone.
    async fn abandon(&self, delivery_id: &str) -> Result<(), DeliveryError>;

    /// A short description for messages ("DynamoDB table t").
    fn describe(&self) -> String;
}

/// Delivery ids in memory: one process only (tests, local runs).
pub struct MemoryDeliveries {
    takeover: Duration,
    /// id → (done, claimed at)
    seen: Mutex<HashMap<String, (bool, std::time::Instant)>>,
}

impl Default for MemoryDeliveries {
    fn default() -> Self {
        Self { takeover: DEFAULT_TAKEOVER, seen: Mutex::new(HashMap::new()) }
    }
}

impl MemoryDeliveries {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_takeover(mut self, takeover: Duration) -> Self {
        self.takeover = takeover;
        self
    }

    /// How many delivery ids are remembered (claimed or done).
    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn poisoned(&self) -> DeliveryError {
        DeliveryError { table: self.describe(), message: "lock poisoned".into(), retryable: false }
    }
}

#[async_trait]
impl WebhookDeliveries for MemoryDeliveries {
    async fn begin(&self, delivery_id: &str) -> Result<Begin, DeliveryError> {
        let mut seen = self.seen.lock().map_err(|_| self.poisoned())?;
        let now = std::time::Instant::now();
        match seen.get(delivery_id) {
            Some((true, _)) => Ok(Begin::Done),
            Some((false, at)) if now.duration_since(*at) < self.takeover => Ok(Begin::InProgress),
            _ => {
                seen.insert(delivery_id.to_owned(), (false, now));
                Ok(Begin::Fresh)
            }
        }
    }

    async fn finish(&self, delivery_id: &str) -> Result<(), DeliveryError> {
        let mut seen = self.seen.lock().map_err(|_| self.poisoned())?;
        seen.insert(delivery_id.to_owned(), (true, std::time::Instant::now()));
        Ok(())
    }

    async fn abandon(&self, delivery_id: &str) -> Result<(), DeliveryError> {
        let mut seen = self.seen.lock().map_err(|_| self.poisoned())?;
        if matches!(seen.get(delivery_id), Some((false, _))) {
            seen.remove(delivery_id);
        }
        Ok(())
    }

    fn describe(&self) -> String {
        "in-memory deliveries".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_deliveries_claim_once_finish_and_abandon() {
        let d = MemoryDeliveries::new();
        assert_eq!(d.begin("a").await.unwrap(), Begin::Fresh);
        assert_eq!(d.begin("a").await.unwrap(), Begin::InProgress);
        d.abandon("a").await.unwrap();
        assert_eq!(d.begin("a").await.unwrap(), Begin::Fresh, "an abandoned delivery runs again");
        d.finish("a").await.unwrap();
        assert_eq!(d.begin("a").await.unwrap(), Begin::Done);
        d.abandon("a").await.unwrap();
        assert_eq!(d.begin("a").await.unwrap(), Begin::Done, "abandon leaves done deliveries alone");
        assert_eq!(d.len(), 1);
    }

    #[tokio::test]
    async fn memory_deliveries_take_over_stale_claims() {
        let d = MemoryDeliveries::new().with_takeover(Duration::ZERO);
        assert_eq!(d.begin("b").await.unwrap(), Begin::Fresh);
        assert_eq!(d.begin("b").await.unwrap(), Begin::Fresh);
    }
}
