//! Verdicts in DynamoDB.
//!
//! Table: partition key `model` (S), sort key `version` (N), so that "a model's verdicts, newest
//! first" is one Query with `ScanIndexForward = false`. Each item also carries `outcome`,
//! `achieved`, `delta_pp`, `baseline_version`, `metric`, `checked_at`, `written_back`, `notified` for readers
//! and filters, and `record`: the full [`VerdictRecord`] as JSON. A record is written with
//! `attribute_not_exists(model)`, so a repeated or concurrent check never makes a second item.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TransactWriteItem, Update,
};
use deltaone::VersionNumber;

use deltaone_app::store::{Chained, Recorded, Step, StoreError, VerdictRecord, VerdictStore};

/// The sort key of a model's chain-head item (real versions start at 1).
const CHAIN_HEAD_VERSION: &str = "0";

pub struct DynamoVerdictStore {
    client: Client,
    table: String,
}

impl DynamoVerdictStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn sdk_error<E, R>(&self, operation: &str, err: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (message, retryable) = crate::dynamodb::dynamodb_failure(operation, &err);
        StoreError::Backend { store: self.describe(), message, retryable }
    }

    fn key(model: &str, version: VersionNumber) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("model".to_owned(), AttributeValue::S(model.to_owned())),
            ("version".to_owned(), AttributeValue::N(version.to_string())),
        ])
    }

    /// The key of the model's chain-head item.
    fn head_key(model: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("model".to_owned(), AttributeValue::S(model.to_owned())),
            ("version".to_owned(), AttributeValue::N(CHAIN_HEAD_VERSION.to_owned())),
        ])
    }

    /// The item a record is stored as (also what tests seed tables with, so they match production).
    pub fn item(record: &VerdictRecord) -> Result<HashMap<String, AttributeValue>, serde_json::Error> {
        let v = &record.verdict;
        let mut item = Self::key(&record.model, record.version);
        item.insert("outcome".into(), AttributeValue::S(v.outcome.as_str().to_owned()));
        item.insert("achieved".into(), AttributeValue::Bool(v.achieved()));
        item.insert("checked_at".into(), AttributeValue::S(record.checked_at.clone()));
        item.insert("written_back".into(), AttributeValue::Bool(record.written_back));
        item.insert("notified".into(), AttributeValue::Bool(record.notified));
        if let Some(delta) = v.delta_pp {
            item.insert("delta_pp".into(), AttributeValue::S(delta.to_string()));
        }
        if let Some(b) = v.baseline_version {
            item.insert("baseline_version".into(), AttributeValue::N(b.to_string()));
        }
        if let Some(m) = &v.metric {
            item.insert("metric".into(), AttributeValue::S(m.clone()));
        }
        item.insert("record".into(), AttributeValue::S(serde_json::to_string(record)?));
        Ok(item)
    }

    fn encode(&self, record: &VerdictRecord) -> Result<HashMap<String, AttributeValue>, StoreError> {
        Self::item(record).map_err(|e| StoreError::Backend {
            store: self.describe(),
            message: format!("cannot encode the record: {e}"),
            retryable: false,
        })
    }

    /// The record an item holds.
    pub fn parse(&self, item: &HashMap<String, AttributeValue>) -> Result<VerdictRecord, StoreError> {
        let field = |name: &str| item.get(name);
        let model = field("model").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let version = field("version").and_then(|v| v.as_n().ok()).cloned().unwrap_or_default();
        let corrupt = |message: String| StoreError::Corrupt {
            store: self.describe(),
            model: model.clone(),
            version: version.clone(),
            message,
        };
        let json =
            field("record").and_then(|v| v.as_s().ok()).ok_or_else(|| corrupt("no `record` attribute".into()))?;
        let mut record: VerdictRecord = serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        // The step flags are updated in place; the attributes are the truth.
        if let Some(done) = field("written_back").and_then(|v| v.as_bool().ok()) {
            record.written_back = *done;
        }
        if let Some(done) = field("notified").and_then(|v| v.as_bool().ok()) {
            record.notified = *done;
        }
        Ok(record)
    }

    /// Creates the table (on-demand billing) unless it exists, and waits until it is active.
    pub async fn create_table_if_missing(&self) -> Result<bool, StoreError> {
        let keys = [("model", ScalarAttributeType::S), ("version", ScalarAttributeType::N)];
        crate::dynamodb::create_dynamodb_table(&self.client, &self.table, &keys)
            .await
            .map_err(|(message, retryable)| StoreError::Backend { store: self.describe(), message, retryable })
    }
}

