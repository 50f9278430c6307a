//! Reads the value a [`SecretRef`] points at: the environment, or Secrets Manager through the
//! [`Extension`] when running in Lambda.

use crate::extension::Extension;
use crate::reference::SecretRef;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set or empty")]
    EnvMissing(String),
    #[error(
        "{arn} is a Secrets Manager reference, readable only inside Lambda through the Parameters and Secrets \
         extension (AWS_SESSION_TOKEN is not set here); reference an environment variable (env:NAME) instead"
    )]
    NoExtension { arn: String },
    #[error(transparent)]
    Extension(#[from] crate::extension::ExtensionError),
}

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

    pub async fn read(&self, reference: &SecretRef) -> Result<String, SecretError> {
        match reference {
            SecretRef::Plain(value) => Ok(value.clone()),
            SecretRef::Env(name) => std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| SecretError::EnvMissing(name.clone())),
            SecretRef::SecretsManager(arn) => match &self.extension {
                Some(extension) => Ok(extension.read(arn).await?),
                None => Err(SecretError::NoExtension { arn: arn.clone() }),
            },
        }
    }
}
