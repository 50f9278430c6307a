//! The notification port and its SNS adapter.
//!
//! Each message is published with `MessageStructure=json`: e-mail subscriptions get the readable
//! plain text ([`deltaone::message::Message::render_text`]) under `email`, every other protocol
//! (SQS, Lambda, HTTP/S, `email-json`) the JSON message under `default`. Filter attributes
//! (`event_type`, `model_name`, `severity`) go along for SNS filter policies.
//!
//! **Large messages.** SNS takes at most 256 KiB, message and attributes together. A notification
//! that would be larger is offloaded when the notifier has a bucket ([`SnsNotifier::with_offload`];
//! [`NOTIFICATION_BUCKET_ENV`]): the full JSON message goes to S3 (content-addressed, so a retried
//! publish writes the same object), and SNS carries a small [`MessageRef`] (`deltaone.message-ref/v1`:
//! the message's identity, subject and link, plus `detail_uri`, its SHA-256 and size), and the e-mail
//! text cut short with a line saying where the full message is. Without a bucket, an oversized
//! message is a [`NotifyError::TooLarge`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use deltaone::message::{EventType, Message, Severity};
use serde::{Deserialize, Serialize};

use crate::objects::{ObjectError, ObjectStore};

/// SNS refuses messages over 256 KiB (message body and attributes together).
pub const SNS_MAX_BYTES: usize = 256 * 1024;
/// The bucket for offloaded large messages.
pub const NOTIFICATION_BUCKET_ENV: &str = crate::env::NOTIFICATION_BUCKET;
/// Key prefix in that bucket (default `notifications/`).
pub const NOTIFICATION_PREFIX_ENV: &str = crate::env::NOTIFICATION_PREFIX;
/// The schema of the small message published in place of a large one.
pub const MESSAGE_REF_SCHEMA: &str = "deltaone.message-ref/v1";
/// The e-mail text of an offloaded message is cut to this many bytes.
pub const OFFLOADED_TEXT_BYTES: usize = 32 * 1024;

/// One message for subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Readable subject (email subscribers see it); at most 100 characters.
    pub subject: String,
    /// The JSON message.
    pub message: String,
    /// The plain-text rendering e-mail subscribers get.
    pub text: String,
    /// String attributes for SNS filter policies (`event_type`, `model_name`, `severity`).
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "notification of {bytes} bytes exceeds SNS's {SNS_MAX_BYTES}-byte limit (set {NOTIFICATION_BUCKET_ENV} to offload large messages to S3)"
    )]
    TooLarge { bytes: usize },
    #[error("SNS publish to {topic}: {message}")]
    Failed { topic: String, message: String },
    #[error("offloading a large message: {0}")]
    Offload(#[from] ObjectError),
}

impl NotifyError {
    /// Publishing again may work unless the message itself is the problem.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::TooLarge { .. } => false,
            Self::Failed { .. } => true,
            Self::Offload(e) => e.is_retryable(),
        }
    }
}

#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// What SNS carries in place of a message too large for it; the full message is at `detail_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    /// Always [`MESSAGE_REF_SCHEMA`].
    pub schema: String,
    pub id: String,
    pub event_type: EventType,
    pub occurred_at: String,
    pub model: String,
    pub severity: Severity,
    pub subject: String,
    pub link: Option<String>,
    /// `s3://bucket/key` of the full message JSON.
    pub detail_uri: String,
    /// Lower-case hex SHA-256 of the object's bytes.
    pub detail_sha256: String,
    pub detail_bytes: usize,
}

/// A published JSON message as a subscriber reads it: the message, or a reference to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    Message(Box<Message>),
    Ref(MessageRef),
}

#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error("not a DeltaOne message or message reference: {0}")]
    Unreadable(String),
    #[error("{uri} is not an s3://bucket/key address")]
    BadUri { uri: String },
    #[error(transparent)]
    Object(#[from] ObjectError),
    #[error("{uri} does not match its reference ({reason})")]
    Mismatch { uri: String, reason: String },
}

impl PublishedError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Object(e) if e.is_retryable())
    }
}

impl Published {
    /// Reads a published JSON message by its `schema`.
    pub fn parse(json: &str) -> Result<Self, PublishedError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| PublishedError::Unreadable(format!("not JSON: {e}")))?;
        let unreadable = |e: serde_json::Error| PublishedError::Unreadable(e.to_string());
        match value.get("schema").and_then(serde_json::Value::as_str) {
            Some(MESSAGE_REF_SCHEMA) => Ok(Self::Ref(serde_json::from_value(value).map_err(unreadable)?)),
            Some(deltaone::message::MESSAGE_SCHEMA) => {
                Ok(Self::Message(Box::new(serde_json::from_value(value).map_err(unreadable)?)))
            }
            other => Err(PublishedError::Unreadable(format!("unknown schema {other:?}"))),
        }
    }

    /// The full message: as is, or fetched from S3 and checked against the reference.
    pub async fn into_message(self, objects: &dyn ObjectStore) -> Result<Message, PublishedError> {
        let reference = match self {
            Self::Message(message) => return Ok(*message),
            Self::Ref(reference) => reference,
        };
        let uri = &reference.detail_uri;
        let (bucket, key) = uri
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| PublishedError::BadUri { uri: uri.clone() })?;
        let object = objects.get(bucket, key).await?;
        let mismatch = |reason: String| PublishedError::Mismatch { uri: uri.clone(), reason };
        if deltaone::attestation::sha256_hex(&object.bytes) != reference.detail_sha256 {
            return Err(mismatch("SHA-256 differs".into()));
        }
        let message: Message =
            serde_json::from_slice(&object.bytes).map_err(|e| mismatch(format!("not a message: {e}")))?;
        if message.id != reference.id {
            return Err(mismatch(format!("message id {} instead of {}", message.id, reference.id)));
        }
        Ok(message)
    }
}

