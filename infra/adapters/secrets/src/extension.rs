//! The AWS Parameters and Secrets Lambda extension: `GET {base}/secretsmanager/get?secretId=ID`,
//! authenticated with the function's session token. The one client every function uses.

use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use serde_json::Value;

/// The extension's default port.
pub const EXTENSION_DEFAULT_PORT: u16 = 2773;
/// The variable that moves the extension to another port.
pub const EXTENSION_PORT_ENV: &str = deltaone_app::env::PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
/// The session token the extension authenticates callers with; set only inside Lambda.
pub const SESSION_TOKEN_ENV: &str = deltaone_app::env::AWS_SESSION_TOKEN;

/// What went wrong reading one secret.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionFailure {
    #[error("the Parameters and Secrets extension at {base} is not reachable: {message}")]
    Unreachable { base: String, message: String },
    #[error("HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status { status: reqwest::StatusCode, body: String },
    #[error("unreadable answer: {0}")]
    Unreadable(String),
    #[error("no SecretString (binary secrets are not supported)")]
    NoSecretString,
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] Arc<reqwest::Error>),
}

impl ExtensionFailure {
    /// The extension may still be starting: unreachable, or a server error.
    fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
}

/// A secret the extension did not give.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {secret_id} through the Parameters and Secrets extension: {failure}")]
pub struct ExtensionError {
    pub secret_id: String,
    #[source]
    pub failure: ExtensionFailure,
}

/// The extension, at its address, with the token to present.
#[derive(Clone)]
pub struct Extension {
    base_url: String,
    token: String,
    /// Kept as built: a client that cannot be built is reported on the first read, not at start.
    http: Result<reqwest::Client, Arc<reqwest::Error>>,
}

impl Extension {
    /// The extension at `base_url` (`http://localhost:2773`).
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(Arc::new);
        Self { base_url: base_url.into(), token: token.into(), http }
    }

    /// The extension as Lambda runs it: the port from [`EXTENSION_PORT_ENV`] (default 2773), the
    /// token from [`SESSION_TOKEN_ENV`]. `None` outside Lambda (no session token).
    pub fn from_env() -> Option<Self> {
        let token = std::env::var(SESSION_TOKEN_ENV).ok().filter(|t| !t.is_empty())?;
        let port = std::env::var(EXTENSION_PORT_ENV)
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(EXTENSION_DEFAULT_PORT);
        Some(Self::new(format!("http://localhost:{port}"), token))
    }

    /// A secret's `SecretString`. Tried five times, 200, 400, 600 and 800 ms apart, while the
    /// extension is unreachable or answers a server error (it may still be starting).
    pub async fn read(&self, secret_id: &str) -> Result<String, ExtensionError> {
        let delays = (1..5u64).map(|attempt| Duration::from_millis(200 * attempt));
        (|| self.read_once(secret_id))
            .retry(delays)
            .when(ExtensionFailure::is_transient)
            .await
            .map_err(|failure| ExtensionError { secret_id: secret_id.to_owned(), failure })
    }

    async fn read_once(&self, secret_id: &str) -> Result<String, ExtensionFailure> {
        let http = self.http.as_ref().map_err(|e| ExtensionFailure::Client(Arc::clone(e)))?;
        let url = format!("{}/secretsmanager/get", self.base_url.trim_end_matches('/'));
        let response = http
            .get(&url)
            .query(&[("secretId", secret_id)])
            .header("X-Aws-Parameters-Secrets-Token", &self.token)
            .send()
            .await
            .map_err(|e| ExtensionFailure::Unreachable { base: self.base_url.clone(), message: e.to_string() })?;
        let status = response.status();
        if !status.is_success() {
            let body = if status.is_server_error() { String::new() } else { response.text().await.unwrap_or_default() };
            return Err(ExtensionFailure::Status { status, body: body.trim().to_owned() });
        }
        let value: Value = response.json().await.map_err(|e| ExtensionFailure::Unreadable(e.to_string()))?;
        value
            .get("SecretString")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(ExtensionFailure::NoSecretString)
    }
}
