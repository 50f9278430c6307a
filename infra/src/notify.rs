//! The notification port and its SNS adapter.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

/// SNS refuses messages over 256 KiB.
pub const SNS_MAX_BYTES: usize = 256 * 1024;

/// One message for subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Readable subject (email subscribers see it); at most 100 characters.
    pub subject: String,
    /// The JSON message.
    pub message: String,
    /// String attributes for SNS filter policies (`event_type`, `model_name`, `severity`).
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification of {bytes} bytes exceeds SNS's {SNS_MAX_BYTES}-byte limit")]
    TooLarge { bytes: usize },
    #[error("SNS publish to {topic}: {message}")]
    Failed { topic: String, message: String },
}

impl NotifyError {
    /// Publishing again may work unless the message itself is the problem.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }
}

#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError>;
}

pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into() }
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        if n.message.len() > SNS_MAX_BYTES {
            return Err(NotifyError::TooLarge { bytes: n.message.len() });
        }
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(deltaone::message::sns_subject(&n.subject))
            .message(&n.message);
        for (name, value) in &n.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| NotifyError::Failed { topic: self.topic_arn.clone(), message: e.to_string() })?;
            request = request.message_attributes(name, attribute);
        }
        request.send().await.map(drop).map_err(|e| NotifyError::Failed {
            topic: self.topic_arn.clone(),
            message: DisplayErrorContext(&e).to_string(),
        })
    }
}

/// The notification for a message: the JSON message, its subject, and the filter attributes.
pub fn notification(message: &deltaone::message::Message) -> Notification {
    Notification {
        subject: message.subject.clone(),
        message: serde_json::to_string(message).expect("messages serialize"),
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        let n = notification(&verdict_message(&record));
        assert_eq!(n.attributes["event_type"], "deltaone.achieved");
        assert_eq!(n.attributes["model_name"], "fraud");
        assert!(n.subject.contains("fraud") && n.subject.chars().count() <= 99, "{}", n.subject);
        let json: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        assert_eq!(json["schema"], deltaone::message::MESSAGE_SCHEMA);
        assert_eq!(json["id"], "deltaone:fraud:2:2026-11-23T10:00:00Z");
    }
}
