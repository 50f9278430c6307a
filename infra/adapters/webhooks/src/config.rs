//! Webhook endpoints and delivery settings: one JSON document, read once at start.
//!
//! Where it comes from: the file named by [`ENDPOINTS_FILE_ENV`], or the document itself in
//! [`ENDPOINTS_JSON_ENV`] (handy in a Lambda environment); setting both is an error.
//!
//! ```json
//! {
//!   "endpoints": [
//!     { "name": "orders", "url": "https://hooks.example.com/deltaone", "kind": "standard",
//!       "event_types": ["deltaone.achieved", "drift.detected"],
//!       "secret": "env:ORDERS_WEBHOOK_SECRET",
//!       "headers": { "Authorization": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-token" },
//!       "max_concurrency": 8, "allow_private": false },
//!     { "name": "ml-team", "url": "env:SLACK_WEBHOOK_URL", "kind": "slack" }
//!   ],
//!   "delivery": { "max_tries": 5, "base_delay_ms": 500, "max_delay_ms": 30000, "timeout_ms": 10000,
//!                 "max_retry_after_ms": 60000, "jitter": 0.25 }
//! }
//! ```
//!
//! Secrets never sit in the document: `secret`, every header value, and (for Slack, whose URL is the
//! secret) `url` may be a reference — `env:NAME` (an environment variable) or a Secrets Manager ARN
//! (read through the AWS Parameters and Secrets Lambda extension). Header values that are not secret
//! can be written `plain:VALUE`. `secret` must hold a Standard Webhooks secret (`whsec_…`); it is
//! required for `standard` endpoints. `event_types` omitted or empty means every event type.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use deltaone::message::EventType;
use deltaone::signature::StandardWebhookSecret;
use serde::Deserialize;

use super::retry::RetryPolicy;
pub use deltaone_app::secrets::SecretRef;
use deltaone_app::secrets::{SecretError, Secrets};

/// Path of the endpoints file.
pub const ENDPOINTS_FILE_ENV: &str = deltaone_app::env::WEBHOOK_ENDPOINTS;
/// The endpoints document inline (instead of a file).
pub const ENDPOINTS_JSON_ENV: &str = deltaone_app::env::WEBHOOK_ENDPOINTS_JSON;
/// The webhook dead-letter queue (SQS URL).
pub const DLQ_ENV: &str = deltaone_app::env::WEBHOOK_DLQ_URL;

/// Requests in flight per endpoint unless its `max_concurrency` says otherwise.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;
/// The highest `max_concurrency` accepted.
pub const MAX_CONCURRENCY_LIMIT: usize = 256;

/// What an endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// The message JSON, signed the Standard Webhooks way.
    #[default]
    Standard,
    /// A Slack incoming webhook: the message as Block Kit, unsigned (the URL is the secret).
    Slack,
}

/// Where an endpoint's URL comes from: written out, or (Slack) a secret reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Literal(reqwest::Url),
    Secret(SecretRef),
}

/// One configured endpoint before its secrets are read.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSpec {
    pub name: String,
    pub url: UrlSource,
    pub kind: EndpointKind,
    /// `None`: every event type.
    pub event_types: Option<HashSet<EventType>>,
    pub secret: Option<SecretRef>,
    pub headers: Vec<(reqwest::header::HeaderName, SecretRef)>,
    pub max_concurrency: usize,
    pub allow_private: bool,
}

/// The whole document, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub endpoints: Vec<EndpointSpec>,
    pub delivery: RetryPolicy,
}