/// The notification for a message: the JSON message, its plain text, its subject, and the filter
/// attributes.
pub fn notification(message: &Message) -> Notification {
    Notification {
        subject: message.subject.clone(),
        message: serde_json::to_string(message).expect("messages serialize"),
        text: message.render_text(),
        attributes: BTreeMap::from([
            ("event_type".to_owned(), message.event_type.as_str().to_owned()),
            ("model_name".to_owned(), message.model.clone()),
            ("severity".to_owned(), message.severity.as_str().to_owned()),
        ]),
    }
}

/// The message for a recorded verdict (`deltaone.achieved` or `deltaone.checked`). Its id is the
/// record's identity, so a receiver can de-duplicate even if a notification is ever sent twice.
pub fn verdict_message(record: &crate::store::VerdictRecord) -> deltaone::message::Message {
    let id = format!("deltaone:{}:{}:{}", record.model, record.version, record.checked_at);
    let contributors = record.attestation.as_ref().map(|a| a.statement.contributors.clone()).unwrap_or_default();
    deltaone::message::Message::from_verdict(
        id,
        record.checked_at.clone(),
        &record.verdict,
        contributors,
        record.attestation.clone(),
        None,
    )
    .with_promotion(record.promotion.clone())
}

/// The in-memory twin of the notifier for tests: records what was published, in order.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    published: std::sync::Mutex<Vec<Notification>>,
}

impl MemoryNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything published so far.
    pub fn published(&self) -> Vec<Notification> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(notification.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_messages_and_references_are_told_apart_and_others_refused() {
        let reference = serde_json::json!({
            "schema": MESSAGE_REF_SCHEMA, "id": "x", "event_type": "drift.report", "occurred_at": "t",
            "model": "m", "severity": "info", "subject": "s", "link": null,
            "detail_uri": "s3://b/k.json", "detail_sha256": "00", "detail_bytes": 3
        });
        assert!(matches!(Published::parse(&reference.to_string()), Ok(Published::Ref(_))));
        for bad in ["not json", "{}", r#"{"schema": "other/v1"}"#, r#"{"schema": "deltaone.message/v1"}"#] {
            let err = Published::parse(bad).unwrap_err();
            assert!(matches!(err, PublishedError::Unreadable(_)) && !err.is_retryable(), "{bad}: {err}");
        }
    }

    use crate::store::VerdictRecord;
    use deltaone::{Policy, VersionFacts, VersionNumber, judge, select};

    #[test]
    fn verdict_notifications_carry_filter_attributes_and_a_schema_message() {
        let v = |n| VersionNumber::new(n).unwrap();
        let versions = [
            VersionFacts::new(v(1)).with_tag("benchmark_value", "0.9").with_tag("benchmark_metric", "accuracy"),
            VersionFacts::new(v(2)).with_metric("accuracy", 0.92),
        ];
        let verdict = judge(&select("fraud", &versions, None), &Default::default(), &Policy::default());
        let record = VerdictRecord {
            model: "fraud".into(),
            version: v(2),
            checked_at: "2026-11-23T10:00:00Z".into(),
            run_id: None,
            verdict,
            written_back: false,
            notified: false,
            attestation: None,
            contributors: Vec::new(),
            promotion: None,
        };
        let n = notification(&verdict_message(&record));
        assert_eq!(n.attributes["event_type"], "deltaone.achieved");
        assert_eq!(n.attributes["model_name"], "fraud");
        assert!(n.subject.contains("fraud") && n.subject.chars().count() <= 99, "{}", n.subject);
        let json: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        assert_eq!(json["schema"], deltaone::message::MESSAGE_SCHEMA);
        assert_eq!(json["id"], "deltaone:fraud:2:2026-11-23T10:00:00Z");
    }

    #[tokio::test]
    async fn the_memory_notifier_records_what_was_published_in_order() {
        let notifier = MemoryNotifier::new();
        let n = |subject: &str| Notification {
            subject: subject.into(),
            message: "{}".into(),
            text: String::new(),
            attributes: BTreeMap::new(),
        };
        notifier.publish(&n("first")).await.unwrap();
        notifier.publish(&n("second")).await.unwrap();
        let subjects: Vec<String> = notifier.published().into_iter().map(|n| n.subject).collect();
        assert_eq!(subjects, ["first", "second"]);
    }
}
