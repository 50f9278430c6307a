//! Answers of the functions behind a Lambda Function URL (the query API, the registry webhook):
//! one JSON response shape for both.

use aws_lambda_events::http::{HeaderValue, header};
pub use aws_lambda_events::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use serde_json::Value;

/// An answer with a JSON body. `Cache-Control: no-store`: answers are about the moment they are
/// asked (a verdict, a delivery), never to be served again by a cache in between.
pub fn json_response(status: u16, body: &Value) -> LambdaFunctionUrlResponse {
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(status);
    response.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.body = Some(body.to_string());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_answer_carries_its_status_type_and_body() {
        let response = json_response(404, &serde_json::json!({"error": "not_found"}));
        assert_eq!(response.status_code, 404);
        assert_eq!(response.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(response.headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.body.as_deref(), Some(r#"{"error":"not_found"}"#));
    }
}
