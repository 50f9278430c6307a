//! `deltaone webhooks redrive`: delivers parked messages again, once their endpoint is back.

use std::collections::HashSet;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use serde::Serialize;

use super::delivery::{Deliverer, ParkedDelivery, SOURCE};
use deltaone_app::deadletter::DeadLetterError;

/// What a redrive did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RedriveReport {
    /// Delivered and removed from the queue.
    pub delivered: usize,
    /// Tried and not delivered: left in the queue.
    pub failed: usize,
    /// Not ours, another endpoint's (with `--endpoint`), or for an endpoint no longer configured:
    /// left in the queue untouched.
    pub skipped: usize,
}

/// How long a received letter stays invisible to others while this run holds it.
const HOLD_SECS: i32 = 300;

/// Re-delivers up to `max` parked deliveries (of `endpoint` only, when given) with the same
/// `webhook-id`; each delivered one is deleted, the others are made visible again at the end.
pub async fn redrive(
    deliverer: &Deliverer,
    sqs: &Client,
    dlq_url: &str,
    endpoint: Option<&str>,
    max: usize,
) -> Result<RedriveReport, DeadLetterError> {
    let failed = |message: String| DeadLetterError { queue: dlq_url.to_owned(), message };
    let mut report = RedriveReport::default();
    let mut seen = HashSet::new();
    let mut held = Vec::new();
    'receiving: while report.delivered + report.failed < max {
        let batch = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(HOLD_SECS)
            .send()
            .await
            .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        let messages = batch.messages();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let handle = message.receipt_handle().unwrap_or_default().to_owned();
            if !seen.insert(message.message_id().unwrap_or_default().to_owned()) {
                // Back again: the hold expired. Everything in the queue has been looked at.
                held.push(handle);
                break 'receiving;
            }
            let letter = message.body().and_then(|b| serde_json::from_str::<ParkedDelivery>(b).ok());
            let wanted = letter.filter(|l| {
                l.source == SOURCE
                    && endpoint.is_none_or(|e| e == l.endpoint)
                    && deliverer.endpoints().any(|e| e.name == l.endpoint)
            });
            let Some(letter) = wanted else {
                report.skipped += 1;
                held.push(handle);
                continue;
            };
            if report.delivered + report.failed >= max {
                held.push(handle);
                continue;
            }
            match deliverer.deliver(&letter.endpoint, &letter.message).await {
                Ok(_) => {
                    sqs.delete_message()
                        .queue_url(dlq_url)
                        .receipt_handle(&handle)
                        .send()
                        .await
                        .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
                    report.delivered += 1;
                }
                Err(e) => {
                    tracing::warn!(endpoint = letter.endpoint, webhook_id = letter.webhook_id, error = %e, "redrive: still not delivered");
                    report.failed += 1;
                    held.push(handle);
                }
            }
        }
    }
    for handle in held {
        // Visible again right away for the next run; if this fails the hold simply expires.
        let _ = sqs
            .change_message_visibility()
            .queue_url(dlq_url)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await;
    }
    Ok(report)
}
