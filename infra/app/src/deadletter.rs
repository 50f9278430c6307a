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
