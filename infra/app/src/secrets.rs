//! Secrets as the application sees them: a [`SecretRef`] says where a value lives, as written in
//! configuration (an environment variable, a Secrets Manager secret); the [`Secrets`] port reads
//! it. `deltaone-secrets` implements the port for Lambda (Secrets Manager through the Parameters
//! and Secrets extension); [`EnvSecrets`] reads the environment only. Values are never logged.

use async_trait::async_trait;

/// Where a secret value is read from. `Debug` shows the reference, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `env:NAME`
    Env(String),
    /// `arn:aws:secretsmanager:…`: the secret's `SecretString`.
    SecretsManager(String),
    /// `plain:VALUE`, for header values that are not secret (never for a signing secret).
    Plain(String),
}

/// Why a text is not a secret reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    #[error("{0:?} is not env:NAME")]
    BadEnvName(String),
    #[error(
        "expected env:NAME, a Secrets Manager ARN (arn:aws:secretsmanager:…) or plain:VALUE; \
         secrets are referenced, never written into the endpoints file"
    )]
    NotAReference,
}

impl SecretRef {
    /// Reads `env:NAME`, a Secrets Manager ARN or `plain:VALUE`; anything else is refused so that a
    /// secret pasted into a configuration is caught instead of used.
    pub fn parse(text: &str) -> Result<Self, SecretRefError> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("env:") {
            let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            return if valid {
                Ok(Self::Env(name.to_owned()))
            } else {
                Err(SecretRefError::BadEnvName(text.to_owned()))
            };
        }
        if text.starts_with("arn:") && text.split(':').nth(2) == Some("secretsmanager") {
            return Ok(Self::SecretsManager(text.to_owned()));
        }
        if let Some(value) = text.strip_prefix("plain:") {
            return Ok(Self::Plain(value.to_owned()));
        }
        Err(SecretRefError::NotAReference)
    }
}

/// Why a referenced secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set or empty")]
    EnvMissing(String),
    #[error(
        "{arn} is a Secrets Manager reference, readable only inside Lambda through the Parameters and Secrets \
         extension (AWS_SESSION_TOKEN is not set here); reference an environment variable (env:NAME) instead"
    )]
    NoExtension { arn: String },
    /// The secret store did not give the value (the adapter's own error).
    #[error(transparent)]
    Unreadable(Box<dyn std::error::Error + Send + Sync>),
}

/// Where secrets come from in this process.
#[async_trait]
pub trait Secrets: Send + Sync {
    async fn read(&self, reference: &SecretRef) -> Result<String, SecretError>;
}

/// The environment only: `env:NAME` and `plain:VALUE`; a Secrets Manager reference is an error
/// naming the way out.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSecrets;

#[async_trait]
impl Secrets for EnvSecrets {
    async fn read(&self, reference: &SecretRef) -> Result<String, SecretError> {
        match reference {
            SecretRef::Plain(value) => Ok(value.clone()),
            SecretRef::Env(name) => std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| SecretError::EnvMissing(name.clone())),
            SecretRef::SecretsManager(arn) => Err(SecretError::NoExtension { arn: arn.clone() }),
        }
    }
}
