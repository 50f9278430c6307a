//! MLflow Model Registry over its REST API (there is no maintained Rust client).
//!
//! Only what DeltaOne needs: version search (paginated, server-side filters, numeric order), model
//! tags, run metrics, and the tag/metric writes of the write-back. Retries on 429, 5xx, timeouts
//! and refused connections only; every other failure is a typed, permanent error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{ExponentialBuilder, Retryable};
use deltaone::VersionNumber;
use deltaone_app::registry::snapshot::{ModelVersionJson, RegisteredModelJson, RunJson};
use deltaone_app::settings::{MlflowAuth, MlflowConfig};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

const API: &str = "api/2.0/mlflow";

/// A failed registry request.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error("MLflow has no {what}")]
    NotFound { what: String },
    #[error("MLflow rejected {endpoint} with HTTP {status} {code}: {message}")]
    Rejected { endpoint: String, status: u16, code: String, message: String },
    /// A concurrent write to the same row lost a race inside MLflow's database (its tag upsert is
    /// not atomic: sqlite says "UNIQUE constraint failed", PostgreSQL "duplicate key"). Retrying works.
    #[error("MLflow write conflict on {endpoint} (after retries): {message}")]
    Conflict { endpoint: String, message: String },
    #[error("MLflow failed {endpoint} with HTTP {status} (after retries): {message}")]
    Server { endpoint: String, status: u16, message: String },
    #[error("MLflow did not answer {endpoint} within {timeout:?} (after retries)")]
    Timeout { endpoint: String, timeout: Duration },
    #[error("cannot reach MLflow at {uri} (after retries): {source}")]
    Unreachable { uri: String, source: reqwest::Error },
    #[error("MLflow's answer to {endpoint} is not what the REST API documents: {detail}")]
    Decode { endpoint: String, detail: String },
    #[error("invalid MLflow setting: {0}")]
    Config(String),
}

/// What the registry port says happened: the kind of failure, not which client saw it. The message
/// keeps MLflow's own words.
impl From<MlflowError> for deltaone_app::registry::RegistryError {
    fn from(e: MlflowError) -> Self {
        use deltaone_app::registry::RegistryError as R;
        let message = e.to_string();
        match e {
            MlflowError::NotFound { .. } => R::NotFound(message),
            MlflowError::Conflict { .. } => R::Conflict(message),
            MlflowError::Rejected { status: 429, .. }
            | MlflowError::Server { .. }
            | MlflowError::Timeout { .. }
            | MlflowError::Unreachable { .. } => R::Unavailable(message),
            MlflowError::Rejected { .. } | MlflowError::Decode { .. } | MlflowError::Config(_) => R::Rejected(message),
        }
    }
}

impl MlflowError {
    /// Whether trying again later may succeed (server trouble, overload, network).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Server { .. } | Self::Timeout { .. } | Self::Unreachable { .. } | Self::Conflict { .. } => true,
            Self::Rejected { status, .. } => *status == 429,
            Self::NotFound { .. } | Self::Decode { .. } | Self::Config(_) => false,
        }
    }
}

#[derive(Deserialize)]
struct SearchVersionsPage {
    #[serde(default)]
    model_versions: Vec<ModelVersionJson>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct SearchModelsPage {
    #[serde(default)]
    registered_models: Vec<RegisteredModelJson>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    error_code: String,
    #[serde(default)]
    message: String,
}

/// Sort order of a version search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOrder {
    NewestFirst,
    OldestFirst,
}

/// A client for one MLflow server; cheap to clone.
#[derive(Clone)]
pub struct MlflowClient {
    http: reqwest::Client,
    base: reqwest::Url,
    config: MlflowConfig,
}

