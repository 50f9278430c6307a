//! Bad data is kept: an unreadable, corrupt or schema-mismatched file is copied under a quarantine
//! prefix (S3) or directory (local) with `<name>.reason.json` next to it; the run goes on.
//!
//! Layout: `<quarantine>/<run id>/<side>/<the file's key or name>`. S3 inputs without an explicit
//! quarantine go to `s3://<their bucket>/quarantine/`; local inputs are only copied when a
//! quarantine is given.

use backon::Retryable;
use std::path::PathBuf;

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::copy_object::CopyObjectError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use deltaone::drift::Side;
use serde_json::json;

use super::drift_report::SkippedFile;
use super::read::open::{Problem, ReadContext};
use super::source::{FileReader, Location, OpenError, parse_s3_url};

/// Where quarantined files (or results) go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Local(PathBuf),
    /// `prefix` is empty or ends with `/`.
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl Destination {
    pub fn parse(text: &str) -> Self {
        match parse_s3_url(text) {
            Some((bucket, mut prefix)) => {
                if !prefix.is_empty() && !prefix.ends_with('/') {
                    prefix.push('/');
                }
                Destination::S3 { bucket, prefix }
            }
            None => Destination::Local(PathBuf::from(text)),
        }
    }

    /// The location of `relative` (a `/`-separated path) under this destination.
    pub fn join(&self, relative: &str) -> Location {
        match self {
            Destination::Local(dir) => Location::Local(relative.split('/').fold(dir.clone(), |p, s| p.join(s))),
            Destination::S3 { bucket, prefix } => {
                Location::S3 { bucket: bucket.clone(), key: format!("{prefix}{relative}") }
            }
        }
    }
}

/// Why bytes could not be written to a location, or a file copied into the quarantine.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PutError {
    #[error("creating {}: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: std::io::Error },
    #[error("writing {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("copying to {}: {source}", to.display())]
    Copy { to: PathBuf, source: std::io::Error },
    #[error("an S3 destination needs an S3 client")]
    NoS3Client,
    #[error("PutObject s3://{bucket}/{key}: {}", DisplayErrorContext(source))]
    PutObject { bucket: String, key: String, source: SdkError<PutObjectError> },
    #[error("CopyObject to s3://{bucket}/{key}: {}", DisplayErrorContext(source))]
    CopyObject { bucket: String, key: String, source: SdkError<CopyObjectError> },
    /// The file to quarantine could not be opened (its reason as the reading layer gives it).
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("{0}")]
    Read(#[from] parquet::errors::ParquetError),
}

async fn create_dir_of(path: &std::path::Path) -> Result<(), PutError> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|source| PutError::CreateDir { dir: dir.to_owned(), source })?;
    }
    Ok(())
}

