//! Where the input files are — local paths or S3 objects, each with its Hive partition values — and
//! one reader for both: [`FileReader`] implements Parquet's `AsyncFileReader` with positional reads
//! of a local file or ranged S3 GETs, so column projection and row-group pruning mean fewer bytes
//! read.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use backon::Retryable;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::error::DriftJobError;

/// Bytes read with the footer in one request (the footer of a file with many columns and row
/// groups is often tens of KiB).
const FOOTER_PREFETCH: usize = 64 * 1024;
/// Attempts of one ranged GET (the SDK retries throttling and 5xx itself; these cover a body that
/// breaks off mid-stream).
const GET_ATTEMPTS: u32 = 3;

/// A file or an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl Location {
    /// `s3://bucket/key` is an object; anything else a local path.
    pub fn parse(text: &str) -> Self {
        match parse_s3_url(text) {
            Some((bucket, key)) => Location::S3 { bucket, key },
            None => Location::Local(PathBuf::from(text)),
        }
    }

    /// The last path segment.
    pub fn file_name(&self) -> String {
        match self {
            Location::Local(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            Location::S3 { key, .. } => key.rsplit('/').next().unwrap_or(key).to_owned(),
        }
    }

    /// The path or key, with `/` separators, for partition parsing.
    fn path_text(&self) -> String {
        match self {
            Location::Local(p) => p.to_string_lossy().replace('\\', "/"),
            Location::S3 { key, .. } => key.clone(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// `s3://bucket/key…` → (bucket, key); the key may be empty.
pub fn parse_s3_url(text: &str) -> Option<(String, String)> {
    let rest = text.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub location: Location,
    /// Known from the listing (S3); local sizes are read when the file is opened.
    pub size: Option<u64>,
    /// Hive partition values: `key=value` directory segments of the path, e.g. `dt=2026-11-01`.
    pub partitions: BTreeMap<String, String>,
}

impl InputFile {
    pub fn new(location: Location, size: Option<u64>) -> Self {
        let partitions = hive_partitions(&location.path_text());
        Self { location, size, partitions }
    }
}

/// The `key=value` directory segments of a path (not the file name); later segments win.
pub fn hive_partitions(path: &str) -> BTreeMap<String, String> {
    let mut segments: Vec<&str> = path.split('/').collect();
    segments.pop();
    segments
        .into_iter()
        .filter_map(|s| s.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
        .collect()
}

/// Expands inputs in the order given: local paths, directories (every `*.parquet` below them,
/// recursively, sorted), local globs with `*` in the file name, `s3://bucket/prefix/` (every
/// `*.parquet` object under the prefix), `s3://bucket/prefix/*pattern*` (every object whose key
/// matches; `*` also matches `/`) and `s3://bucket/key` (that object). Keys under `exclude`
/// (bucket, prefix) — the quarantine — are never inputs.
pub async fn expand(
    patterns: &[String],
    s3: Option<&aws_sdk_s3::Client>,
    exclude: Option<&(String, String)>,
) -> Result<Vec<InputFile>, DriftJobError> {
    let mut files = Vec::new();
    for pattern in patterns.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let bad = |reason: String| DriftJobError::BadInput { pattern: pattern.to_owned(), reason };
        let Some((bucket, key)) = parse_s3_url(pattern) else {
            files.extend(expand_local(pattern)?.into_iter().map(|p| InputFile::new(Location::Local(p), None)));
            continue;
        };
        let client = s3.ok_or_else(|| bad("S3 inputs need an S3 client".to_owned()))?;
        type Matcher = Box<dyn Fn(&str) -> bool>;
        let (prefix, matcher): (String, Matcher) = if key.contains('*') {
            let prefix = key[..key.find('*').expect("contains")].to_owned();
            let key = key.clone();
            (prefix, Box::new(move |k: &str| wildcard_match(&key, k)))
        } else if key.is_empty() || key.ends_with('/') {
            (key.clone(), Box::new(|k: &str| k.ends_with(".parquet")))
        } else {
            let exact = key.clone();
            (key.clone(), Box::new(move |k: &str| k == exact))
        };
        let mut matched = Vec::new();
        let mut pages = client.list_objects_v2().bucket(&bucket).prefix(&prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                bad(format!("listing s3://{bucket}/{prefix}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))
            })?;
            for object in page.contents() {
                let Some(k) = object.key() else { continue };
                if exclude.is_some_and(|(b, p)| b == &bucket && k.starts_with(p.as_str())) || !matcher(k) {
                    continue;
                }
                let size = object.size().and_then(|s| u64::try_from(s).ok());
                matched.push(InputFile::new(Location::S3 { bucket: bucket.clone(), key: k.to_owned() }, size));
            }
        }
        if matched.is_empty() && !key.contains('*') && !key.is_empty() && !key.ends_with('/') {
            // A single key that does not exist: kept, so that the run reports it as unreadable.
            matched.push(InputFile::new(Location::S3 { bucket: bucket.clone(), key: key.clone() }, None));
        }
        matched.sort_by(|a, b| a.location.cmp(&b.location));
        files.extend(matched);
    }
    Ok(files)
}

/// Local paths, directories (recursively) and globs with `*` in the file name. A plain path is kept
/// even when it does not exist (reading it then fails and it is skipped with the reason); a
/// directory or glob whose directory cannot be listed is an error.
pub fn expand_local(pattern: &str) -> Result<Vec<PathBuf>, DriftJobError> {
    let path = Path::new(pattern);
    let bad = |reason: String| DriftJobError::BadInput { pattern: pattern.to_owned(), reason };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if path.is_dir() {
        let mut files = Vec::new();
        let mut dirs = vec![path.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| bad(format!("cannot list {}: {e}", dir.display())))?;
            for entry in entries.filter_map(|e| e.ok()) {
                let p = entry.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|e| e == "parquet") {
                    files.push(p);
                }
            }
        }
        files.sort();
        return Ok(files);
    }
    if !name.contains('*') {
        return Ok(vec![path.to_path_buf()]);
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if parent.to_string_lossy().contains('*') {
        return Err(bad("`*` is only supported in the file name of local paths".to_owned()));
    }
    let entries = std::fs::read_dir(parent).map_err(|e| bad(format!("cannot list {}: {e}", parent.display())))?;
    let mut matched: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| wildcard_match(name, n)))
        .collect();
    matched.sort();
    Ok(matched)
}

enum Source {
    Local(Arc<std::fs::File>),
    S3 { client: aws_sdk_s3::Client, bucket: String, key: String },
}

/// Reads byte ranges of one input file and counts the bytes fetched.
pub struct FileReader {
    source: Source,
    size: u64,
    fetched: Arc<AtomicU64>,
}

fn io_error(message: String) -> ParquetError {
    ParquetError::External(message.into())
}

impl FileReader {
    /// Opens a file (its size from the listing, else a metadata request). The error is a reason a
    /// person can read, e.g. that the file does not exist.
    pub async fn open(
        file: &InputFile,
        s3: Option<&aws_sdk_s3::Client>,
        fetched: Arc<AtomicU64>,
    ) -> Result<Self, OpenError> {
        match &file.location {
            Location::Local(path) => {
                let f = std::fs::File::open(path)
                    .map_err(|e| OpenError::missing_if(e.kind(), format!("cannot open: {e}")))?;
                let size = f.metadata().map_err(|e| OpenError::Unreadable(format!("cannot stat: {e}")))?.len();
                Ok(Self { source: Source::Local(Arc::new(f)), size, fetched })
            }
            Location::S3 { bucket, key } => {
                let client = s3.ok_or_else(|| OpenError::Unreadable("no S3 client".to_owned()))?.clone();
                let size = match file.size {
                    Some(size) => size,
                    None => match client.head_object().bucket(bucket).key(key).send().await {
                        Ok(head) => head.content_length().and_then(|l| u64::try_from(l).ok()).unwrap_or(0),
                        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                            return Err(OpenError::Missing("the object does not exist".to_owned()));
                        }
                        Err(e) => {
                            let reason = aws_sdk_s3::error::DisplayErrorContext(&e).to_string();
                            return Err(OpenError::Unreadable(format!("HeadObject: {reason}")));
                        }
                    },
                };
                Ok(Self { source: Source::S3 { client, bucket: bucket.clone(), key: key.clone() }, size, fetched })
            }
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    async fn read(&self, range: Range<u64>) -> parquet::errors::Result<Bytes> {
        if range.end > self.size || range.start > range.end {
            return Err(io_error(format!("range {range:?} outside the file's {} bytes", self.size)));
        }
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let bytes = match &self.source {
            Source::Local(file) => {
                let file = Arc::clone(file);
                let task = tokio::task::spawn_blocking(move || read_at(&file, range));
                task.await.map_err(|e| io_error(e.to_string()))??
            }
            Source::S3 { client, bucket, key } => {
                let header = format!("bytes={}-{}", range.start, range.end - 1);
                // A body shorter than the range asked for is tried again like a failed GET.
                let get = || async {
                    let out = client.get_object().bucket(bucket).key(key).range(&header).send().await;
                    let out = out
                        .map_err(|e| RangedGetError::Failed(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
                    let bytes = out
                        .body
                        .collect()
                        .await
                        .map(|b| b.into_bytes())
                        .map_err(|e| RangedGetError::Failed(e.to_string()))?;
                    if bytes.len() as u64 == range.end - range.start {
                        Ok(bytes)
                    } else {
                        Err(RangedGetError::Short(bytes.len()))
                    }
                };
                get.retry(crate::retry::ranged_get_pauses(GET_ATTEMPTS)).await.map_err(|e| match e {
                    RangedGetError::Short(len) => io_error(format!("GetObject {header}: {len} bytes returned")),
                    RangedGetError::Failed(e) => io_error(format!("GetObject s3://{bucket}/{key} {header}: {e}")),
                })?
            }
        };
        self.fetched.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    /// Reads the whole file (for quarantine copies).
    pub async fn read_all(&self) -> parquet::errors::Result<Bytes> {
        self.read(0..self.size).await
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, range: Range<u64>) -> parquet::errors::Result<Bytes> {
    use std::os::unix::fs::FileExt;
    let mut buffer = vec![0u8; (range.end - range.start) as usize];
    file.read_exact_at(&mut buffer, range.start).map_err(|e| io_error(format!("read {range:?}: {e}")))?;
    Ok(Bytes::from(buffer))
}

#[cfg(not(unix))]
fn read_at(file: &std::fs::File, range: Range<u64>) -> parquet::errors::Result<Bytes> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file.try_clone().map_err(|e| io_error(e.to_string()))?;
    file.seek(SeekFrom::Start(range.start)).map_err(|e| io_error(e.to_string()))?;
    let mut buffer = vec![0u8; (range.end - range.start) as usize];
    file.read_exact(&mut buffer).map_err(|e| io_error(format!("read {range:?}: {e}")))?;
    Ok(Bytes::from(buffer))
}

/// Why one try of a ranged GET did not give the range.
enum RangedGetError {
    /// The GET or its body failed (the SDK's error with its context).
    Failed(String),
    /// The body held this many bytes, fewer than the range.
    Short(usize),
}

/// Why a file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Nothing there: nothing to quarantine.
    #[error("{0}")]
    Missing(String),
    /// There, but not readable.
    #[error("{0}")]
    Unreadable(String),
}

impl OpenError {
    fn missing_if(kind: std::io::ErrorKind, reason: String) -> Self {
        if kind == std::io::ErrorKind::NotFound { OpenError::Missing(reason) } else { OpenError::Unreadable(reason) }
    }
}

impl AsyncFileReader for FileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move { self.read(range).await }.boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            match self.source {
                // Column chunks of S3 objects are fetched concurrently.
                Source::S3 { .. } => futures::future::try_join_all(ranges.into_iter().map(|r| self.read(r))).await,
                Source::Local(_) => {
                    let mut out = Vec::with_capacity(ranges.len());
                    for r in ranges {
                        out.push(self.read(r).await?);
                    }
                    Ok(out)
                }
            }
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let reader = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(FOOTER_PREFETCH));
            Ok(Arc::new(reader.load_and_finish(&mut *self, size).await?))
        }
        .boxed()
    }
}