/// An endpoint ready to deliver to: URL, signing secret and headers read. `Debug` shows the name,
/// kind and host only: URLs (Slack's), secrets and header values stay out of logs.
#[derive(Clone)]
pub struct Endpoint {
    pub name: String,
    pub url: reqwest::Url,
    pub kind: EndpointKind,
    pub event_types: Option<HashSet<EventType>>,
    pub secret: Option<StandardWebhookSecret>,
    /// Marked sensitive, so reqwest and `Debug` do not show them.
    pub headers: reqwest::header::HeaderMap,
    pub max_concurrency: usize,
    pub allow_private: bool,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("host", &self.url.host_str().unwrap_or(""))
            .field("kind", &self.kind)
            .field("event_types", &self.event_types)
            .field("signed", &self.secret.is_some())
            .field("headers", &self.headers.keys().map(|k| k.as_str()).collect::<Vec<_>>())
            .field("max_concurrency", &self.max_concurrency)
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

impl Endpoint {
    /// Whether this endpoint wants events of this type.
    pub fn wants(&self, event_type: EventType) -> bool {
        self.event_types.as_ref().is_none_or(|types| types.contains(&event_type))
    }
}

/// What is wrong with the webhook configuration; each names the endpoint and field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no webhook endpoints configured: set {ENDPOINTS_FILE_ENV} (a JSON file) or {ENDPOINTS_JSON_ENV} (the JSON itself)"
    )]
    Missing,
    #[error("both {ENDPOINTS_FILE_ENV} and {ENDPOINTS_JSON_ENV} are set: use one")]
    Both,
    #[error("cannot read the webhook endpoints file {path}: {message}")]
    Read { path: String, message: String },
    #[error("webhook endpoints ({origin}): {message}")]
    Json { origin: String, message: String },
    #[error("webhook endpoint {endpoint:?}: {field}: {reason}")]
    Invalid { endpoint: String, field: &'static str, reason: String },
    #[error("webhook delivery settings: {field}: {reason}")]
    Delivery { field: &'static str, reason: String },
    #[error("webhook endpoint {endpoint:?}: {field}: {source}")]
    Secret {
        endpoint: String,
        field: String,
        #[source]
        source: SecretError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    endpoints: Vec<RawEndpoint>,
    #[serde(default)]
    delivery: RawDelivery,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    name: String,
    url: String,
    #[serde(default)]
    kind: EndpointKind,
    #[serde(default)]
    event_types: Vec<String>,
    secret: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    max_concurrency: Option<usize>,
    #[serde(default)]
    allow_private: bool,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    max_tries: Option<u32>,
    base_delay_ms: Option<u64>,
    max_delay_ms: Option<u64>,
    timeout_ms: Option<u64>,
    max_retry_after_ms: Option<u64>,
    jitter: Option<f64>,
}

impl WebhookConfig {
    /// Reads the configuration from [`ENDPOINTS_FILE_ENV`] or [`ENDPOINTS_JSON_ENV`].
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match (var(ENDPOINTS_FILE_ENV), var(ENDPOINTS_JSON_ENV)) {
            (Some(_), Some(_)) => Err(ConfigError::Both),
            (Some(path), None) => Self::from_file(std::path::Path::new(&path)),
            (None, Some(json)) => Self::parse(&json, ENDPOINTS_JSON_ENV),
            (None, None) => Err(ConfigError::Missing),
        }
    }

    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), message: e.to_string() })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates a document; `origin` names it in errors (a path or a variable).
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = serde_json::from_str(text)
            .map_err(|e| ConfigError::Json { origin: origin.to_owned(), message: e.to_string() })?;
        if raw.endpoints.is_empty() {
            return Err(ConfigError::Json { origin: origin.to_owned(), message: "endpoints is empty".into() });
        }
        let mut names = BTreeSet::new();
        let mut endpoints = Vec::new();
        for raw in raw.endpoints {
            let spec = endpoint(raw)?;
            if !names.insert(spec.name.clone()) {
                return Err(invalid(&spec.name, "name", "two endpoints have this name"));
            }
            endpoints.push(spec);
        }
        Ok(Self { endpoints, delivery: delivery(raw.delivery)? })
    }
}

fn invalid(endpoint: &str, field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { endpoint: endpoint.to_owned(), field, reason: reason.into() }
}

