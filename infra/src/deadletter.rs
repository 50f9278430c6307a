//! Dead letters: an event that failed for good is parked, whole and with the reason, in an SQS
//! queue instead of being dropped. `deltaone dlq redrive` sends the originals back.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What is parked: the original delivery and why it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The function or job that gave up, e.g. `evaluation`.
    pub source: String,
    /// The error type, e.g. `InvalidArtifact`.
    pub error_type: String,
    /// The error message.
    pub reason: String,
    pub failed_at: String,
    /// The delivery exactly as received.
    pub original: Value,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot park a dead letter in {queue}: {message}")]
pub struct DeadLetterError {
    pub queue: String,
    pub message: String,
}

#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn park(&self, letter: &DeadLetter) -> Result<(), DeadLetterError>;
}

pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn park(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let body = serde_json::to_string(letter).expect("dead letters serialize");
        let attribute = |v: &str| {
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .expect("complete")
        };
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes("source", attribute(&letter.source))
            .message_attributes("error_type", attribute(&letter.error_type))
            .send()
            .await
            .map(drop)
            .map_err(|e| DeadLetterError {
                queue: self.queue_url.clone(),
                message: DisplayErrorContext(&e).to_string(),
            })
    }
}
