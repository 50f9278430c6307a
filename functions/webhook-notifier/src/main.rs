//! Lambda entry point: wire once at cold start, then serve SQS batches.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let notifier = match deltaone_webhook_notifier::from_env().await {
        Ok(notifier) => Arc::new(notifier),
        Err(e) => deltaone_app::startup::exit(deltaone_webhook_notifier::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<Value>| {
        let notifier = notifier.clone();
        async move { notifier.handle(event.payload).await }
    }))
    .await
}