fn endpoint(raw: RawEndpoint) -> Result<EndpointSpec, ConfigError> {
    let name = raw.name.trim().to_owned();
    let valid_name = !name.is_empty()
        && name.len() <= 80
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid_name {
        return Err(invalid(&raw.name, "name", "1 to 80 characters of A-Z, a-z, 0-9, '-', '_', '.'"));
    }
    let url = if raw.url.contains("://") {
        UrlSource::Literal(check_url(&raw.url).map_err(|e| invalid(&name, "url", e.to_string()))?)
    } else {
        UrlSource::Secret(SecretRef::parse(&raw.url).map_err(|reason| {
            invalid(&name, "url", format!("neither an http(s) URL nor a secret reference: {reason}"))
        })?)
    };
    let mut event_types = HashSet::new();
    for text in &raw.event_types {
        let parsed = EventType::ALL.into_iter().find(|t| t.as_str() == text.trim()).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            invalid(&name, "event_types", format!("unknown event type {text:?} (known: {})", known.join(", ")))
        })?;
        event_types.insert(parsed);
    }
    let secret = match &raw.secret {
        Some(text) => match SecretRef::parse(text) {
            Ok(SecretRef::Plain(_)) => {
                return Err(invalid(&name, "secret", "a signing secret must be env:NAME or a Secrets Manager ARN"));
            }
            Ok(r) => Some(r),
            Err(reason) => return Err(invalid(&name, "secret", reason.to_string())),
        },
        None => None,
    };
    if raw.kind == EndpointKind::Standard && secret.is_none() {
        return Err(invalid(&name, "secret", "standard endpoints are signed: reference a whsec_ secret"));
    }
    let mut headers = Vec::new();
    for (key, value) in &raw.headers {
        let header = reqwest::header::HeaderName::from_bytes(key.trim().as_bytes())
            .map_err(|_| invalid(&name, "headers", format!("{key:?} is not a header name")))?;
        let reserved = header.as_str().starts_with("webhook-") || ["content-type", "host"].contains(&header.as_str());
        if reserved {
            return Err(invalid(&name, "headers", format!("{key} is set by the notifier")));
        }
        let value = SecretRef::parse(value).map_err(|reason| invalid(&name, "headers", format!("{key}: {reason}")))?;
        headers.push((header, value));
    }
    let max_concurrency = raw.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
    if !(1..=MAX_CONCURRENCY_LIMIT).contains(&max_concurrency) {
        return Err(invalid(
            &name,
            "max_concurrency",
            format!("{max_concurrency} is not in 1..={MAX_CONCURRENCY_LIMIT}"),
        ));
    }
    Ok(EndpointSpec {
        name,
        url,
        kind: raw.kind,
        event_types: (!event_types.is_empty()).then_some(event_types),
        secret,
        headers,
        max_concurrency,
        allow_private: raw.allow_private,
    })
}

/// Why a text is not an endpoint URL. Never quotes the URL: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL: {0}")]
    Parse(#[from] url::ParseError),
    #[error("scheme {0} is not http or https")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("credentials in the URL: put them in a header that references a secret")]
    Credentials,
}

/// An absolute http(s) URL with a host and no credentials in it.
pub fn check_url(text: &str) -> Result<reqwest::Url, UrlError> {
    let url = reqwest::Url::parse(text.trim())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    Ok(url)
}

fn delivery(raw: RawDelivery) -> Result<RetryPolicy, ConfigError> {
    let bad = |field, reason: String| ConfigError::Delivery { field, reason };
    let mut policy = RetryPolicy::default();
    if let Some(tries) = raw.max_tries {
        if !(1..=20).contains(&tries) {
            return Err(bad("max_tries", format!("{tries} is not in 1..=20")));
        }
        policy.max_tries = tries;
    }
    let ms = |field: &'static str, value: Option<u64>, min: u64, max: u64, into: &mut Duration| {
        if let Some(ms) = value {
            if !(min..=max).contains(&ms) {
                return Err(bad(field, format!("{ms} ms is not in {min}..={max}")));
            }
            *into = Duration::from_millis(ms);
        }
        Ok(())
    };
    ms("base_delay_ms", raw.base_delay_ms, 1, 60_000, &mut policy.base_delay)?;
    ms("max_delay_ms", raw.max_delay_ms, 1, 900_000, &mut policy.max_delay)?;
    ms("timeout_ms", raw.timeout_ms, 10, 900_000, &mut policy.timeout)?;
    ms("max_retry_after_ms", raw.max_retry_after_ms, 0, 900_000, &mut policy.max_retry_after)?;
    if policy.max_delay < policy.base_delay {
        return Err(bad("max_delay_ms", "is below base_delay_ms".into()));
    }
    if let Some(jitter) = raw.jitter {
        if !(0.0..=0.5).contains(&jitter) {
            return Err(bad("jitter", format!("{jitter} is not in 0..=0.5")));
        }
        policy.jitter = jitter;
    }
    Ok(policy)
}

