//! Scheduled drift reports: EventBridge Scheduler fires the scheduled function with a model's
//! entry of the schedules file ([`config`]); the function lists the window's files, plans the run
//! ([`plan`]), writes the run's manifest to S3 and submits the AWS Batch jobs ([`batch`]).
//!
//! A run is idempotent per (model, scheduled time): its id derives from both, and a manifest
//! that already names submitted jobs is answered with those jobs instead of submitting again (the
//! scheduler retries failed invocations).

pub mod batch;
pub mod config;
pub mod plan;

use std::sync::Arc;

use async_trait::async_trait;
use deltaone::sharding::InputFile;
use serde::{Deserialize, Serialize};

use self::batch::{BatchError, BatchJobs};
use self::config::{DriftSchedule, S3Uri, ScheduleError};
use self::plan::{BatchTarget, Manifest, PlanError, RunPlan, plan_run};
use crate::objects::{ObjectError, ObjectStore};

/// Lists the objects under an `s3://` prefix.
#[async_trait]
pub trait Listing: Send + Sync {
    async fn list(&self, prefix: &S3Uri) -> Result<Vec<InputFile>, ObjectError>;
}

/// The in-memory twin of an S3 listing for tests: files by URI, listed in key order under a
/// prefix as ListObjectsV2 does.
#[derive(Debug, Default)]
pub struct MemoryListing {
    files: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl MemoryListing {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or resizes) the file at `uri` (`s3://bucket/key`).
    pub fn add(&self, uri: &str, bytes: u64) {
        self.files.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(uri.to_owned(), bytes);
    }
}

#[async_trait]
impl Listing for MemoryListing {
    async fn list(&self, prefix: &S3Uri) -> Result<Vec<InputFile>, ObjectError> {
        let prefix = prefix.to_string();
        let files = self.files.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let under = files.range(prefix.clone()..).take_while(|(uri, _)| uri.starts_with(&prefix));
        Ok(under.map(|(uri, &bytes)| InputFile { uri: uri.clone(), bytes }).collect())
    }
}

/// The scheduled function's input: the model's schedule entry and the time it fired
/// (`<aws.scheduler.scheduled-time>` in the schedule's input template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledRun {
    pub schedule: DriftSchedule,
    pub scheduled_time: String,
}

/// What the scheduled function did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub run_id: String,
    pub manifest: String,
    pub shards: u32,
    /// Job ids by role (`run`, or `map` and `reduce`).
    pub jobs: Vec<SubmittedJob>,
    /// Whether the jobs had been submitted by an earlier invocation.
    pub already_submitted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedJob {
    pub role: String,
    pub job_name: String,
    pub job_id: String,
}

/// The manifest as stored: the plan's manifest and, once submitted, the jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredManifest {
    #[serde(flatten)]
    manifest: Manifest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    submitted: Vec<SubmittedJob>,
}

/// Why a scheduled run failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleRunError {
    #[error("the scheduled event is not a drift schedule: {0}")]
    BadEvent(String),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Objects(#[from] ObjectError),
    #[error(transparent)]
    Batch(#[from] BatchError),
}

impl ScheduleRunError {
    /// Whether invoking again may succeed (the scheduler's retry policy acts on this).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Objects(e) => e.is_retryable(),
            Self::Batch(e) => e.is_retryable(),
            Self::BadEvent(_) | Self::Plan(_) => false,
        }
    }
}

/// Plans and submits scheduled drift runs.
pub struct Scheduler {
    pub listing: Arc<dyn Listing>,
    pub objects: Arc<dyn ObjectStore>,
    pub batch: Arc<dyn BatchJobs>,
    pub target: BatchTarget,
}

