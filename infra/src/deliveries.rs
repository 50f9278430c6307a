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
//! Adapters: [`DynamoDeliveries`] (production) and [`MemoryDeliveries`] (one process, for tests and
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
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
};
use time::OffsetDateTime;

/// How long a finished delivery id is remembered (MLflow retries within seconds; 7 days is plenty).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a claim may stay `processing` before another invocation takes it over. Keep the
/// function's timeout below it.
pub const DEFAULT_TAKEOVER: Duration = Duration::from_secs(120);

const PROCESSING: &str = "processing";
const DONE: &str = "done";

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

fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Delivery ids in a DynamoDB table (see the module documentation for its schema).
pub struct DynamoDeliveries {
    client: Client,
    table: String,
    retention: Duration,
    takeover: Duration,
}

impl DynamoDeliveries {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), retention: DEFAULT_RETENTION, takeover: DEFAULT_TAKEOVER }
    }

    /// How long claims may stay `processing` before they are taken over.
    pub fn with_takeover(mut self, takeover: Duration) -> Self {
        self.takeover = takeover;
        self
    }

    /// How long delivery ids are remembered (the TTL written to `expires_at`).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn sdk_error<E, R>(&self, operation: &str, err: SdkError<E, R>) -> DeliveryError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (message, retryable) = crate::aws::dynamodb_failure(operation, &err);
        DeliveryError { table: self.table.clone(), message, retryable }
    }

    fn key(delivery_id: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([("delivery_id".to_owned(), AttributeValue::S(delivery_id.to_owned()))])
    }

    /// What an existing item says, read back after a failed claim.
    fn state_of(item: &HashMap<String, AttributeValue>) -> Begin {
        match item.get("status").and_then(|v| v.as_s().ok()).map(String::as_str) {
            Some(DONE) => Begin::Done,
            _ => Begin::InProgress,
        }
    }

    /// One claim attempt; `None` when the item vanished between the failed claim and the read.
    async fn try_begin(&self, delivery_id: &str) -> Result<Option<Begin>, DeliveryError> {
        let now = now_unix();
        let mut item = Self::key(delivery_id);
        item.insert("status".into(), AttributeValue::S(PROCESSING.into()));
        item.insert("started_at".into(), AttributeValue::N(now.to_string()));
        item.insert("expires_at".into(), AttributeValue::N(now.saturating_add(secs(self.retention)).to_string()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(delivery_id) OR expires_at < :now \
                 OR (#status = :processing AND started_at < :stale)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":processing", AttributeValue::S(PROCESSING.into()))
            .expression_attribute_values(
                ":stale",
                AttributeValue::N(now.saturating_sub(secs(self.takeover)).to_string()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Some(Begin::Fresh)),
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                let PutItemError::ConditionalCheckFailedException(failed) = service.into_err() else { unreachable!() };
                if let Some(item) = failed.item().filter(|item| !item.is_empty()) {
                    return Ok(Some(Self::state_of(item)));
                }
                // Emulators may not return the old item; read it.
                let got = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(delivery_id)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| self.sdk_error("GetItem", e))?;
                Ok(got.item().map(Self::state_of))
            }
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    /// Creates the table (on-demand billing, TTL on `expires_at`) unless it exists, and waits until
    /// it is active. `true` when this call created it.
    pub async fn create_table_if_missing(&self) -> Result<bool, DeliveryError> {
        let keys = [("delivery_id", ScalarAttributeType::S)];
        let created = crate::aws::create_dynamodb_table(&self.client, &self.table, &keys)
            .await
            .map_err(|(message, retryable)| DeliveryError { table: self.table.clone(), message, retryable })?;
        if created {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .expect("complete");
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| self.sdk_error("UpdateTimeToLive", e))?;
        }
        Ok(created)
    }
}

#[async_trait]
impl WebhookDeliveries for DynamoDeliveries {
    async fn begin(&self, delivery_id: &str) -> Result<Begin, DeliveryError> {
        // A claim that is abandoned between the failed put and the read is claimed again.
        for _ in 0..3 {
            if let Some(found) = self.try_begin(delivery_id).await? {
                return Ok(found);
            }
        }
        Err(DeliveryError {
            table: self.table.clone(),
            message: format!("delivery {delivery_id} keeps changing under concurrent claims"),
            retryable: true,
        })
    }

    async fn finish(&self, delivery_id: &str) -> Result<(), DeliveryError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(delivery_id)))
            .update_expression("SET #status = :done, finished_at = :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", AttributeValue::S(DONE.into()))
            .expression_attribute_values(":now", AttributeValue::N(now_unix().to_string()))
            .send()
            .await
            .map(drop)
            .map_err(|e| self.sdk_error("UpdateItem", e))
    }

    async fn abandon(&self, delivery_id: &str) -> Result<(), DeliveryError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(delivery_id)))
            .condition_expression("#status = :processing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":processing", AttributeValue::S(PROCESSING.into()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // Gone already, or done: nothing to forget.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(self.sdk_error("DeleteItem", e)),
        }
    }

    fn describe(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }
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
