//! The object store port, as the evaluation function, the notifier's offload and the drift job use it.
//! Adapters: S3 (`deltaone-aws`, feature `s3`) and, for tests, [`MemoryObjects`] below.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// The in-memory twin of S3 for tests: objects by bucket and key, `NotFound` for what is missing
/// (a copy's source included), and an outage switch that makes every call fail the way a throttled
/// or unreachable S3 does (retryable).
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<BTreeMap<(String, String), Object>>,
    down: AtomicBool,
}

impl MemoryObjects {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an object with user metadata, as an upload with `x-amz-meta-*` headers would.
    pub fn insert(&self, bucket: &str, key: &str, bytes: impl Into<bytes::Bytes>, metadata: BTreeMap<String, String>) {
        let object = Object { bytes: bytes.into(), metadata };
        self.lock().insert((bucket.to_owned(), key.to_owned()), object);
    }

    /// An object's bytes, if it is there (what a test checks after the code under test wrote).
    pub fn bytes(&self, bucket: &str, key: &str) -> Option<bytes::Bytes> {
        self.lock().get(&(bucket.to_owned(), key.to_owned())).map(|o| o.bytes.clone())
    }

    /// The keys in `bucket`, in S3's listing order.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        self.lock().keys().filter(|(b, _)| b == bucket).map(|(_, k)| k.clone()).collect()
    }

    /// While down, every call fails with a retryable error and nothing changes.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Object>> {
        // A test that panicked while holding the lock leaves the map as it was: keep using it.
        self.objects.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn available(&self, operation: &'static str, bucket: &str, key: &str) -> Result<(), ObjectError> {
        if !self.down.load(Ordering::SeqCst) {
            return Ok(());
        }
        let message = "SlowDown: please reduce your request rate (injected)".to_owned();
        Err(ObjectError::Failed { operation, bucket: bucket.to_owned(), key: key.to_owned(), message, retryable: true })
    }
}

fn not_found(bucket: &str, key: &str) -> ObjectError {
    ObjectError::NotFound { bucket: bucket.to_owned(), key: key.to_owned() }
}

#[async_trait]
impl ObjectStore for MemoryObjects {
    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        self.available("GetObject", bucket, key)?;
        self.lock().get(&(bucket.to_owned(), key.to_owned())).cloned().ok_or_else(|| not_found(bucket, key))
    }

    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), ObjectError> {
        self.available("PutObject", bucket, key)?;
        self.insert(bucket, key, bytes, BTreeMap::new());
        Ok(())
    }

    async fn copy(&self, bucket: &str, from_key: &str, to_key: &str) -> Result<(), ObjectError> {
        self.available("CopyObject", bucket, from_key)?;
        let mut objects = self.lock();
        let object = objects.get(&(bucket.to_owned(), from_key.to_owned())).cloned();
        // S3 copies the user metadata along with the bytes.
        let object = object.ok_or_else(|| not_found(bucket, from_key))?;
        objects.insert((bucket.to_owned(), to_key.to_owned()), object);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_objects_get_put_and_copy_like_s3_and_fail_retryably_while_down() {
        let s3 = MemoryObjects::new();
        let metadata = BTreeMap::from([("model".to_owned(), "fraud".to_owned())]);
        s3.insert("b", "in/a.json", &b"{}"[..], metadata.clone());
        s3.put("b", "out/b.json", b"[]".to_vec(), "application/json").await.unwrap();
        s3.copy("b", "in/a.json", "quarantine/in/a.json").await.unwrap();
        let copied = s3.get("b", "quarantine/in/a.json").await.unwrap();
        assert_eq!((&copied.bytes[..], &copied.metadata), (&b"{}"[..], &metadata));
        assert_eq!(s3.keys("b"), ["in/a.json", "out/b.json", "quarantine/in/a.json"]);
        assert_eq!(s3.bytes("b", "out/b.json").as_deref(), Some(&b"[]"[..]));

        let missing = s3.get("b", "nope").await.unwrap_err();
        assert!(matches!(missing, ObjectError::NotFound { .. }) && !missing.is_retryable(), "{missing}");
        assert!(matches!(s3.copy("b", "nope", "x").await, Err(ObjectError::NotFound { .. })));
        assert!(s3.get("other", "in/a.json").await.is_err());

        s3.set_down(true);
        let down = s3.get("b", "in/a.json").await.unwrap_err();
        assert!(down.is_retryable(), "{down}");
        assert!(s3.put("b", "c", Vec::new(), "text/plain").await.unwrap_err().is_retryable());
        assert!(s3.copy("b", "in/a.json", "d").await.unwrap_err().is_retryable());
        assert_eq!(s3.keys("b").len(), 3, "nothing changes while down");
        s3.set_down(false);
        assert!(s3.get("b", "in/a.json").await.is_ok());
    }
}
