//! The registry sweep's watermarks in the webhook deliveries table: both are bookkeeping of registry
//! events, and the sweep runs where the webhook does. One item per model, keyed `delivery_id` =
//! `deltaone-sweep#<model>` (MLflow's delivery ids are UUIDs, so the two never meet), with
//! `watermark` (N, the version number) and `swept_at` (N, unix seconds). No `expires_at`: the table's
//! TTL never removes a watermark.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use deltaone::VersionNumber;
use deltaone_app::sweep::{WatermarkError, Watermarks};

const PREFIX: &str = "deltaone-sweep#";

/// Sweep watermarks in a DynamoDB table keyed by `delivery_id` (S).
pub struct DynamoWatermarks {
    client: Client,
    table: String,
}

impl DynamoWatermarks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn key(model: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([("delivery_id".to_owned(), AttributeValue::S(format!("{PREFIX}{model}")))])
    }

    fn sdk_error<E, R>(&self, operation: &str, err: SdkError<E, R>) -> WatermarkError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (message, retryable) = crate::dynamodb::dynamodb_failure(operation, &err);
        WatermarkError { store: self.describe(), message, retryable }
    }
}

#[async_trait]
impl Watermarks for DynamoWatermarks {
    async fn get(&self, model: &str) -> Result<Option<VersionNumber>, WatermarkError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(model)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error("GetItem", e))?;
        let Some(value) = got.item().and_then(|item| item.get("watermark")) else { return Ok(None) };
        let corrupt = |what: String| WatermarkError {
            store: self.describe(),
            message: format!("the watermark of {model} {what}"),
            retryable: false,
        };
        let text = value.as_n().map_err(|_| corrupt(format!("is not a number: {value:?}")))?;
        text.parse::<VersionNumber>().map(Some).map_err(|e| corrupt(format!("{text:?} is not a version: {e}")))
    }

    async fn advance(
        &self,
        model: &str,
        from: Option<VersionNumber>,
        to: VersionNumber,
    ) -> Result<bool, WatermarkError> {
        let mut item = Self::key(model);
        item.insert("watermark".into(), AttributeValue::N(to.to_string()));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        item.insert("swept_at".into(), AttributeValue::N(now.to_string()));
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        // Only from where this sweep read it: a concurrent sweep that moved it first wins.
        let put = match from {
            None => put.condition_expression("attribute_not_exists(delivery_id)"),
            Some(from) => put
                .condition_expression("watermark = :from")
                .expression_attribute_values(":from", AttributeValue::N(from.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    fn describe(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }
}
