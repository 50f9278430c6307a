//! Reads the secret values endpoint configurations reference: environment variables, and Secrets
//! Manager secrets through the AWS Parameters and Secrets Lambda extension (the same way the registry
//! webhook function reads its secret). Values are never logged.

use std::time::Duration;

use serde_json::Value;

use super::config::SecretRef;

/// The extension's default port.
pub const EXTENSION_DEFAULT_PORT: u16 = 2773;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set or empty")]
    EnvMissing(String),
    #[error(
        "{arn} is a Secrets Manager reference, readable only inside Lambda through the Parameters and Secrets \
         extension (AWS_SESSION_TOKEN is not set here); reference an environment variable (env:NAME) instead"
    )]
    NoExtension { arn: String },
    #[error("reading {arn} through the Parameters and Secrets extension: {message}")]
    Extension { arn: String, message: String },
}

/// Where secrets come from in this process.
pub struct SecretReader {
    extension: Option<(String, String)>,
    http: Option<reqwest::Client>,
}

impl SecretReader {
    /// Environment variables only (a Secrets Manager reference is an error naming the way out).
    pub fn env_only() -> Self {
        Self { extension: None, http: None }
    }

    /// Environment variables, and Secrets Manager through the extension when running in Lambda
    /// (`AWS_SESSION_TOKEN` set; port from `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, default 2773).
    pub fn from_env() -> Self {
        let token = std::env::var("AWS_SESSION_TOKEN").ok().filter(|t| !t.is_empty());
        let port = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(EXTENSION_DEFAULT_PORT);
        match token {
            Some(token) => Self::with_extension(format!("http://localhost:{port}"), token),
            None => Self::env_only(),
        }
    }

    /// Reads Secrets Manager references through the extension at `base_url`.
    pub fn with_extension(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().ok();
        Self { extension: Some((base_url.into(), token.into())), http }
    }

    pub async fn read(&self, reference: &SecretRef) -> Result<String, SecretError> {
        match reference {
            SecretRef::Plain(value) => Ok(value.clone()),
            SecretRef::Env(name) => std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| SecretError::EnvMissing(name.clone())),
            SecretRef::SecretsManager(arn) => match (&self.extension, &self.http) {
                (Some((base, token)), Some(http)) => from_extension(http, base, token, arn).await,
                _ => Err(SecretError::NoExtension { arn: arn.clone() }),
            },
        }
    }
}

/// `GET {base}/secretsmanager/get?secretId=ARN` with the session token; retried briefly while the
/// extension starts.
async fn from_extension(http: &reqwest::Client, base: &str, token: &str, arn: &str) -> Result<String, SecretError> {
    let fail = |message: String| SecretError::Extension { arn: arn.to_owned(), message };
    let url = format!("{}/secretsmanager/get", base.trim_end_matches('/'));
    let mut last = String::new();
    for attempt in 0..5u64 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
        }
        let sent =
            http.get(&url).query(&[("secretId", arn)]).header("X-Aws-Parameters-Secrets-Token", token).send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                last = format!("not reachable at {base}: {e}");
                continue;
            }
        };
        let status = response.status();
        if status.is_server_error() {
            last = format!("HTTP {status}");
            continue;
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        let value: Value = response.json().await.map_err(|e| fail(format!("unreadable answer: {e}")))?;
        return value
            .get("SecretString")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| fail("no SecretString (binary secrets are not supported)".into()));
    }
    Err(fail(last))
}
