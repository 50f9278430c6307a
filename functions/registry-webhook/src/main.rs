//! Lambda entry point: wire once at cold start, then serve Function URL requests (MLflow's deliveries)
//! and, from the check queue's SQS trigger, the queued checks.

use std::sync::Arc;

use deltaone_fn_registry_webhook::LambdaFunctionUrlRequest;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let webhook = match deltaone_fn_registry_webhook::from_env().await {
        Ok(webhook) => Arc::new(webhook),
        Err(e) => deltaone_app::startup::exit(deltaone_fn_registry_webhook::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<Value>| {
        let webhook = webhook.clone();
        async move {
            if deltaone_fn_registry_webhook::is_queue_batch(&event.payload) {
                return Ok::<_, Diagnostic>(webhook.work(&event.payload).await);
            }
            // Every failure is an HTTP answer (MLflow acts on the status), so the invocation succeeds.
            let request: LambdaFunctionUrlRequest = serde_json::from_value(event.payload).map_err(|e| Diagnostic {
                error_type: "MalformedEvent".into(),
                error_message: format!("neither a Function URL request nor an SQS batch: {e}"),
            })?;
            let response = webhook.handle(request).await;
            Ok(serde_json::to_value(response).expect("a Function URL response serializes"))
        }
    }))
    .await
}