/// Expands local paths, directories (their `*.parquet` files, recursively) and globs with `*` in
/// the file name, in the order given, each pattern's matches sorted by name. A plain path is kept
/// even when it does not exist (reading it then fails and it is skipped with the reason); a
/// directory or glob whose directory cannot be listed is an error. S3 inputs: [`expand`].
pub fn expand_inputs(patterns: &[String]) -> Result<Vec<PathBuf>, DriftJobError> {
    let mut files = Vec::new();
    for pattern in patterns.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        files.extend(expand_local(pattern)?);
    }
    Ok(files)
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_partitions_come_from_directory_segments() {
        let p = hive_partitions("logs/model_name=fraud/dt=2026-11-01/part=0.parquet");
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p["model_name"], "fraud");
        assert_eq!(p["dt"], "2026-11-01");
        assert!(hive_partitions("a/b/c.parquet").is_empty());
        assert_eq!(hive_partitions("x/name=a%20b/f.parquet")["name"], "a b");
    }

    #[test]
    fn s3_urls_and_local_paths_are_told_apart() {
        assert_eq!(parse_s3_url("s3://b/logs/"), Some(("b".to_owned(), "logs/".to_owned())));
        assert_eq!(parse_s3_url("s3://b"), Some(("b".to_owned(), String::new())));
        assert_eq!(parse_s3_url("s3:///x"), None);
        assert_eq!(Location::parse("dir/a.parquet"), Location::Local("dir/a.parquet".into()));
        let s3 = Location::parse("s3://b/k/f.parquet");
        assert_eq!((s3.to_string(), s3.file_name()), ("s3://b/k/f.parquet".to_owned(), "f.parquet".to_owned()));
    }
}
