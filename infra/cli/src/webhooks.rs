//! `deltaone webhooks …`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;

use crate::error::CommandError;

use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_secrets::SecretReader;
use deltaone_webhooks::config::{DLQ_ENV, WebhookConfig};
use deltaone_webhooks::delivery::Deliverer;

const REDRIVE_HELP: &str = "\
Reads the webhook dead-letter queue, delivers each parked message again to its endpoint with the same
webhook-id (receivers de-duplicate on it) and the configured retries, deletes it once delivered, and
leaves it in the queue when it still fails. Endpoints come from the same configuration as the notifier:
DELTAONE_WEBHOOK_ENDPOINTS (a JSON file) or DELTAONE_WEBHOOK_ENDPOINTS_JSON; secrets they reference with
env:NAME must be set in this shell. Letters of endpoints no longer configured are skipped and kept.

Prints: delivered N, still failing N, skipped N. Exit 0 when nothing failed, 1 when some still fail or the
queue cannot be read, 2 when the endpoint configuration is invalid.";

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Deliver parked webhook messages again, once their endpoint is back.
    #[command(after_long_help = REDRIVE_HELP)]
    Redrive {
        /// The webhook dead-letter queue.
        #[arg(long, env = DLQ_ENV, value_name = "URL")]
        dlq: String,
        /// Only messages parked for this endpoint (by name).
        #[arg(long, value_name = "NAME")]
        endpoint: Option<String>,
        /// At most this many deliveries.
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
}

pub async fn run(command: WebhooksCommand, wiring: &deltaone_wiring::Wiring) -> Result<ExitCode, CommandError> {
    match command {
        WebhooksCommand::Redrive { dlq, endpoint, max } => {
            // Invalid settings exit 2, like every other command's.
            let usage = |message: String| {
                eprintln!("error: {message}");
                Ok(ExitCode::from(2))
            };
            let config = match WebhookConfig::from_env() {
                Ok(config) => config,
                Err(e) => return usage(e.to_string()),
            };
            if let Some(name) = &endpoint
                && !config.endpoints.iter().any(|e| &e.name == name)
            {
                return usage(format!("--endpoint {name}: no endpoint of that name is configured"));
            }
            let endpoints = match config.resolve(&SecretReader::from_env()).await {
                Ok(endpoints) => endpoints,
                Err(e) => return usage(e.to_string()),
            };
            let sqs = deltaone_aws::aws_sdk_sqs::Client::new(wiring.aws().await);
            let queue = Arc::new(SqsDeadLetters::new(sqs, &dlq).with_tries(3));
            let deliverer = Deliverer::new(endpoints, config.delivery, queue.clone())?;
            let report =
                deltaone_webhooks::redrive::redrive(&deliverer, queue.as_ref(), endpoint.as_deref(), max).await?;
            println!(
                "webhooks redrive: delivered {}, still failing {} (left in the queue), skipped {}",
                report.delivered, report.failed, report.skipped
            );
            Ok(if report.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
