//! Lambda entry point: wire once at cold start, then serve scheduler events.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let scheduler = Arc::new(deltaone_fn_drift_scheduler::from_env().await?);
    run(service_fn(move |event: LambdaEvent<Value>| {
        let scheduler = scheduler.clone();
        async move { deltaone_fn_drift_scheduler::handle(&scheduler, event.payload).await }
    }))
    .await
}
