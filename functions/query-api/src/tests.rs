//! Routing, parameters and errors, over an in-memory read model. The DynamoDB read model is tested
//! against moto in tests/tests/query_api.rs.

use super::*;
use async_trait::async_trait;
use deltaone_app::query::{ChainCheck, CreditEvent, CreditTotals, DriftColumn, DriftRun, Page};
use deltaone_app::store::VerdictRecord;

/// Knows one model, "fraud/eu model", with no verdicts of its own: enough to see what was asked.
struct Fake;

#[async_trait]
impl ReadModel for Fake {
    async fn verdicts(&self, model: &str, _page: &PageRequest) -> Result<Page<VerdictRecord>, QueryError> {
        Err(QueryError::NotFound(format!("asked for {model}")))
    }
    async fn chain_head(&self, _model: &str) -> Result<Option<String>, QueryError> {
        Ok(None)
    }
    async fn verify_chain(&self, _model: &str) -> Result<ChainCheck, QueryError> {
        Ok(ChainCheck { head: None, attested: 0, verified: true, problem: None })
    }
    async fn credits(&self, _c: &str, _page: &PageRequest) -> Result<Page<CreditEvent>, QueryError> {
        Err(QueryError::NotConfigured { what: "the credits table", env: "DELTAONE_CREDITS_TABLE" })
    }
    async fn credit_totals(&self, _c: &str) -> Result<CreditTotals, QueryError> {
        Ok(CreditTotals::default())
    }
    async fn drift_runs(&self, model: &str, page: &PageRequest) -> Result<Page<DriftRun>, QueryError> {
        assert_eq!(page.limit, 7);
        Err(QueryError::NotFound(format!("runs of {model}")))
    }
    async fn drift_history(
        &self,
        model: &str,
        column: &str,
        _p: &PageRequest,
    ) -> Result<Page<DriftColumn>, QueryError> {
        Err(QueryError::NotFound(format!("history of {model} / {column}")))
    }
}

async fn call(method: &str, path: &str) -> (i64, Value) {
    let response = QueryApi::new(Arc::new(Fake)).handle(&request(method, path)).await;
    assert_eq!(response.headers["content-type"], "application/json");
    (response.status_code, serde_json::from_str(response.body.as_deref().unwrap()).unwrap())
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn health_answers_ok_without_the_store() {
    let (status, body) = call("GET", "/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn path_segments_are_percent_decoded_after_splitting() {
    let (status, body) = call("GET", "/models/fraud%2Feu%20model/deltaone").await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("asked for fraud/eu model"), "{body}");
    let (_, body) = call("GET", "/models/a+b/drift?feature=amount%20usd&limit=7").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("history of a+b / amount usd"), "{body}");
    let (_, body) = call("GET", "/models/m/drift?limit=7").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("runs of m"), "{body}");
}

#[tokio::test]
async fn unknown_routes_are_404_other_methods_405_with_allow() {
    for path in ["/", "/models", "/models//deltaone", "/models/a/b/deltaone", "/health/x", "/contributors/x"] {
        let (status, body) = call("GET", path).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}");
    }
    let response = QueryApi::new(Arc::new(Fake)).handle(&request("POST", "/models/a/deltaone")).await;
    assert_eq!(response.status_code, 405);
    assert_eq!(response.headers["allow"], "GET");
}

#[tokio::test]
async fn bad_parameters_are_400_with_what_was_wrong() {
    for (path, expected) in [
        ("/models/a/deltaone?limit=0", "bad_parameter"),
        ("/models/a/deltaone?limit=501", "bad_parameter"),
        ("/models/a/deltaone?limit=ten", "bad_parameter"),
        ("/models/a/deltaone?cursor=%21%21", "bad_cursor"),
        ("/models/a/deltaone?cursor=bm90IGpzb24", "bad_cursor"),
        ("/models/a/deltaone?feature=x", "unknown_parameter"),
        ("/health?verbose=1", "unknown_parameter"),
        ("/models/a/deltaone?limit=1&limit=2", "bad_parameter"),
        ("/models/a/drift?feature=", "bad_parameter"),
        ("/models/%FF/deltaone", "bad_path"),
        ("/models/%20/deltaone", "bad_path"),
    ] {
        let (status, body) = call("GET", path).await;
        assert_eq!((status, code(&body)), (400, expected), "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_unconfigured_table_is_503_naming_the_variable() {
    let (status, body) = call("GET", "/contributors/0xabc/impact").await;
    assert_eq!((status, code(&body)), (503, "not_configured"));
    assert!(body["error"]["message"].as_str().unwrap().contains("DELTAONE_CREDITS_TABLE"));
}

#[test]
fn every_route_is_in_the_openapi_document_and_every_documented_path_is_routed() {
    let document: Value = serde_json::from_str(include_str!("../../../schemas/openapi.json")).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut routed: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    routed.sort();
    assert_eq!(documented, routed);
    // Each documented path template, filled in, reaches its own handler rather than the 404 fallback.
    for (_, template) in &routed {
        let path = template.replace("{name}", "m").replace("{address}", "a");
        assert!(route(&path).is_ok(), "{path} is documented but not routed");
    }
}

#[tokio::test]
async fn error_answers_match_the_documented_error_schema() {
    let document: Value = serde_json::from_str(include_str!("../../../schemas/openapi.json")).unwrap();
    let mut root = document.clone();
    root["$ref"] = json!("#/components/schemas/Error");
    let validator = jsonschema::draft202012::new(&root).unwrap();
    for (method, path) in [("GET", "/nope"), ("PUT", "/health"), ("GET", "/models/a/deltaone?limit=x")] {
        let response = QueryApi::new(Arc::new(Fake)).handle(&request(method, path)).await;
        let body: Value = serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
    // A body that is not an error does not pass, so the check can fail.
    assert!(!validator.is_valid(&json!({"error": {"code": "nope", "message": "x"}})));
}

#[tokio::test]
async fn a_function_url_event_as_aws_delivers_it_is_routed_with_its_path_decoded() {
    let text = include_str!("../../../samples/events/function-url-query.json");
    let event: LambdaFunctionUrlRequest = serde_json::from_str(text).unwrap();
    let response = QueryApi::new(Arc::new(Fake)).handle(&event).await;
    let body: Value = serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
    assert_eq!(response.status_code, 404, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("asked for fraud detector/eu"), "{body}");
}
