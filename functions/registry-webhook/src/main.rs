//! Lambda entry point: wire once at cold start, then serve Function URL requests.

use std::sync::Arc;

use deltaone_fn_registry_webhook::LambdaFunctionUrlRequest;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let webhook = match deltaone_fn_registry_webhook::from_env().await {
        Ok(webhook) => Arc::new(webhook),
        Err(e) => deltaone_app::startup::exit(deltaone_fn_registry_webhook::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<LambdaFunctionUrlRequest>| {
        let webhook = webhook.clone();
        // Every failure is an HTTP answer (MLflow acts on the status), so the invocation succeeds.
        async move { Ok::<_, Diagnostic>(webhook.handle(event.payload).await) }
    }))
    .await
}
