//! Checks handed to a worker through a durable queue. A receiver that must answer fast (the registry
//! webhook answers inside MLflow's 30-second request, and a slow answer turns into MLflow's retries
//! and, after three, a lost event) verifies and records the delivery, queues the check and answers in
//! milliseconds; the worker runs it with the queue's retries, partial-batch failures and a dead-letter
//! queue, as the S3 path does.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use deltaone::VersionNumber;
use serde::{Deserialize, Serialize};

/// One queued check: the version to check and the delivery it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedCheck {
    pub model: String,
    pub version: VersionNumber,
    /// The tag whose setting triggered it (`model_version_tag.set`); `None` for a new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The delivery's id and event, for logs and dead letters.
    pub delivery_id: String,
    pub event: String,
    pub queued_at: String,
}

/// A queue message's body: the check under one key, so that a worker tells it from anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckMessage {
    pub deltaone_check: QueuedCheck,
}

impl QueuedCheck {
    /// The message body.
    pub fn to_body(&self) -> String {
        serde_json::to_string(&CheckMessage { deltaone_check: self.clone() }).expect("a queued check serializes")
    }

    /// A message body back; the error names what is wrong with it.
    pub fn from_body(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<CheckMessage>(body).map(|m| m.deltaone_check)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot queue the check in {queue}: {message}")]
pub struct QueueError {
    pub queue: String,
    pub message: String,
    pub retryable: bool,
}

/// Where checks are queued.
#[async_trait]
pub trait CheckQueue: Send + Sync {
    async fn enqueue(&self, check: &QueuedCheck) -> Result<(), QueueError>;

    /// A short description for messages (the queue's URL).
    fn describe(&self) -> String;
}

/// The in-memory twin: keeps what was queued, in order; can be switched to refuse.
#[derive(Debug, Default)]
pub struct MemoryCheckQueue {
    queued: Mutex<Vec<QueuedCheck>>,
    refusing: AtomicBool,
}

impl MemoryCheckQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything queued so far (and still there).
    pub fn queued(&self) -> Vec<QueuedCheck> {
        self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Takes every queued check out, as a worker's receive does.
    pub fn take(&self) -> Vec<QueuedCheck> {
        std::mem::take(&mut *self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// From now on every enqueue fails (`true`, a queue that cannot be reached) or succeeds.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }
}

#[async_trait]
impl CheckQueue for MemoryCheckQueue {
    async fn enqueue(&self, check: &QueuedCheck) -> Result<(), QueueError> {
        if self.refusing.load(Ordering::SeqCst) {
            return Err(QueueError { queue: self.describe(), message: "the queue refuses".into(), retryable: true });
        }
        self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(check.clone());
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_round_trips_through_its_message_body_and_other_bodies_are_refused_by_name() {
        let check = QueuedCheck {
            model: "fraud-detector".into(),
            version: VersionNumber::new(7).unwrap(),
            tag: Some("benchmark_value".into()),
            delivery_id: "d-1".into(),
            event: "model_version_tag.set".into(),
            queued_at: "2026-12-08T00:00:00Z".into(),
        };
        let body = check.to_body();
        assert!(body.starts_with(r#"{"deltaone_check":{"model":"fraud-detector","version":"7""#), "{body}");
        assert_eq!(QueuedCheck::from_body(&body).unwrap(), check);

        let s3_event = r#"{"Records":[{"eventSource":"aws:s3"}]}"#;
        assert!(QueuedCheck::from_body(s3_event).unwrap_err().to_string().contains("Records"));
        let no_version = r#"{"deltaone_check":{"model":"m","delivery_id":"d","event":"e","queued_at":"t"}}"#;
        assert!(QueuedCheck::from_body(no_version).unwrap_err().to_string().contains("version"));
    }
}
