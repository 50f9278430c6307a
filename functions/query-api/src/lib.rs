//! The query API: a read-only Lambda function behind a Function URL.
//!
//! | route | answers |
//! |---|---|
//! | `GET /health` | `{"status": "ok", …}` without touching DynamoDB |
//! | `GET /models/{name}/deltaone` | the latest verdict and a page of the history, newest first |
//! | `GET /models/{name}/lineage` | versions, baselines, deltas, attestation hashes, the chain's verification |
//! | `GET /contributors/{address}/impact` | summed credited pp across models, and a page of DeltaOne events |
//! | `GET /models/{name}/drift` | a page of drift runs; with `?feature=X`, that column's history |
//!
//! Pages: `?limit=` (1–500, default 50) and `?cursor=` (the previous page's `next_cursor`, unchanged).
//! Path segments are percent-decoded after splitting on `/`, so a model name holding `/` is sent as `%2F`
//! (and a space as `%20`; `+` stays a plus). Errors are `{"error": {"code", "message"}}` with 400 (bad
//! parameter, cursor or path), 404 (unknown route, model or contributor), 405 (not GET; `Allow: GET`),
//! 503 (a table is not configured, or DynamoDB is unavailable) or 500. `schemas/openapi.json` documents
//! all of it; a test checks the routes and the answers against it.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::http::{HeaderValue, header};
use deltaone_app::env;
use deltaone_app::query::{PageRequest, QueryError, ReadModel, views};
use deltaone_aws::read_only::OperationLog;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::{Value, json};

pub use aws_lambda_events::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};

/// Every route as (method, OpenAPI path template); the OpenAPI document lists exactly these.
pub const ROUTES: [(&str, &str); 5] = [
    ("get", "/health"),
    ("get", "/models/{name}/deltaone"),
    ("get", "/models/{name}/lineage"),
    ("get", "/contributors/{address}/impact"),
    ("get", "/models/{name}/drift"),
];

/// What a request asked for, once its path was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Health,
    Deltaone(String),
    Lineage(String),
    Impact(String),
    Drift(String),
}

impl Route {
    /// The query parameters the route accepts.
    fn parameters(&self) -> &'static [&'static str] {
        match self {
            Self::Health => &[],
            Self::Deltaone(_) | Self::Lineage(_) | Self::Impact(_) => &["limit", "cursor"],
            Self::Drift(_) => &["limit", "cursor", "feature"],
        }
    }
}

/// An answer that is not a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match &e {
            QueryError::BadParameter { .. } => Self::new(400, "bad_parameter", e.to_string()),
            QueryError::BadCursor(_) => Self::new(400, "bad_cursor", e.to_string()),
            QueryError::NotFound(_) => Self::new(404, "not_found", e.to_string()),
            QueryError::NotConfigured { .. } => Self::new(503, "not_configured", e.to_string()),
            QueryError::Backend { retryable: true, .. } => {
                tracing::warn!(error = %e, "DynamoDB unavailable");
                Self::new(503, "unavailable", "the verdict store is unavailable; try again")
            }
            QueryError::Backend { .. } | QueryError::Corrupt { .. } => {
                tracing::error!(error = %e, "query failed");
                Self::new(500, "internal", "the query failed; the function's log has the details")
            }
        }
    }
}

/// The function: a read model and the routes over it.
pub struct QueryApi {
    read: Arc<dyn ReadModel>,
}

impl QueryApi {
    pub fn new(read: Arc<dyn ReadModel>) -> Self {
        Self { read }
    }

    /// Answers one Function URL request; never fails (errors are JSON answers).
    pub async fn handle(&self, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        match self.answer(request).await {
            Ok(body) => json_response(200, &body),
            Err(e) => {
                let mut response = json_response(e.status, &e.body());
                if e.status == 405 {
                    response.headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
                }
                response
            }
        }
    }

    async fn answer(&self, request: &LambdaFunctionUrlRequest) -> Result<Value, ApiError> {
        let path = request.raw_path.as_deref().or(request.request_context.http.path.as_deref()).unwrap_or("/");
        let route = route(path)?;
        let method = request.request_context.http.method.as_deref().unwrap_or("GET");
        if !method.eq_ignore_ascii_case("GET") {
            return Err(ApiError::new(405, "method_not_allowed", format!("{method} is not allowed here; use GET")));
        }
        let params = parameters(request)?;
        if let Some(unknown) = params.keys().find(|k| !route.parameters().contains(&k.as_str())) {
            let allowed = route.parameters();
            let hint = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            return Err(ApiError::new(
                400,
                "unknown_parameter",
                format!("unknown query parameter {unknown:?}; this route takes: {hint}"),
            ));
        }
        let page =
            || PageRequest::parse(params.get("limit").map(String::as_str), params.get("cursor").map(String::as_str));
        let read = self.read.as_ref();
        match route {
            Route::Health => {
                Ok(json!({"status": "ok", "service": "deltaone-query-api", "version": env!("CARGO_PKG_VERSION")}))
            }
            Route::Deltaone(model) => to_json(views::deltaone(read, &model, &page()?).await?),
            Route::Lineage(model) => to_json(views::lineage(read, &model, &page()?).await?),
            Route::Impact(address) => to_json(views::impact(read, &address, &page()?).await?),
            Route::Drift(model) => match params.get("feature") {
                Some(feature) if feature.is_empty() => {
                    Err(ApiError::new(400, "bad_parameter", "parameter feature: must name a column"))
                }
                Some(feature) => to_json(views::feature_history(read, &model, feature, &page()?).await?),
                None => to_json(views::drift_runs(read, &model, &page()?).await?),
            },
        }
    }
}

