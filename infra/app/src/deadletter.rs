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

/// Anything parked in a dead-letter queue: its JSON body, and the message attributes the queue
/// is filtered on without reading bodies.
pub trait Letter: Serialize + Send + Sync {
    /// The message attributes, name and value.
    fn attributes(&self) -> Vec<(&'static str, &str)>;
}

impl Letter for DeadLetter {
    fn attributes(&self) -> Vec<(&'static str, &str)> {
        vec![("source", &self.source), ("error_type", &self.error_type)]
    }
}

/// Where events that failed for good are parked: a [`DeadLetter`] by default, or another
/// [`Letter`] (the webhook notifier parks the delivery that an endpoint did not take).
#[async_trait]
pub trait DeadLetters<L: Letter = DeadLetter>: Send + Sync {
    async fn park(&self, letter: &L) -> Result<(), DeadLetterError>;
}

/// A letter taken out of the queue and held (invisible to others) while a redrive looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLetter {
    /// The queue's id of the message: the same each time it is received.
    pub id: String,
    /// What deletes or releases this receipt of it.
    pub handle: String,
    pub body: Option<String>,
}

/// The dead-letter queue as a redrive reads it: receive and hold, delete once handled, release
/// what stays.
#[async_trait]
pub trait HeldLetters: Send + Sync {
    /// Up to ten letters, each held for `hold_secs`; none when the queue is empty.
    async fn receive(&self, hold_secs: i32) -> Result<Vec<HeldLetter>, DeadLetterError>;
    async fn delete(&self, handle: &str) -> Result<(), DeadLetterError>;
    /// Visible to others again right away.
    async fn release(&self, handle: &str) -> Result<(), DeadLetterError>;
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

/// The in-memory twin of the dead-letter queue for tests: records parked letters, in order; can be
/// switched to refuse them, like a queue that cannot be reached.
#[derive(Debug)]
pub struct MemoryDeadLetters<L = DeadLetter> {
    parked: std::sync::Mutex<Vec<L>>,
    refusing: std::sync::atomic::AtomicBool,
}

impl<L> Default for MemoryDeadLetters<L> {
    fn default() -> Self {
        Self { parked: std::sync::Mutex::new(Vec::new()), refusing: std::sync::atomic::AtomicBool::new(false) }
    }
}

impl<L: Clone> MemoryDeadLetters<L> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything parked so far.
    pub fn parked(&self) -> Vec<L> {
        self.parked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// From now on every park fails (`true`) or succeeds again (`false`).
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl<L: Letter + Clone> DeadLetters<L> for MemoryDeadLetters<L> {
    async fn park(&self, letter: &L) -> Result<(), DeadLetterError> {
        if self.refusing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeadLetterError { queue: "memory".into(), message: "the queue refuses letters".into() });
        }
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

    #[tokio::test]
    async fn a_refusing_memory_queue_fails_to_park_and_keeps_nothing() {
        let queue = MemoryDeadLetters::new();
        queue.refuse(true);
        assert!(queue.park(&letter(json!({"n": 1}))).await.is_err());
        assert!(queue.parked().is_empty());
        queue.refuse(false);
        queue.park(&letter(json!({"n": 2}))).await.unwrap();
        assert_eq!(queue.parked().len(), 1);
    }

    #[test]
    fn dead_letters_are_filtered_on_their_source_and_error_type() {
        assert_eq!(letter(json!({})).attributes(), [("source", "evaluation"), ("error_type", "Retryable")]);
    }
}
