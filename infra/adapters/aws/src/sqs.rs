//! The dead-letter port over SQS, and the redrive of parked deliveries.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use backon::Retryable;
use deltaone_app::deadletter::{
    DeadLetter, DeadLetterError, DeadLetters, HeldLetter, HeldLetters, Letter, redrive_body,
};
use serde::Serialize;

/// An SQS dead-letter queue: each letter is one message, its JSON as the body and its
/// [`Letter::attributes`] as string message attributes.
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
    tries: u32,
}

impl SqsDeadLetters {
    /// One try per letter: a failure goes back to the caller, whose event is delivered again.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into(), tries: 1 }
    }

    /// Up to `tries` sends per letter, 200, 400, … ms apart, whatever the failure: for callers that
    /// cannot hand the event back whole (a webhook some endpoints already took).
    pub fn with_tries(mut self, tries: u32) -> Self {
        self.tries = tries.max(1);
        self
    }

    fn failed(&self, message: String) -> DeadLetterError {
        DeadLetterError { queue: self.queue_url.clone(), message }
    }
}

#[async_trait]
impl<L: Letter> DeadLetters<L> for SqsDeadLetters {
    async fn park(&self, letter: &L) -> Result<(), DeadLetterError> {
        let body = serde_json::to_string(letter).map_err(|e| self.failed(format!("cannot write the letter: {e}")))?;
        let mut attributes = Vec::new();
        for (name, value) in letter.attributes() {
            let value = aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| self.failed(DisplayErrorContext(&e).to_string()))?;
            attributes.push((name, value));
        }
        let delays = (1..u64::from(self.tries)).map(|attempt| Duration::from_millis(200 * attempt));
        let send = || async {
            let mut request = self.client.send_message().queue_url(&self.queue_url).message_body(&body);
            for (name, value) in &attributes {
                request = request.message_attributes(*name, value.clone());
            }
            request.send().await.map(drop).map_err(|e| DisplayErrorContext(&e).to_string())
        };
        send.retry(delays).await.map_err(|message| self.failed(message))
    }
}

#[async_trait]
impl HeldLetters for SqsDeadLetters {
    async fn receive(&self, hold_secs: i32) -> Result<Vec<HeldLetter>, DeadLetterError> {
        let batch = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(hold_secs)
            .send()
            .await
            .map_err(|e| self.failed(DisplayErrorContext(&e).to_string()))?;
        Ok(batch
            .messages()
            .iter()
            .map(|m| HeldLetter {
                id: m.message_id().unwrap_or_default().to_owned(),
                handle: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().map(str::to_owned),
            })
            .collect())
    }

    async fn delete(&self, handle: &str) -> Result<(), DeadLetterError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(handle)
            .send()
            .await
            .map(drop)
            .map_err(|e| self.failed(DisplayErrorContext(&e).to_string()))
    }

    async fn release(&self, handle: &str) -> Result<(), DeadLetterError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await
            .map(drop)
            .map_err(|e| self.failed(DisplayErrorContext(&e).to_string()))
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
    let queue = SqsDeadLetters::new(client.clone(), dlq_url);
    let mut done = Redriven::default();
    while done.moved + done.skipped < max {
        let messages = queue.receive(60).await?;
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let letter: Option<DeadLetter> = message.body.and_then(|b| serde_json::from_str(&b).ok());
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
            if !message.handle.is_empty() {
                queue.delete(&message.handle).await?;
            }
            done.moved += 1;
        }
    }
    Ok(done)
}

/// The check queue over SQS: each check one message (its JSON body), sent with a few quick tries: the
/// caller answers a webhook within seconds and would rather retry than give up on a blip.
pub struct SqsCheckQueue {
    client: Client,
    queue_url: String,
}

impl SqsCheckQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl deltaone_app::checkqueue::CheckQueue for SqsCheckQueue {
    async fn enqueue(
        &self,
        check: &deltaone_app::checkqueue::QueuedCheck,
    ) -> Result<(), deltaone_app::checkqueue::QueueError> {
        let body = check.to_body();
        let delays = [Duration::from_millis(50), Duration::from_millis(200)];
        let send = || async {
            self.client.send_message().queue_url(&self.queue_url).message_body(&body).send().await.map(drop)
        };
        send.retry(delays.into_iter()).await.map_err(|e| deltaone_app::checkqueue::QueueError {
            queue: self.queue_url.clone(),
            message: DisplayErrorContext(&e).to_string(),
            retryable: true,
        })
    }

    fn describe(&self) -> String {
        self.queue_url.clone()
    }
}