fn to_json<T: Serialize>(view: T) -> Result<Value, ApiError> {
    serde_json::to_value(view).map_err(|e| ApiError::new(500, "internal", format!("cannot encode the answer: {e}")))
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(
        404,
        "not_found",
        format!(
            "no route {path:?}; routes: /health, /models/{{name}}/deltaone, /models/{{name}}/lineage, \
             /models/{{name}}/drift, /contributors/{{address}}/impact"
        ),
    )
}

/// A path segment, percent-decoded.
fn segment(raw: &str) -> Result<String, ApiError> {
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ApiError::new(400, "bad_path", format!("path segment {raw:?} is not UTF-8 once decoded")))?;
    if decoded.trim().is_empty() || decoded.chars().any(char::is_control) {
        return Err(ApiError::new(
            400,
            "bad_path",
            format!("path segment {raw:?} is empty or holds control characters"),
        ));
    }
    Ok(decoded.into_owned())
}

fn route(path: &str) -> Result<Route, ApiError> {
    let parts: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    match parts.as_slice() {
        ["health"] => Ok(Route::Health),
        ["models", name, "deltaone"] if !name.is_empty() => Ok(Route::Deltaone(segment(name)?)),
        ["models", name, "lineage"] if !name.is_empty() => Ok(Route::Lineage(segment(name)?)),
        ["models", name, "drift"] if !name.is_empty() => Ok(Route::Drift(segment(name)?)),
        ["contributors", address, "impact"] if !address.is_empty() => Ok(Route::Impact(segment(address)?)),
        _ => Err(not_found(path)),
    }
}

/// Query parameters, decoded (`+` is a space, then `%XX`); a repeated parameter is an error.
fn parameters(request: &LambdaFunctionUrlRequest) -> Result<BTreeMap<String, String>, ApiError> {
    let mut params = BTreeMap::new();
    let Some(raw) = request.raw_query_string.as_deref() else {
        return Ok(request.query_string_parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_decode_str(&text.replace('+', " "))
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::new(400, "bad_parameter", format!("query parameter {key:?} is not UTF-8")))
        };
        let (key, value) = (decode(key)?, decode(value)?);
        if params.insert(key.clone(), value).is_some() {
            return Err(ApiError::new(400, "bad_parameter", format!("query parameter {key:?} is given twice")));
        }
    }
    Ok(params)
}

pub use deltaone_function_url::json_response;

/// A Function URL request as AWS delivers it, for tests and tools: `path_and_query` as a client sends
/// it (`/models/a%20b/deltaone?limit=5`).
pub fn request(method: &str, path_and_query: &str) -> LambdaFunctionUrlRequest {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut request = LambdaFunctionUrlRequest::default();
    request.version = Some("2.0".into());
    request.raw_path = Some(path.to_owned());
    request.raw_query_string = Some(query.to_owned());
    request.request_context.http.method = Some(method.to_owned());
    request.request_context.http.path = Some(path.to_owned());
    request
}

/// A setting the function cannot start without, named with its variable.
pub type SetupError = deltaone_app::startup::StartupError;

/// The name this function goes by in its start-up error.
pub const FUNCTION: &str = "query-api";

/// Wires the function from its environment: DELTAONE_VERDICT_TABLE (required), DELTAONE_CREDITS_TABLE and
/// DELTAONE_DRIFT_TABLE (optional; their routes answer 503 without them). The DynamoDB client is
/// read-only ([`deltaone_aws::read_only`]); the returned log records the operations it sends.
pub async fn from_env() -> Result<QueryApi, SetupError> {
    Ok(from_env_with_log().await?.0)
}

/// [`from_env`], and the log of DynamoDB operations the function's client sends.
pub async fn from_env_with_log() -> Result<(QueryApi, OperationLog), SetupError> {
    let settings = deltaone_app::settings::SettingsArgs::from_env()?;
    let Some(deltaone_app::settings::StoreTarget::Dynamo { table }) = settings.store.clone() else {
        return Err(SetupError::new(env::VERDICT_TABLE, "is not set: the query API reads verdicts from DynamoDB"));
    };
    let tables = deltaone_aws::read_model::Tables {
        verdicts: table,
        credits: settings.credits_table.clone(),
        drift: settings.drift_table.clone(),
    };
    let sdk = deltaone_aws::sdk_config(settings.aws_endpoint_url.as_deref()).await;
    Ok(with_config(&sdk, tables))
}

/// The function over `tables`, with the read-only client built from `sdk` — what `from_env` does.
pub fn with_config(sdk: &aws_config::SdkConfig, tables: deltaone_aws::read_model::Tables) -> (QueryApi, OperationLog) {
    let (client, log) = deltaone_aws::read_only::read_only_client(sdk);
    let read = deltaone_aws::read_model::DynamoReadModel::new(client, tables);
    (QueryApi::new(Arc::new(read)), log)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod startup_tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_verdict_table_stops_the_start_with_one_line_naming_it() {
        // SAFETY: the test reads the environment only through `from_env`, after this change.
        unsafe {
            std::env::remove_var("DELTAONE_VERDICT_TABLE");
        }
        let Err(e) = from_env().await else { panic!("started without its required setting") };
        assert_eq!(
            deltaone_app::startup::line(FUNCTION, &e),
            "query-api cannot start: DELTAONE_VERDICT_TABLE: is not set: the query API reads verdicts from DynamoDB"
        );
    }
}
