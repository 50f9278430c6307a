//! Reads the value a [`SecretRef`] points at: the environment, or Secrets Manager through the
//! [`Extension`] when running in Lambda.

use async_trait::async_trait;
use deltaone_app::secrets::{EnvSecrets, SecretError, SecretRef, Secrets};

use crate::extension::Extension;

/// Where secrets come from in this process.
pub struct SecretReader {
    extension: Option<Extension>,
}

impl SecretReader {
    /// Environment variables only (a Secrets Manager reference is an error naming the way out).
    pub fn env_only() -> Self {
        Self { extension: None }
    }

    /// Environment variables, and Secrets Manager through the extension when running in Lambda
    /// (see [`Extension::from_env`]).
    pub fn from_env() -> Self {
        Self { extension: Extension::from_env() }
    }

    /// Reads Secrets Manager references through the extension at `base_url`.
    pub fn with_extension(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self { extension: Some(Extension::new(base_url, token)) }
    }
}

#[async_trait]
impl Secrets for SecretReader {
    async fn read(&self, reference: &SecretRef) -> Result<String, SecretError> {
        match (reference, &self.extension) {
            (SecretRef::SecretsManager(arn), Some(extension)) => {
                extension.read(arn).await.map_err(|e| SecretError::Unreadable(Box::new(e)))
            }
            _ => EnvSecrets.read(reference).await,
        }
    }
}
