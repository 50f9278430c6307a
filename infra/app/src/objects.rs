//! The object store port, as the evaluation function, the notifier's offload and the drift job use it.
//! Adapters: S3 (`deltaone-aws`, feature `s3`) and, for tests, [`crate::memory::MemoryObjects`].

use std::collections::BTreeMap;

use async_trait::async_trait;

/// An object's bytes and user metadata (`x-amz-meta-*`, keys lower-case, without the prefix).
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: bytes::Bytes,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("s3://{bucket}/{key} does not exist")]
    NotFound { bucket: String, key: String },
    #[error("S3 {operation} s3://{bucket}/{key}: {message}")]
    Failed { operation: &'static str, bucket: String, key: String, message: String, retryable: bool },
}

impl ObjectError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Failed { retryable: true, .. })
    }
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError>;
    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectError>;
    async fn copy(&self, bucket: &str, from_key: &str, to_key: &str) -> Result<(), ObjectError>;
}
