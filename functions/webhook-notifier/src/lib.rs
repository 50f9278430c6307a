//! The webhook notifier: DeltaOne messages arrive in SQS batches (the queue is subscribed to the
//! notifications topic; bodies are SNS envelopes, or the raw message with `RawMessageDelivery`) and
//! are delivered to every configured endpoint that wants their event type — signed the Standard
//! Webhooks way, or as Slack Block Kit — with retries, a bound on requests in flight per endpoint,
//! and all endpoints served at once.
//!
//! Nothing is lost and nothing storms: a delivery that fails after the last try is parked in the
//! webhook dead-letter queue (message, endpoint, reason) and the record counts as handled, so SQS
//! does not redeliver it to the endpoints that took it. A record is reported in
//! `batchItemFailures` (SQS delivers it again) only when something that may pass failed before the
//! endpoints were tried (its large-message detail could not be read from S3) or when parking
//! failed. A record that is not a DeltaOne message is parked whole, with the reason.

use std::sync::Arc;

use deltaone::message::Message;
use deltaone_app::deadletter::{DeadLetter, DeadLetters};
use deltaone_app::notify::{Published, PublishedError};
use deltaone_app::objects::ObjectStore;
use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_secrets::SecretReader;
use deltaone_webhooks::config::{ConfigError, DLQ_ENV, ENDPOINTS_FILE_ENV, ENDPOINTS_JSON_ENV, WebhookConfig};
use deltaone_webhooks::delivery::{Deliverer, Outcome, SOURCE};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

/// Why an invocation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("not an SQS event: {0}")]
    NotSqs(String),
    #[error("cannot park in the webhook dead-letter queue: {0}")]
    DeadLetter(String),
}

impl From<NotifierError> for Diagnostic {
    fn from(e: NotifierError) -> Self {
        let error_type = match e {
            NotifierError::NotSqs(_) => "MalformedEvent",
            NotifierError::DeadLetter(_) => "Retryable",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: e.to_string() }
    }
}

/// Why one record could not be read as a message.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record has no string body")]
    NoBody,
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("SNS envelope without a string Message")]
    BadEnvelope,
    #[error(transparent)]
    Published(#[from] PublishedError),
}

impl RecordError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Published(e) if e.is_retryable())
    }
}

/// Everything the handler needs, built once per cold start.
pub struct WebhookNotifier {
    pub deliverer: Arc<Deliverer>,
    /// Where offloaded large messages are read from.
    pub objects: Arc<dyn ObjectStore>,
    /// Records that are not messages are parked here (the webhook dead-letter queue).
    pub malformed: Arc<dyn DeadLetters>,
}

/// What one invocation did, for the logs and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Handled {
    pub delivered: usize,
    pub parked: usize,
    pub malformed: usize,
    /// SQS message ids to redeliver.
    pub retry: Vec<String>,
}

impl WebhookNotifier {
    /// Handles an SQS event; the answer lists the records SQS should deliver again.
    pub async fn handle(&self, event: Value) -> Result<Value, NotifierError> {
        let handled = self.handle_batch(&event).await?;
        let failures: Vec<Value> = handled.retry.iter().map(|id| json!({"itemIdentifier": id})).collect();
        Ok(json!({"batchItemFailures": failures}))
    }

    pub async fn handle_batch(&self, event: &Value) -> Result<Handled, NotifierError> {
        let records = event
            .get("Records")
            .and_then(Value::as_array)
            .ok_or_else(|| NotifierError::NotSqs("no Records array".into()))?;
        let mut handled = Handled::default();
        let mut messages = Vec::new();
        let mut ids = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let id =
                record.get("messageId").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| i.to_string());
            match self.read(record).await {
                Ok(message) => {
                    messages.push(message);
                    ids.push(id);
                }
                Err(e) if e.is_retryable() => {
                    tracing::warn!(message_id = id, error = %e, "cannot read the message yet; SQS will deliver it again");
                    handled.retry.push(id);
                }
                Err(e) => {
                    tracing::error!(message_id = id, error = %e, "not a DeltaOne message; parking it");
                    let letter = DeadLetter {
                        source: SOURCE.to_owned(),
                        error_type: "MalformedMessage".to_owned(),
                        reason: e.to_string(),
                        failed_at: deltaone_app::check::now_rfc3339(),
                        original: record.clone(),
                    };
                    self.malformed.park(&letter).await.map_err(|e| NotifierError::DeadLetter(e.to_string()))?;
                    handled.malformed += 1;
                }
            }
        }
        let results = self.deliverer.fan_out(&messages).await;
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        match outcome {
                            Outcome::Delivered { .. } => handled.delivered += 1,
                            Outcome::Parked { .. } => handled.parked += 1,
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(message_id = id, error = %e, "a failed delivery could not be parked; SQS will deliver the message again");
                    handled.retry.push(id);
                }
            }
        }
        tracing::info!(
            records = records.len(),
            delivered = handled.delivered,
            parked = handled.parked,
            malformed = handled.malformed,
            retry = handled.retry.len(),
            "webhook batch handled"
        );
        Ok(handled)
    }

    /// The message in one SQS record: its body is an SNS envelope or (raw delivery) the message or
    /// a reference to it.
    async fn read(&self, record: &Value) -> Result<Message, RecordError> {
        let body = record.get("body").and_then(Value::as_str).ok_or(RecordError::NoBody)?;
        let value: Value = serde_json::from_str(body).map_err(|e| RecordError::NotJson(e.to_string()))?;
        let text = if value.get("Type").and_then(Value::as_str) == Some("Notification") {
            value.get("Message").and_then(Value::as_str).ok_or(RecordError::BadEnvelope)?.to_owned()
        } else {
            body.to_owned()
        };
        Ok(Published::parse(&text)?.into_message(self.objects.as_ref()).await?)
    }
}