impl Scheduler {
    /// Handles one scheduler event.
    pub async fn handle(&self, event: serde_json::Value) -> Result<Submitted, ScheduleRunError> {
        let run: ScheduledRun = serde_json::from_value(event).map_err(|e| ScheduleRunError::BadEvent(e.to_string()))?;
        run.schedule.validate(0).map_err(|e| ScheduleRunError::BadEvent(e.to_string()))?;
        let prefix = |uri: &str| S3Uri::parse(uri).map_err(|e| ScheduleRunError::BadEvent(e.to_string()));
        let reference = self.listing.list(&prefix(&run.schedule.reference.prefix)?).await?;
        let current = self.listing.list(&prefix(&run.schedule.current.prefix)?).await?;
        let plan = plan_run(&run.schedule, &run.scheduled_time, &reference, &current, &self.target)?;
        self.submit(plan).await
    }

    async fn submit(&self, plan: RunPlan) -> Result<Submitted, ScheduleRunError> {
        let uri = S3Uri::parse(&plan.manifest.uri()).map_err(|e| ScheduleRunError::BadEvent(e.to_string()))?;
        let summary = |submitted: Vec<SubmittedJob>, already_submitted| Submitted {
            run_id: plan.manifest.run_id.clone(),
            manifest: plan.manifest.uri(),
            shards: plan.manifest.shards,
            jobs: submitted,
            already_submitted,
        };
        match self.objects.get(&uri.bucket, &uri.key).await {
            Ok(existing) => {
                if let Ok(stored) = serde_json::from_slice::<StoredManifest>(&existing.bytes)
                    && !stored.submitted.is_empty()
                {
                    tracing::info!(run_id = %plan.manifest.run_id, "run already submitted; not submitting again");
                    return Ok(summary(stored.submitted, true));
                }
            }
            Err(ObjectError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let mut stored = StoredManifest { manifest: plan.manifest.clone(), submitted: Vec::new() };
        self.put_manifest(&uri, &stored).await?;
        for job in &plan.jobs {
            let depends_on: Vec<String> = job
                .depends_on
                .iter()
                .filter_map(|role| stored.submitted.iter().find(|s| &s.role == role).map(|s| s.job_id.clone()))
                .collect();
            let job_id = self.batch.submit(job, &depends_on).await?;
            tracing::info!(role = %job.role, job_name = %job.job_name, %job_id, "submitted");
            stored.submitted.push(SubmittedJob { role: job.role.clone(), job_name: job.job_name.clone(), job_id });
        }
        self.put_manifest(&uri, &stored).await?;
        Ok(summary(stored.submitted, false))
    }

    async fn put_manifest(&self, uri: &S3Uri, stored: &StoredManifest) -> Result<(), ObjectError> {
        let bytes = serde_json::to_vec_pretty(stored).expect("the manifest serialises");
        self.objects.put(&uri.bucket, &uri.key, bytes, "application/json").await
    }
}

/// A schedules file that cannot be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum SchedulesFileError {
    #[error("{}: {source}", path.display())]
    Unreadable { path: std::path::PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Invalid { path: std::path::PathBuf, source: ScheduleError },
}

/// Validates a schedules file and describes its schedules, one per line.
pub fn check_file(path: &std::path::Path) -> Result<String, SchedulesFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SchedulesFileError::Unreadable { path: path.to_owned(), source })?;
    let file = config::SchedulesFile::parse(&text)
        .map_err(|source| SchedulesFileError::Invalid { path: path.to_owned(), source })?;
    let mut out = format!("{}: {} schedule(s)\n", path.display(), file.schedules.len());
    for s in &file.schedules {
        let window = |w: &config::WindowSpec| match (&w.window, &w.offset) {
            (Some(d), Some(o)) => format!("{} ({d} ending {o} earlier)", w.prefix),
            (Some(d), None) => format!("{} ({d})", w.prefix),
            (None, _) => format!("{} (all files)", w.prefix),
        };
        out.push_str(&format!(
            "  {}: {} {}; current {}; reference {}; reports {}\n",
            s.model,
            s.cron,
            s.timezone,
            window(&s.current),
            window(&s.reference),
            s.reports
        ));
    }
    Ok(out)
}

