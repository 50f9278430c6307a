//! Dead letters: an event that failed for good is parked, whole and with the reason, in an SQS
//! queue instead of being dropped. `deltaone dlq redrive` sends the originals back.

use async_trait::async_trait;
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

/// The body to send back to the function's input queue for a parked delivery: an SQS record's own
/// body (the S3 event or SNS notification it carried), otherwise the event as received (an S3 or
/// SNS event, which the function also reads from an SQS body).
pub fn redrive_body(letter: &DeadLetter) -> String {
    match letter.original.get("body").and_then(Value::as_str) {
        Some(body) if letter.original.get("eventSource").and_then(Value::as_str) == Some("aws:sqs") => body.to_owned(),
        _ => letter.original.to_string(),
    }
}

/// The in-memory twin of the dead-letter queue for tests: records parked letters, in order.
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    parked: std::sync::Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything parked so far.
    pub fn parked(&self) -> Vec<DeadLetter> {
        self.parked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl DeadLetters for MemoryDeadLetters {
    async fn park(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        self.parked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(letter.clone());
        Ok(())
    }
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

    #[tokio::test]
    async fn memory_dead_letters_keep_each_letter_whole_and_in_order() {
        let queue = MemoryDeadLetters::new();
        let (a, b) = (letter(json!({"n": 1})), letter(json!({"n": 2})));
        queue.park(&a).await.unwrap();
        queue.park(&b).await.unwrap();
        assert_eq!(queue.parked(), [a, b]);
    }
}