#[async_trait]
impl VerdictStore for DynamoVerdictStore {
    async fn record(&self, record: &VerdictRecord) -> Result<Recorded, StoreError> {
        let item = self.encode(record)?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#model)")
            .expression_attribute_names("#model", "model")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Recorded::New),
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                let PutItemError::ConditionalCheckFailedException(failed) = service.into_err() else { unreachable!() };
                let existing = match failed.item() {
                    Some(item) => Some(self.parse(item)?),
                    None => self.get(&record.model, record.version).await?,
                };
                existing.map(|r| Recorded::Existing(Box::new(r))).ok_or_else(|| StoreError::Backend {
                    store: self.describe(),
                    message: format!("{} version {} exists but could not be read back", record.model, record.version),
                    retryable: true,
                })
            }
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    async fn replace(&self, record: &VerdictRecord, expected_checked_at: &str) -> Result<bool, StoreError> {
        let item = self.encode(record)?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("checked_at = :expected")
            .expression_attribute_values(":expected", AttributeValue::S(expected_checked_at.to_owned()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(self.sdk_error("PutItem", e)),
        }
    }

    async fn chain_head(&self, model: &str) -> Result<Option<String>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::head_key(model)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error("GetItem", e))?;
        Ok(got.item().and_then(|i| i.get("head_hash")).and_then(|v| v.as_s().ok()).cloned())
    }

    async fn write_chained(&self, record: &VerdictRecord, replacing: Option<&str>) -> Result<Chained, StoreError> {
        let Some(signed) = &record.attestation else {
            return Err(StoreError::Backend {
                store: self.describe(),
                message: "a chained write needs an attested record".into(),
                retryable: false,
            });
        };
        let mut put = Put::builder().table_name(&self.table).set_item(Some(self.encode(record)?));
        put = match replacing {
            None => {
                put.condition_expression("attribute_not_exists(#model)").expression_attribute_names("#model", "model")
            }
            Some(at) => put
                .condition_expression("checked_at = :expected")
                .expression_attribute_values(":expected", AttributeValue::S(at.to_owned())),
        };
        let mut head = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::head_key(&record.model)))
            .update_expression("SET head_hash = :new, head_version = :version")
            .expression_attribute_values(":new", AttributeValue::S(signed.statement.hash()))
            .expression_attribute_values(":version", AttributeValue::N(record.version.to_string()));
        head = match &signed.statement.previous_hash {
            None => head.condition_expression("attribute_not_exists(head_hash)"),
            Some(previous) => head
                .condition_expression("head_hash = :previous")
                .expression_attribute_values(":previous", AttributeValue::S(previous.clone())),
        };
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend {
            store: self.describe(),
            message: e.to_string(),
            retryable: false,
        };
        let sent = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put.build().map_err(build)?).build())
            .transact_items(TransactWriteItem::builder().update(head.build().map_err(build)?).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Chained::Written),
            Err(e) => {
                let reasons: Vec<Option<String>> = e
                    .as_service_error()
                    .filter(|s| s.is_transaction_canceled_exception())
                    .map(|s| match s {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
                        }
                        _ => Vec::new(),
                    })
                    .unwrap_or_default();
                let failed = |i: usize| reasons.get(i).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed");
                if failed(0) {
                    Ok(Chained::SlotTaken)
                } else if failed(1) {
                    Ok(Chained::HeadMoved)
                } else {
                    Err(self.sdk_error("TransactWriteItems", e))
                }
            }
        }
    }

    async fn mark(&self, model: &str, version: VersionNumber, step: Step) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(model, version)))
            .update_expression(format!("SET {} = :done", step.attribute()))
            .condition_expression("attribute_exists(#model)")
            .expression_attribute_names("#model", "model")
            .expression_attribute_values(":done", AttributeValue::Bool(true))
            .send()
            .await
            .map(drop)
            .map_err(|e| self.sdk_error("UpdateItem", e))
    }

    async fn get(&self, model: &str, version: VersionNumber) -> Result<Option<VerdictRecord>, StoreError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(model, version)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error("GetItem", e))?;
        got.item().map(|item| self.parse(item)).transpose()
    }

    async fn history(&self, model: &str, limit: usize) -> Result<Vec<VerdictRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        while records.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#model = :model AND version > :head")
                .expression_attribute_names("#model", "model")
                .expression_attribute_values(":model", AttributeValue::S(model.to_owned()))
                .expression_attribute_values(":head", AttributeValue::N(CHAIN_HEAD_VERSION.to_owned()))
                .scan_index_forward(false)
                .limit(i32::try_from(limit - records.len()).unwrap_or(i32::MAX).min(1000))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.sdk_error("Query", e))?;
            for item in page.items() {
                records.push(self.parse(item)?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
    }

    fn describe(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }
}
