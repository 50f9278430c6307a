//! The webhook deliveries port over DynamoDB (see `deltaone_app::deliveries` for the table's layout).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
};
use deltaone_app::deliveries::{Begin, DEFAULT_RETENTION, DEFAULT_TAKEOVER, DeliveryError, WebhookDeliveries};
use time::OffsetDateTime;

const PROCESSING: &str = "processing";
const DONE: &str = "done";

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
        let (message, retryable) = crate::dynamodb::dynamodb_failure(operation, &err);
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
        let created = crate::dynamodb::create_dynamodb_table(&self.client, &self.table, &keys)
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
