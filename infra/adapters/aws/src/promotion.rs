//! The promotion lock as an item of the verdict table.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use deltaone_app::promotion::{LOCK_TTL, LockError, PromotionLock};

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
