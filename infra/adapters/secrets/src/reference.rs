//! Where a secret value is read from, as written in configuration.

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
