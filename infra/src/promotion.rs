//! Serialising DeltaOne's alias promotions per model.
//!
//! MLflow has no compare-and-set on aliases, so two checks that both achieve could both move
//! `champion`, the later silently overwriting the better one. Each promotion therefore holds a lock
//! per model — a conditional DynamoDB write in the verdict table — while it re-reads the alias and
//! moves it (see [`deltaone::promotion`]). The lock lives under its own partition key
//! (`{model}#promotion`), so verdict queries of the model never see it; it expires, so a holder that
//! died releases it after [`LOCK_TTL`].

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

/// How long a lock is valid without being released: longer than any promotion takes.
pub const LOCK_TTL: Duration = Duration::from_secs(60);

/// How long a check waits for another check's promotion of the same model.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("promotion lock in {table}: {message}")]
pub struct LockError {
    pub table: String,
    pub message: String,
    pub retryable: bool,
}

/// A per-model mutual exclusion across processes.
#[async_trait]
pub trait PromotionLock: Send + Sync {
    /// Takes the model's lock for `holder`; `false` when another holder has it.
    async fn try_acquire(&self, model: &str, holder: &str) -> Result<bool, LockError>;
    /// Gives the lock back if `holder` still has it.
    async fn release(&self, model: &str, holder: &str) -> Result<(), LockError>;
}

/// The lock as an item of the verdict table.
pub struct DynamoPromotionLock {
    client: Client,
    table: String,
}

impl DynamoPromotionLock {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn key(model: &str) -> [(&'static str, AttributeValue); 2] {
        [("model", AttributeValue::S(format!("{model}#promotion"))), ("version", AttributeValue::N("0".into()))]
    }

    fn error<E: std::error::Error + 'static, R: std::fmt::Debug>(&self, op: &str, e: SdkError<E, R>) -> LockError {
        let retryable =
            matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_));
        LockError { table: self.table.clone(), message: format!("{op}: {}", DisplayErrorContext(e)), retryable }
    }
}

#[async_trait]
impl PromotionLock for DynamoPromotionLock {
    async fn try_acquire(&self, model: &str, holder: &str) -> Result<bool, LockError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut put = self.client.put_item().table_name(&self.table);
        for (k, v) in Self::key(model) {
            put = put.item(k, v);
        }
        let put = put
            .item("holder", AttributeValue::S(holder.to_owned()))
            .item("expires_at", AttributeValue::N((now + LOCK_TTL.as_secs() as i64).to_string()))
            // Free, or left behind by a holder that died.
            .condition_expression("attribute_not_exists(#model) OR #exp < :now")
            .expression_attribute_names("#model", "model")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(s)) if matches!(s.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                Ok(false)
            }
            Err(e) => Err(self.error("PutItem", e)),
        }
    }

    async fn release(&self, model: &str, holder: &str) -> Result<(), LockError> {
        let mut delete = self.client.delete_item().table_name(&self.table);
        for (k, v) in Self::key(model) {
            delete = delete.key(k, v);
        }
        let delete = delete
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", AttributeValue::S(holder.to_owned()))
            .send()
            .await;
        match delete {
            Ok(_) => Ok(()),
            // Expired and taken over: nothing of ours to release.
            Err(SdkError::ServiceError(s))
                if matches!(s.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(self.error("DeleteItem", e)),
        }
    }
}

/// The lock of a checker that only decides (`--dry-run`): it compares with the champion but never
/// promotes, so taking the lock is an error that cannot happen in use.
pub struct DecideOnly;

#[async_trait]
impl PromotionLock for DecideOnly {
    async fn try_acquire(&self, model: &str, _holder: &str) -> Result<bool, LockError> {
        Err(LockError {
            table: String::new(),
            message: format!("a deciding-only check never promotes {model}"),
            retryable: false,
        })
    }

    async fn release(&self, _model: &str, _holder: &str) -> Result<(), LockError> {
        Ok(())
    }
}

/// Takes the lock, waiting (with growing pauses) up to [`LOCK_WAIT`] for another holder.
pub async fn acquire(lock: &dyn PromotionLock, model: &str, holder: &str) -> Result<(), LockError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        if lock.try_acquire(model, holder).await? {
            return Ok(());
        }
        if started.elapsed() > LOCK_WAIT {
            return Err(LockError {
                table: String::new(),
                message: format!("another check kept the promotion lock of {model} for over {LOCK_WAIT:?}"),
                retryable: true,
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}
