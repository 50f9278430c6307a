//! The object store port over S3.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use deltaone::sharding::InputFile;
use deltaone_app::objects::{Object, ObjectError, ObjectStore};
use deltaone_app::schedule::Listing;
use deltaone_app::schedule::config::S3Uri;

pub struct S3Objects {
    client: Client,
}

impl S3Objects {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// An S3 client for the shared SDK configuration; path-style addressing for local emulators.
    pub fn client(config: &aws_config::SdkConfig, endpoint_configured: bool) -> Client {
        let s3 = aws_sdk_s3::config::Builder::from(config).force_path_style(endpoint_configured).build();
        Client::from_conf(s3)
    }
}

/// S3 whose SDK configuration is loaded on first use only, so that a check that never reads an
/// `s3://` predictions file never looks for AWS credentials or a region.
pub struct LazyS3Objects {
    endpoint: Option<String>,
    inner: tokio::sync::OnceCell<S3Objects>,
}

impl LazyS3Objects {
    pub fn new(endpoint: Option<String>) -> Self {
        Self { endpoint, inner: tokio::sync::OnceCell::new() }
    }

    async fn inner(&self) -> &S3Objects {
        self.inner
            .get_or_init(|| async {
                let config = crate::sdk_config(self.endpoint.as_deref()).await;
                S3Objects::new(S3Objects::client(&config, self.endpoint.is_some()))
            })
            .await
    }
}

#[async_trait]
impl ObjectStore for LazyS3Objects {
    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        self.inner().await.get(bucket, key).await
    }
    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectError> {
        self.inner().await.put(bucket, key, bytes, content_type).await
    }
    async fn copy(&self, bucket: &str, from_key: &str, to_key: &str) -> Result<(), ObjectError> {
        self.inner().await.copy(bucket, from_key, to_key).await
    }
}

pub fn failed<E, R>(operation: &'static str, bucket: &str, key: &str, err: SdkError<E, R>) -> ObjectError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(s) => {
            matches!(s.err().code(), Some("SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout"))
        }
        _ => false,
    };
    ObjectError::Failed {
        operation,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        message: DisplayErrorContext(&err).to_string(),
        retryable,
    }
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Err(ObjectError::NotFound { bucket: bucket.to_owned(), key: key.to_owned() });
            }
            Err(e) => return Err(failed("GetObject", bucket, key, e)),
        };
        let metadata =
            out.metadata().cloned().unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        let bytes = out.body.collect().await.map_err(|e| ObjectError::Failed {
            operation: "GetObject",
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            message: e.to_string(),
            retryable: true,
        })?;
        Ok(Object { bytes: bytes.into_bytes(), metadata })
    }

    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(drop)
            .map_err(|e| failed("PutObject", bucket, key, e))
    }

    async fn copy(&self, bucket: &str, from_key: &str, to_key: &str) -> Result<(), ObjectError> {
        let source = format!("{bucket}/{}", percent_encoding::utf8_percent_encode(from_key, COPY_SOURCE));
        self.client
            .copy_object()
            .bucket(bucket)
            .key(to_key)
            .copy_source(source)
            .send()
            .await
            .map(drop)
            .map_err(|e| failed("CopyObject", bucket, from_key, e))
    }
}

/// `x-amz-copy-source` is URL-encoded, except for `/`.
const COPY_SOURCE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// [`Listing`] over the S3 API (ListObjectsV2, every page).
pub struct S3Listing {
    client: aws_sdk_s3::Client,
}

impl S3Listing {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Listing for S3Listing {
    async fn list(&self, prefix: &S3Uri) -> Result<Vec<InputFile>, ObjectError> {
        let mut pages =
            self.client.list_objects_v2().bucket(&prefix.bucket).prefix(&prefix.key).into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed("ListObjectsV2", &prefix.bucket, &prefix.key, e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    let bytes = object.size().unwrap_or(0).max(0) as u64;
                    out.push(InputFile { uri: format!("s3://{}/{key}", prefix.bucket), bytes });
                }
            }
        }
        Ok(out)
    }
}
