//! `deltaone webhooks redrive`: delivers parked messages again, once their endpoint is back.

use std::collections::HashSet;

use serde::Serialize;

use super::delivery::{Deliverer, ParkedDelivery, SOURCE};
use deltaone_app::deadletter::{DeadLetterError, HeldLetters};

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
    queue: &dyn HeldLetters,
    endpoint: Option<&str>,
    max: usize,
) -> Result<RedriveReport, DeadLetterError> {
    let mut report = RedriveReport::default();
    let mut seen = HashSet::new();
    let mut held = Vec::new();
    'receiving: while report.delivered + report.failed < max {
        let messages = queue.receive(HOLD_SECS).await?;
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let handle = message.handle;
            if !seen.insert(message.id) {
                // Back again: the hold expired. Everything in the queue has been looked at.
                held.push(handle);
                break 'receiving;
            }
            let letter = message.body.and_then(|b| serde_json::from_str::<ParkedDelivery>(&b).ok());
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
                    queue.delete(&handle).await?;
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
        let _ = queue.release(&handle).await;
    }
    Ok(report)
}
