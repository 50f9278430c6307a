//! Lambda entry point: wire once at cold start, then serve scheduler events.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let scheduler = match deltaone_fn_drift_scheduler::from_env().await {
        Ok(scheduler) => Arc::new(scheduler),
        Err(e) => deltaone_app::startup::exit(deltaone_fn_drift_scheduler::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<Value>| {
        let scheduler = scheduler.clone();
        async move { deltaone_fn_drift_scheduler::handle(&scheduler, event.payload).await }
    }))
    .await
}