/// A setting the function cannot start without, named with its variable.
pub type SetupError = deltaone_app::startup::StartupError;

/// The name this function goes by in its start-up error.
pub const FUNCTION: &str = SOURCE;

/// The variable a webhook configuration error is about: the one that holds the endpoints.
fn config_error(e: ConfigError) -> SetupError {
    let set = |name: &str| std::env::var(name).ok().is_some_and(|v| !v.trim().is_empty());
    match e {
        ConfigError::Missing => SetupError::new(
            ENDPOINTS_FILE_ENV,
            format!(
                "is not set (nor {ENDPOINTS_JSON_ENV}): the endpoints to deliver to (a JSON file, or the JSON itself)"
            ),
        ),
        e if set(ENDPOINTS_FILE_ENV) => SetupError::new(ENDPOINTS_FILE_ENV, e.to_string()),
        e => SetupError::new(ENDPOINTS_JSON_ENV, e.to_string()),
    }
}

/// Wires the function from its environment (see the README).
pub async fn from_env() -> Result<WebhookNotifier, SetupError> {
    let config = WebhookConfig::from_env().map_err(config_error)?;
    let dlq = std::env::var(DLQ_ENV).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        SetupError::new(DLQ_ENV, "is not set: deliveries that fail for good must have somewhere to go")
    })?;
    let endpoints = config.resolve(&SecretReader::from_env()).await.map_err(config_error)?;
    let endpoint_url = std::env::var(deltaone_app::env::AWS_ENDPOINT_URL).ok().filter(|v| !v.is_empty());
    let aws = deltaone_aws::sdk_config(endpoint_url.as_deref()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    // Three tries per parked delivery: the record counts as handled once parked, and the endpoints
    // that took the message must not get it again because one did not.
    let parked = SqsDeadLetters::new(sqs.clone(), &dlq).with_tries(3);
    let deliverer = Deliverer::new(endpoints, config.delivery, Arc::new(parked))
        .map_err(|e| SetupError::new(ENDPOINTS_FILE_ENV, e.to_string()))?;
    let objects = deltaone_aws::s3::S3Objects::client(&aws, endpoint_url.is_some());
    Ok(WebhookNotifier {
        deliverer: Arc::new(deliverer),
        objects: Arc::new(deltaone_aws::s3::S3Objects::new(objects)),
        malformed: Arc::new(SqsDeadLetters::new(sqs, dlq)),
    })
}

#[cfg(test)]
mod startup_tests {
    use super::*;

    #[tokio::test]
    async fn missing_endpoints_stop_the_start_with_one_line_naming_the_variable() {
        // SAFETY: the test reads the environment only through `from_env`, after this change.
        unsafe {
            std::env::remove_var("DELTAONE_WEBHOOK_ENDPOINTS");
            std::env::remove_var("DELTAONE_WEBHOOK_ENDPOINTS_JSON");
        }
        let Err(e) = from_env().await else { panic!("started without its required setting") };
        assert_eq!(
            deltaone_app::startup::line(FUNCTION, &e),
            "webhook-notifier cannot start: DELTAONE_WEBHOOK_ENDPOINTS: is not set (nor DELTAONE_WEBHOOK_ENDPOINTS_JSON): the endpoints to deliver to (a JSON file, or the JSON itself)"
        );
    }
}

#[cfg(test)]
mod tests;