/// Writes bytes to a location (directories created as needed).
pub(crate) async fn put(
    s3: Option<&aws_sdk_s3::Client>,
    location: &Location,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<(), PutError> {
    match location {
        Location::Local(path) => {
            create_dir_of(path).await?;
            tokio::fs::write(path, bytes).await.map_err(|source| PutError::Write { path: path.clone(), source })
        }
        Location::S3 { bucket, key } => {
            let client = s3.ok_or(PutError::NoS3Client)?;
            let put = || {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .content_type(content_type)
                    .body(aws_sdk_s3::primitives::ByteStream::from(bytes.clone()))
                    .send()
            };
            put.retry(crate::retry::aws_pauses()).await.map(drop).map_err(|source| PutError::PutObject {
                bucket: bucket.clone(),
                key: key.clone(),
                source,
            })
        }
    }
}

/// Copies one file into the quarantine with its reason file; returns where it went.
async fn quarantine_one(
    ctx: &ReadContext,
    run_id: &str,
    side: Side,
    problem: &Problem,
    destination: &Destination,
) -> Result<String, PutError> {
    let relative = match &problem.file.location {
        Location::S3 { bucket, key } => format!("{run_id}/{side}/{bucket}/{key}"),
        Location::Local(_) => format!("{run_id}/{side}/{}", problem.file.location.file_name()),
    };
    let target = destination.join(&relative);
    match (&problem.file.location, &target) {
        (Location::S3 { bucket, key }, Location::S3 { bucket: to_bucket, key: to_key }) => {
            let client = ctx.s3.as_ref().ok_or(PutError::NoS3Client)?;
            let source = format!("{bucket}/{}", percent_encoding::utf8_percent_encode(key, COPY_SOURCE));
            client
                .copy_object()
                .bucket(to_bucket)
                .key(to_key)
                .copy_source(source)
                .send()
                .await
                .map_err(|source| PutError::CopyObject { bucket: to_bucket.clone(), key: to_key.clone(), source })?;
        }
        (Location::Local(from), Location::Local(to)) => {
            create_dir_of(to).await?;
            tokio::fs::copy(from, to).await.map_err(|source| PutError::Copy { to: to.clone(), source })?;
        }
        _ => {
            let reader = FileReader::open(&problem.file, ctx.s3.as_ref(), ctx.progress.bytes()).await?;
            let bytes = reader.read_all().await?;
            put(ctx.s3.as_ref(), &target, bytes.to_vec(), "application/octet-stream").await?;
        }
    }
    let reason = json!({
        "source": problem.file.location.to_string(),
        "side": side,
        "reason": problem.reason,
        "run_id": run_id,
        "quarantined_at": super::filter::rfc3339_seconds(time::OffsetDateTime::now_utc()),
    });
    let reason_location = destination.join(&format!("{relative}.reason.json"));
    let body = serde_json::to_vec_pretty(&reason).expect("JSON serialises");
    put(ctx.s3.as_ref(), &reason_location, body, "application/json").await?;
    Ok(target.to_string())
}

/// Lists every problem as a skipped file, copying the ones that exist into the quarantine. A
/// failed copy is logged and the file stays listed (with its reason) — the run goes on.
pub(crate) async fn quarantine_all(
    ctx: &ReadContext,
    run_id: &str,
    side: Side,
    problems: Vec<Problem>,
    destination: Option<&Destination>,
    skipped: &mut Vec<SkippedFile>,
) {
    for problem in problems {
        let destination = match (destination, &problem.file.location) {
            (Some(d), _) => Some(d.clone()),
            (None, Location::S3 { bucket, .. }) => {
                Some(Destination::S3 { bucket: bucket.clone(), prefix: "quarantine/".to_owned() })
            }
            (None, Location::Local(_)) => None,
        };
        let quarantined_to = match destination.filter(|_| problem.quarantine) {
            Some(d) => match quarantine_one(ctx, run_id, side, &problem, &d).await {
                Ok(to) => Some(to),
                Err(e) => {
                    tracing::error!(path = %problem.file.location, error = %e, "could not quarantine the file");
                    None
                }
            },
            None => None,
        };
        tracing::warn!(%side, path = %problem.file.location, reason = %problem.reason, quarantined_to = ?quarantined_to, "skipped unreadable file");
        skipped.push(SkippedFile {
            side,
            path: problem.file.location.to_string(),
            reason: problem.reason,
            quarantined_to,
        });
    }
}

/// `x-amz-copy-source` is URL-encoded, except for `/`.
const COPY_SOURCE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_and_join() {
        let s3 = Destination::parse("s3://b/q");
        assert_eq!(s3, Destination::S3 { bucket: "b".into(), prefix: "q/".into() });
        assert_eq!(s3.join("r/x.parquet").to_string(), "s3://b/q/r/x.parquet");
        assert_eq!(Destination::parse("s3://b").join("x").to_string(), "s3://b/x");
        let local = Destination::parse("out/quarantine");
        assert_eq!(local.join("r/x.parquet"), Location::Local(PathBuf::from("out/quarantine/r/x.parquet")));
    }
}