impl EndpointSpec {
    /// Reads the endpoint's secrets (URL, signing secret, header values).
    pub async fn resolve(&self, secrets: &dyn Secrets) -> Result<Endpoint, ConfigError> {
        let secret_err =
            |field: &str, source| ConfigError::Secret { endpoint: self.name.clone(), field: field.to_owned(), source };
        let url = match &self.url {
            UrlSource::Literal(url) => url.clone(),
            UrlSource::Secret(r) => {
                let text = secrets.read(r).await.map_err(|e| secret_err("url", e))?;
                // The reason may quote the URL, which is the secret: say only what is wrong with it.
                check_url(&text)
                    .map_err(|_| invalid(&self.name, "url", "the referenced secret is not an http(s) URL"))?
            }
        };
        let secret = match &self.secret {
            Some(r) => {
                let text = secrets.read(r).await.map_err(|e| secret_err("secret", e))?;
                let parsed = StandardWebhookSecret::parse(&text)
                    .map_err(|e| invalid(&self.name, "secret", format!("not a Standard Webhooks secret: {e}")))?;
                Some(parsed)
            }
            None => None,
        };
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, r) in &self.headers {
            let text = secrets.read(r).await.map_err(|e| secret_err(name.as_str(), e))?;
            let mut value = reqwest::header::HeaderValue::from_str(text.trim()).map_err(|_| {
                invalid(&self.name, "headers", format!("{name}: the value is not a valid header value"))
            })?;
            value.set_sensitive(true);
            headers.insert(name.clone(), value);
        }
        Ok(Endpoint {
            name: self.name.clone(),
            url,
            kind: self.kind,
            event_types: self.event_types.clone(),
            secret,
            headers,
            max_concurrency: self.max_concurrency,
            allow_private: self.allow_private,
        })
    }
}