/// A stored manifest the drift job cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("manifest format {0} is not supported")]
    UnsupportedFormat(u32),
    #[error("manifest: shards {0} is outside 1..={max} (AWS Batch's array limit)", max = config::MAX_SHARDS)]
    Shards(u32),
}

/// Reads a stored manifest (as the drift job's map and reduce steps will).
pub fn read_manifest(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let stored: StoredManifest = serde_json::from_slice(bytes)?;
    if stored.manifest.format != plan::MANIFEST_VERSION {
        return Err(ManifestError::UnsupportedFormat(stored.manifest.format));
    }
    // The map step assigns the files to every shard, the reduce step reads one partial per shard:
    // a count from a corrupt or forged manifest must not size those.
    if !(1..=config::MAX_SHARDS).contains(&stored.manifest.shards) {
        return Err(ManifestError::Shards(stored.manifest.shards));
    }
    Ok(stored.manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found by the fuzz checks (tests/fuzz/regressions/drift_manifest/): a manifest naming 4 294 967 295
    // shards was read, and the map step then sized a list per shard (tens of gigabytes).
    #[test]
    fn a_manifest_beyond_the_array_limit_or_without_shards_is_refused() {
        let manifest = |shards: u32| {
            format!(
                r#"{{"format": 1, "run_id": "r", "model": "m", "scheduled_time": "2026-11-23T06:00:00Z",
                    "reference": [], "current": [{{"uri": "s3://logs/a.parquet", "bytes": 1}}],
                    "current_window": {{"start": "2026-11-22T00:00:00Z", "end": "2026-11-23T00:00:00Z"}},
                    "shards": {shards}, "output": "s3://reports/r/"}}"#
            )
        };
        assert_eq!(read_manifest(manifest(10_000).as_bytes()).unwrap().shards, 10_000);
        for shards in [0, 10_001, u32::MAX] {
            let err = read_manifest(manifest(shards).as_bytes()).unwrap_err().to_string();
            assert_eq!(err, format!("manifest: shards {shards} is outside 1..=10000 (AWS Batch's array limit)"));
        }
    }

    #[test]
    fn the_shipped_schedules_file_is_valid_and_a_broken_one_is_named() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/schedules/schedules.json");
        let text = check_file(&sample).unwrap();
        assert!(text.contains("2 schedule(s)") && text.contains("churn: cron(30 7 ? * MON *)"), "{text}");
        // The Terraform example's file too: `terraform apply` hands its entries to the function.
        let example =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../terraform/examples/production/schedules.json");
        assert!(check_file(&example).unwrap().contains("fraud-detector"));

        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("schedules.json");
        std::fs::write(&broken, std::fs::read_to_string(&sample).unwrap().replace("\"P7D\"", "\"7 days\"")).unwrap();
        let err = check_file(&broken).unwrap_err().to_string();
        assert!(err.contains("(\"churn\"): current") && err.contains("ISO-8601"), "{err}");
        assert!(check_file(&dir.path().join("missing.json")).unwrap_err().to_string().contains("missing.json"));
    }

    #[tokio::test]
    async fn the_memory_listing_lists_only_what_is_under_the_prefix_in_key_order() {
        let listing = MemoryListing::new();
        listing.add("s3://logs/fraud/day=2/b.parquet", 20);
        listing.add("s3://logs/fraud/day=1/a.parquet", 10);
        listing.add("s3://logs/fraudster/x.parquet", 1);
        listing.add("s3://other/fraud/day=1/a.parquet", 1);
        let files = listing.list(&S3Uri::parse("s3://logs/fraud/").unwrap()).await.unwrap();
        let listed: Vec<(&str, u64)> = files.iter().map(|f| (f.uri.as_str(), f.bytes)).collect();
        assert_eq!(listed, [("s3://logs/fraud/day=1/a.parquet", 10), ("s3://logs/fraud/day=2/b.parquet", 20)]);
        assert!(listing.list(&S3Uri::parse("s3://empty/").unwrap()).await.unwrap().is_empty());
    }
}
