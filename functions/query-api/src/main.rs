//! Lambda entry point: wire once at cold start, then answer Function URL requests.

use std::sync::Arc;

use deltaone_fn_query_api::LambdaFunctionUrlRequest;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    deltaone_app::telemetry::init("info");
    let api = match deltaone_fn_query_api::from_env().await {
        Ok(api) => Arc::new(api),
        Err(e) => deltaone_app::startup::exit(deltaone_fn_query_api::FUNCTION, &e),
    };
    run(service_fn(move |event: LambdaEvent<LambdaFunctionUrlRequest>| {
        let api = api.clone();
        // Every failure is an HTTP answer with a JSON error, so the invocation itself succeeds.
        async move { Ok::<_, Diagnostic>(api.handle(&event.payload).await) }
    }))
    .await
}