impl WebhookConfig {
    /// Every endpoint with its secrets read.
    pub async fn resolve(&self, secrets: &dyn Secrets) -> Result<Vec<Endpoint>, ConfigError> {
        let mut endpoints = Vec::with_capacity(self.endpoints.len());
        for spec in &self.endpoints {
            endpoints.push(spec.resolve(secrets).await?);
        }
        Ok(endpoints)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<WebhookConfig, ConfigError> {
        WebhookConfig::parse(json, "test.json")
    }

    fn one(endpoint: &str) -> String {
        format!(r#"{{"endpoints": [{endpoint}]}}"#)
    }

    #[test]
    fn a_full_document_parses_with_defaults_filled_in() {
        let config = parse(
            r#"{"endpoints": [
                {"name": "orders", "url": "https://hooks.example.com/x", "secret": "env:ORDERS_SECRET",
                 "event_types": ["deltaone.achieved", "drift.detected"],
                 "headers": {"Authorization": "arn:aws:secretsmanager:eu-west-1:1:secret:t", "X-Team": "plain:ml"},
                 "max_concurrency": 2},
                {"name": "slack", "url": "env:SLACK_URL", "kind": "slack", "allow_private": true}
            ], "delivery": {"max_tries": 3, "base_delay_ms": 10}}"#,
        )
        .unwrap();
        let orders = &config.endpoints[0];
        assert_eq!(orders.secret, Some(SecretRef::Env("ORDERS_SECRET".into())));
        assert_eq!(orders.max_concurrency, 2);
        assert_eq!(orders.event_types, Some(HashSet::from([EventType::DeltaOneAchieved, EventType::DriftDetected])));
        assert_eq!(orders.headers.len(), 2);
        let slack = &config.endpoints[1];
        assert_eq!(slack.kind, EndpointKind::Slack);
        assert_eq!(slack.url, UrlSource::Secret(SecretRef::Env("SLACK_URL".into())));
        assert_eq!(slack.event_types, None);
        assert_eq!(slack.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert!(slack.allow_private);
        assert_eq!(config.delivery.max_tries, 3);
        assert_eq!(config.delivery.base_delay, Duration::from_millis(10));
        assert_eq!(config.delivery.max_delay, RetryPolicy::default().max_delay);
    }

    fn error_text(json: &str) -> String {
        parse(json).expect_err("must be refused").to_string()
    }

    #[test]
    fn errors_name_the_endpoint_and_the_field() {
        let cases = [
            (one(r#"{"name": "a", "url": "ftp://x/", "secret": "env:S"}"#), "\"a\": url: scheme ftp"),
            (one(r#"{"name": "a", "url": "https://u:p@x/", "secret": "env:S"}"#), "url: credentials"),
            (one(r#"{"name": "a", "url": "https://x/"}"#), "\"a\": secret: standard endpoints are signed"),
            (one(r#"{"name": "a", "url": "https://x/", "secret": "whsec_abc"}"#), "secret: expected env:NAME"),
            (one(r#"{"name": "a", "url": "https://x/", "secret": "plain:x"}"#), "secret: a signing secret"),
            (
                one(r#"{"name": "a", "url": "https://x/", "secret": "env:S", "event_types": ["deltaone.win"]}"#),
                "event_types: unknown event type \"deltaone.win\"",
            ),
            (
                one(r#"{"name": "a", "url": "https://x/", "secret": "env:S", "max_concurrency": 0}"#),
                "max_concurrency: 0 is not in 1..=256",
            ),
            (
                one(r#"{"name": "a", "url": "https://x/", "secret": "env:S", "headers": {"webhook-id": "plain:x"}}"#),
                "headers: webhook-id is set by the notifier",
            ),
            (
                one(r#"{"name": "a", "url": "https://x/", "secret": "env:S", "headers": {"Authorization": "Bearer t"}}"#),
                "headers: Authorization: expected env:NAME",
            ),
            (one(r#"{"name": "a b", "url": "https://x/", "secret": "env:S"}"#), "\"a b\": name"),
            (one(r#"{"name": "a", "url": "https://x/", "secret": "env:S", "colour": 1}"#), "unknown field `colour`"),
            (r#"{"endpoints": []}"#.to_owned(), "endpoints is empty"),
            (r#"{"endpoints": [{"name": "a", "url": "https://x/", "secret": "env:S"}, {"name": "a", "url": "https://y/", "secret": "env:S"}]}"#.to_owned(), "two endpoints have this name"),
            (r#"{"endpoints": [{"name": "a", "url": "https://x/", "secret": "env:S"}], "delivery": {"max_tries": 0}}"#.to_owned(), "max_tries: 0 is not in 1..=20"),
            (r#"{"endpoints": [{"name": "a", "url": "https://x/", "secret": "env:S"}], "delivery": {"jitter": 0.9}}"#.to_owned(), "jitter"),
            ("not json".to_owned(), "webhook endpoints (test.json): expected"),
        ];
        for (json, expected) in cases {
            let text = error_text(&json);
            assert!(text.contains(expected), "{json}\n  gave: {text}\n  expected to contain: {expected}");
        }
    }

    #[tokio::test]
    async fn resolved_endpoints_never_show_secrets_in_debug() {
        // SAFETY: this test's variables have names no other test uses.
        unsafe {
            std::env::set_var("DELTAONE_TEST_CONFIG_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
            std::env::set_var("DELTAONE_TEST_CONFIG_TOKEN", "Bearer very-secret-token");
            std::env::set_var("DELTAONE_TEST_CONFIG_SLACK", "https://hooks.slack.com/services/T0/B0/secretpart");
        }
        let config = parse(
            r#"{"endpoints": [
                {"name": "a", "url": "https://x.example/", "secret": "env:DELTAONE_TEST_CONFIG_SECRET",
                 "headers": {"Authorization": "env:DELTAONE_TEST_CONFIG_TOKEN"}},
                {"name": "s", "url": "env:DELTAONE_TEST_CONFIG_SLACK", "kind": "slack"}]}"#,
        )
        .unwrap();
        let endpoints = config.resolve(&deltaone_app::secrets::EnvSecrets).await.unwrap();
        let shown = format!("{endpoints:?}");
        for secret in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "very-secret-token", "secretpart"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(endpoints[1].url.as_str(), "https://hooks.slack.com/services/T0/B0/secretpart");
        assert_eq!(endpoints[0].headers["authorization"], "Bearer very-secret-token");
    }

    #[tokio::test]
    async fn a_missing_secret_variable_is_named() {
        let config = parse(
            one(r#"{"name": "a", "url": "https://x/", "secret": "env:DELTAONE_TEST_NOT_SET_ANYWHERE"}"#).as_str(),
        )
        .unwrap();
        let err = config.resolve(&deltaone_app::secrets::EnvSecrets).await.unwrap_err().to_string();
        assert!(err.contains("\"a\": secret") && err.contains("DELTAONE_TEST_NOT_SET_ANYWHERE"), "{err}");
    }
}
