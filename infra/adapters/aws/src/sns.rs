//! The notifier port over SNS, with large messages offloaded to S3.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use deltaone::message::Message;
use deltaone_app::notify::{
    MESSAGE_REF_SCHEMA, MessageRef, NOTIFICATION_BUCKET_ENV, NOTIFICATION_PREFIX_ENV, Notification, Notifier,
    NotifyError, OFFLOADED_TEXT_BYTES, SNS_MAX_BYTES,
};
use deltaone_app::objects::ObjectStore;

/// Where large messages go.
struct Offload {
    objects: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
}

pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
    offload: Option<Offload>,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into(), offload: None }
    }

    /// Messages too large for SNS are put in `bucket` under `prefix` and linked.
    pub fn with_offload(
        mut self,
        objects: Arc<dyn ObjectStore>,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        self.offload = Some(Offload { objects, bucket: bucket.into(), prefix: prefix.into() });
        self
    }

    /// [`Self::with_offload`] with the bucket of [`NOTIFICATION_BUCKET_ENV`] (and the prefix of
    /// [`NOTIFICATION_PREFIX_ENV`]), when set.
    pub fn with_offload_from_env(self, objects: Arc<dyn ObjectStore>) -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.trim().is_empty());
        match var(NOTIFICATION_BUCKET_ENV) {
            Some(bucket) => {
                let prefix = var(NOTIFICATION_PREFIX_ENV).unwrap_or_else(|| "notifications/".to_owned());
                self.with_offload(objects, bucket, prefix)
            }
            None => self,
        }
    }

    /// The structured message (`default`: JSON, `email`: text), or, when that is too large and a
    /// bucket is configured, the structured reference after the full message was put in S3.
    async fn body(&self, n: &Notification) -> Result<String, NotifyError> {
        let whole = structured(&n.message, &n.text);
        let bytes = publish_size(&whole, n);
        if bytes <= SNS_MAX_BYTES {
            return Ok(whole);
        }
        let Some(offload) = &self.offload else { return Err(NotifyError::TooLarge { bytes }) };
        let message: Message = serde_json::from_str(&n.message).map_err(|_| NotifyError::TooLarge { bytes })?;
        let sha = deltaone::attestation::sha256_hex(n.message.as_bytes());
        let key = format!("{}{}/{}.json", offload.prefix, message.event_type, sha);
        offload.objects.put(&offload.bucket, &key, n.message.as_bytes().to_vec(), "application/json").await?;
        let uri = format!("s3://{}/{key}", offload.bucket);
        let reference = MessageRef {
            schema: MESSAGE_REF_SCHEMA.to_owned(),
            id: message.id.clone(),
            event_type: message.event_type,
            occurred_at: message.occurred_at.clone(),
            model: message.model.clone(),
            severity: message.severity,
            subject: message.subject.clone(),
            link: message.link.clone(),
            detail_uri: uri.clone(),
            detail_sha256: sha,
            detail_bytes: n.message.len(),
        };
        let text = format!(
            "{}\n\n[This message is {} bytes, too large for e-mail; the full message is at {uri}]\n",
            cut(&n.text, OFFLOADED_TEXT_BYTES),
            n.message.len()
        );
        let small = structured(&serde_json::to_string(&reference).expect("references serialize"), &text);
        let bytes = publish_size(&small, n);
        if bytes > SNS_MAX_BYTES {
            return Err(NotifyError::TooLarge { bytes });
        }
        tracing::info!(id = message.id, uri, bytes = n.message.len(), "large message offloaded to S3");
        Ok(small)
    }
}

/// `{"default": json, "email": text}` for `MessageStructure=json`.
fn structured(json: &str, text: &str) -> String {
    serde_json::to_string(&serde_json::json!({ "default": json, "email": text })).expect("strings serialize")
}

/// What SNS counts against its limit: the message, the subject and every attribute.
fn publish_size(body: &str, n: &Notification) -> usize {
    let attributes: usize = n.attributes.iter().map(|(k, v)| k.len() + "String".len() + v.len()).sum();
    body.len() + deltaone::message::sns_subject(&n.subject).len() + attributes
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, n: &Notification) -> Result<(), NotifyError> {
        let body = self.body(n).await?;
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(deltaone::message::sns_subject(&n.subject))
            .message_structure("json")
            .message(body);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_structured_message_carries_json_for_machines_and_text_for_email() {
        let body = structured("{\"a\":1}", "Hello\nworld");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed, serde_json::json!({"default": "{\"a\":1}", "email": "Hello\nworld"}));
        let n = Notification {
            subject: "s".into(),
            message: String::new(),
            text: String::new(),
            attributes: BTreeMap::from([("event_type".to_owned(), "drift.report".to_owned())]),
        };
        assert_eq!(
            publish_size(&body, &n),
            body.len() + 1 + "event_type".len() + "String".len() + "drift.report".len()
        );
    }

    #[test]
    fn cutting_text_respects_character_boundaries() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("aé", 2), "a", "é is two bytes and is not split");
    }
}
