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

/// The body to send back to the function's input queue for a parked delivery: an SQS record's own
/// body (the S3 event or SNS notification it carried), otherwise the event as received (an S3 or
/// SNS event, which the function also reads from an SQS body).
pub fn redrive_body(letter: &DeadLetter) -> String {
    match letter.original.get("body").and_then(Value::as_str) {
        Some(body) if letter.original.get("eventSource").and_then(Value::as_str) == Some("aws:sqs") => body.to_owned(),
        _ => letter.original.to_string(),
    }
}

/// What a redrive did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Redriven {
    pub moved: usize,
    /// Messages that are not dead letters of the requested source; left in the queue untouched.
    pub skipped: usize,
}

/// Moves up to `max` dead letters of `source` (e.g. `evaluation`) from `dlq_url` back to `to_url`
/// (each sent, then deleted: a crash in between duplicates a delivery, which the exactly-once checks
/// absorb, and never loses one). Letters of other sources stay in the queue.
pub async fn redrive(
    client: &Client,
    dlq_url: &str,
    to_url: &str,
    source: &str,
    max: usize,
) -> Result<Redriven, DeadLetterError> {
    let failed = |e: String| DeadLetterError { queue: dlq_url.to_owned(), message: e };
    let mut done = Redriven::default();
    while done.moved + done.skipped < max {
        let batch = client
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        let messages = batch.messages();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let letter: Option<DeadLetter> = message.body().and_then(|b| serde_json::from_str(b).ok());
            let Some(letter) = letter.filter(|l| l.source == source) else {
                done.skipped += 1;
                continue;
            };
            client
                .send_message()
                .queue_url(to_url)
                .message_body(redrive_body(&letter))
                .send()
                .await
                .map_err(|e| failed(format!("sending to {to_url}: {}", DisplayErrorContext(&e))))?;
            if let Some(handle) = message.receipt_handle() {
                client
                    .delete_message()
                    .queue_url(dlq_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
            }
            done.moved += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn letter(original: Value) -> DeadLetter {
        DeadLetter {
            source: "evaluation".into(),
            error_type: "Retryable".into(),
            reason: "r".into(),
            failed_at: "t".into(),
            original,
        }
    }

    #[test]
    fn sqs_records_are_redriven_as_their_body_and_other_events_whole() {
        let sqs = letter(json!({"eventSource": "aws:sqs", "messageId": "m", "body": "{\"Records\": []}"}));
        assert_eq!(redrive_body(&sqs), "{\"Records\": []}");
        let direct = letter(json!({"Records": [{"eventSource": "aws:s3"}]}));
        assert_eq!(redrive_body(&direct), direct.original.to_string());
    }
}
