//! Lambda entry point: wire once at cold start, then sweep on every scheduled event.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let sweep = match deltaone_fn_registry_sweep::from_env().await {
        Ok(sweep) => Arc::new(sweep),
        Err(e) => deltaone_app::startup::exit(deltaone_fn_registry_sweep::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<Value>| {
        let sweep = sweep.clone();
        async move { sweep.handle(event.payload).await }
    }))
    .await
}
