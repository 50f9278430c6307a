//! The dead-letter port over SQS, and the redrive of parked deliveries.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use deltaone_app::deadletter::{DeadLetter, DeadLetterError, DeadLetters, redrive_body};
use serde::Serialize;

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
