//! Lambda entry point: wire once at cold start, then serve events.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let evaluation = match deltaone_fn_evaluation::from_env().await {
        Ok(evaluation) => Arc::new(evaluation),
        Err(e) => deltaone_app::startup::exit(deltaone_fn_evaluation::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<Value>| {
        let evaluation = evaluation.clone();
        async move { evaluation.handle(event.payload).await }
    }))
    .await
}