/// Quotes a value for MLflow's filter grammar.
pub fn filter_literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl MlflowClient {
    pub fn new(config: MlflowConfig) -> Result<Self, MlflowError> {
        let mut uri = config.tracking_uri.trim().to_owned();
        if !uri.ends_with('/') {
            uri.push('/');
        }
        let base = reqwest::Url::parse(&uri)
            .map_err(|e| MlflowError::Config(format!("tracking URI {:?} is not a URL: {e}", config.tracking_uri)))?
            .join(&format!("{API}/"))
            .map_err(|e| MlflowError::Config(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(MlflowError::Config(format!(
                "tracking URI {:?} must be http:// or https:// (file and databricks URIs are not supported)",
                config.tracking_uri
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("deltaone/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MlflowError::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { http, base, config })
    }

    pub fn config(&self) -> &MlflowConfig {
        &self.config
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, MlflowError> {
        let attempt = || async { self.call_once(method.clone(), endpoint, query, body).await };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.config.retries)
            .with_jitter();
        attempt
            .retry(backoff)
            .when(MlflowError::is_retryable)
            .notify(|err, after| tracing::warn!(endpoint, error = %err, retry_in = ?after, "MLflow request failed; retrying"))
            .await
    }

    async fn call_once<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, MlflowError> {
        let url = self.base.join(endpoint).map_err(|e| MlflowError::Config(e.to_string()))?;
        let mut request = self.http.request(method, url).query(query);
        request = match &self.config.auth {
            MlflowAuth::None => request,
            MlflowAuth::Bearer(token) => request.bearer_auth(token),
            MlflowAuth::Basic { username, password } => request.basic_auth(username, Some(password)),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.transport_error(endpoint, e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(endpoint, e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| MlflowError::Decode { endpoint: endpoint.to_owned(), detail: e.to_string() });
        }
        let api: Option<ApiError> = serde_json::from_slice(&bytes).ok();
        let message = api
            .as_ref()
            .map(|a| a.message.clone())
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        let code = api.map(|a| a.error_code).unwrap_or_default();
        Err(if status.is_server_error() {
            MlflowError::Server { endpoint: endpoint.to_owned(), status: status.as_u16(), message }
        } else if message.contains("UNIQUE constraint failed") || message.contains("duplicate key value") {
            MlflowError::Conflict { endpoint: endpoint.to_owned(), message }
        } else if status == StatusCode::NOT_FOUND || code == "RESOURCE_DOES_NOT_EXIST" {
            MlflowError::NotFound { what: message }
        } else {
            MlflowError::Rejected { endpoint: endpoint.to_owned(), status: status.as_u16(), code, message }
        })
    }

    fn transport_error(&self, endpoint: &str, e: reqwest::Error) -> MlflowError {
        if e.is_timeout() {
            MlflowError::Timeout { endpoint: endpoint.to_owned(), timeout: self.config.timeout }
        } else if e.is_decode() {
            MlflowError::Decode { endpoint: endpoint.to_owned(), detail: e.to_string() }
        } else {
            MlflowError::Unreachable { uri: self.config.tracking_uri.clone(), source: e }
        }
    }

    /// One page of `model-versions/search`.
    async fn search_versions_page(
        &self,
        filter: &str,
        order: VersionOrder,
        max_results: u32,
        page_token: Option<&str>,
    ) -> Result<SearchVersionsPage, MlflowError> {
        let order_by = match order {
            VersionOrder::NewestFirst => "version_number DESC",
            VersionOrder::OldestFirst => "version_number ASC",
        };
        let mut query = vec![
            ("filter", filter.to_owned()),
            ("order_by", order_by.to_owned()),
            ("max_results", max_results.to_string()),
        ];
        if let Some(token) = page_token {
            query.push(("page_token", token.to_owned()));
        }
        self.call(Method::GET, "model-versions/search", &query, None).await
    }

    /// The first `limit` versions matching `filter` in `order` (one request).
    pub async fn search_versions(
        &self,
        filter: &str,
        order: VersionOrder,
        limit: u32,
    ) -> Result<Vec<ModelVersionJson>, MlflowError> {
        Ok(self.search_versions_page(filter, order, limit, None).await?.model_versions)
    }

    /// Every version matching `filter`, following `next_page_token` page by page.
    pub async fn search_all_versions(
        &self,
        filter: &str,
        order: VersionOrder,
    ) -> Result<Vec<ModelVersionJson>, MlflowError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.search_versions_page(filter, order, self.config.page_size, token.as_deref()).await?;
            all.extend(page.model_versions);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// A registered model's tags; `NotFound` when the model does not exist.
    pub async fn model(&self, name: &str) -> Result<RegisteredModelJson, MlflowError> {
        #[derive(Deserialize)]
        struct Reply {
            registered_model: RegisteredModelJson,
        }
        let reply: Reply = self.call(Method::GET, "registered-models/get", &[("name", name.to_owned())], None).await?;
        Ok(reply.registered_model)
    }

    /// Names of every registered model, page by page.
    pub async fn model_names(&self) -> Result<Vec<String>, MlflowError> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("max_results", self.config.page_size.min(1000).to_string())];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let page: SearchModelsPage = self.call(Method::GET, "registered-models/search", &query, None).await?;
            names.extend(page.registered_models.into_iter().map(|m| m.name));
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(names),
            }
        }
    }

    /// One version; `NotFound` when the model or the version does not exist.
    /// The version behind `alias`, `None` when the alias is not set.
    pub async fn alias_version(&self, model: &str, alias: &str) -> Result<Option<ModelVersionJson>, MlflowError> {
        #[derive(Deserialize)]
        struct Reply {
            model_version: ModelVersionJson,
        }
        let query = [("name", model.to_owned()), ("alias", alias.to_owned())];
        match self.call::<Reply>(Method::GET, "registered-models/alias", &query, None).await {
            Ok(reply) => Ok(Some(reply.model_version)),
            Err(MlflowError::NotFound { .. }) => Ok(None),
            // MLflow answers an unset alias with INVALID_PARAMETER_VALUE ("alias … not found").
            Err(MlflowError::Rejected { status: 400, message, .. }) if message.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Points `alias` at `version` (MLflow moves it if it pointed elsewhere).
    pub async fn set_alias(&self, model: &str, alias: &str, version: VersionNumber) -> Result<(), MlflowError> {
        let body = json!({"name": model, "alias": alias, "version": version.to_string()});
        self.call::<serde_json::Value>(Method::POST, "registered-models/alias", &[], Some(&body)).await.map(drop)
    }

    pub async fn version(&self, model: &str, version: VersionNumber) -> Result<ModelVersionJson, MlflowError> {
        #[derive(Deserialize)]
        struct Reply {
            model_version: ModelVersionJson,
        }
        let query = [("name", model.to_owned()), ("version", version.to_string())];
        let reply: Reply = self.call(Method::GET, "model-versions/get", &query, None).await?;
        Ok(reply.model_version)
    }

    /// Logs several metrics to a run in one request.
    pub async fn log_batch(&self, run_id: &str, metrics: &[(String, f64)]) -> Result<(), MlflowError> {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let metrics: Vec<serde_json::Value> = metrics
            .iter()
            .map(|(key, value)| json!({"key": key, "value": value, "timestamp": timestamp, "step": 0}))
            .collect();
        let body = json!({"run_id": run_id, "metrics": metrics});
        self.call::<serde_json::Value>(Method::POST, "runs/log-batch", &[], Some(&body)).await.map(drop)
    }

    pub async fn run(&self, run_id: &str) -> Result<RunJson, MlflowError> {
        #[derive(Deserialize)]
        struct Reply {
            run: RunJson,
        }
        let reply: Reply = self.call(Method::GET, "runs/get", &[("run_id", run_id.to_owned())], None).await?;
        Ok(reply.run)
    }

    pub async fn set_version_tag(
        &self,
        model: &str,
        version: VersionNumber,
        key: &str,
        value: &str,
    ) -> Result<(), MlflowError> {
        let body = json!({"name": model, "version": version.to_string(), "key": key, "value": value});
        self.call::<serde_json::Value>(Method::POST, "model-versions/set-tag", &[], Some(&body)).await.map(drop)
    }

    pub async fn log_metric(&self, run_id: &str, key: &str, value: f64) -> Result<(), MlflowError> {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let body = json!({"run_id": run_id, "key": key, "value": value, "timestamp": timestamp, "step": 0});
        self.call::<serde_json::Value>(Method::POST, "runs/log-metric", &[], Some(&body)).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltaone_app::registry::snapshot::TagJson;

    #[test]
    fn run_metrics_take_the_latest_step_and_read_nan_strings() {
        let run: RunJson = serde_json::from_value(json!({
            "info": {"run_id": "r"},
            "data": {"metrics": [
                {"key": "accuracy", "value": 0.5, "timestamp": 10, "step": 0},
                {"key": "accuracy", "value": 0.9, "timestamp": 5, "step": 3},
                {"key": "loss", "value": "NaN", "timestamp": 1, "step": 0}
            ]}
        }))
        .unwrap();
        let metrics = run.metrics();
        assert_eq!(metrics["accuracy"], 0.9);
        assert!(metrics["loss"].is_nan());
    }

    #[test]
    fn versions_with_odd_numbers_are_skipped_and_empty_run_ids_dropped() {
        let v = ModelVersionJson {
            name: "m".into(),
            version: "3".into(),
            run_id: Some(String::new()),
            tags: vec![TagJson { key: "k".into(), value: "v".into() }],
            source: None,
            creation_timestamp: None,
        };
        let facts = v.facts().unwrap();
        assert_eq!(facts.run_id, None);
        assert_eq!(facts.tags["k"], "v");
        assert!(ModelVersionJson { version: "x".into(), ..v }.facts().is_none());
    }

    #[test]
    fn filter_literals_escape_quotes() {
        assert_eq!(filter_literal("o'neil"), "'o\\'neil'");
    }

    #[test]
    fn non_http_uris_are_a_config_error() {
        let err = MlflowClient::new(MlflowConfig::new("databricks")).err().unwrap();
        assert!(err.to_string().contains("tracking URI"), "{err}");
        let err = MlflowClient::new(MlflowConfig::new("file:///tmp/mlruns")).err().unwrap();
        assert!(err.to_string().contains("http:// or https://"), "{err}");
    }

    #[test]
    fn credentials_are_not_printed() {
        let shown = format!("{:?}", MlflowAuth::Bearer("secret-token".into()));
        assert!(!shown.contains("secret"));
    }

    #[test]
    fn only_server_trouble_is_retryable() {
        let rejected = |status| MlflowError::Rejected {
            endpoint: "e".into(),
            status,
            code: String::new(),
            message: String::new(),
        };
        assert!(rejected(429).is_retryable());
        assert!(!rejected(400).is_retryable());
        assert!(MlflowError::Server { endpoint: "e".into(), status: 503, message: String::new() }.is_retryable());
        assert!(!MlflowError::NotFound { what: "m".into() }.is_retryable());
    }
}
