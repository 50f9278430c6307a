//! From a schedule entry, its scheduled time and the files under its prefixes to the AWS Batch
//! jobs of one drift run: a single job for small windows, otherwise a map array job (one child
//! per shard of the files, balanced by bytes) and a reduce job that depends on it.
//!
//! Everything the jobs need is in the run's **manifest** (written to S3 before submitting): the
//! files of each window, the shard count, the windows and the output location, so a re-run of a
//! shard reads exactly the files it read the first time. The jobs get the manifest's address in
//! `DELTAONE_DRIFT_MANIFEST`; map children find their shard in `AWS_BATCH_JOB_ARRAY_INDEX`.

use std::collections::BTreeMap;

use deltaone::sharding::{InputFile, assign, shard_count};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::env;

use super::config::{DriftSchedule, DurationError, S3Uri, WindowSpec, parse_duration};

/// The manifest's format version.
pub const MANIFEST_VERSION: u32 = 1;
/// The manifest's file name under the run's output prefix.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The queue and job definition the jobs are submitted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchTarget {
    pub job_queue: String,
    pub job_definition: String,
}

/// A time range `[start, end)`, RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: String,
    pub end: String,
}

/// What a run's jobs read and write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub run_id: String,
    pub model: String,
    pub scheduled_time: String,
    pub reference: Vec<InputFile>,
    pub current: Vec<InputFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_window: Option<TimeRange>,
    pub current_window: TimeRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_share: Option<f64>,
    /// Map shards; 1 means one single-process job.
    pub shards: u32,
    /// `s3://…/<run id>/`: results, report, partials (`partials/<shard>.json`) and this manifest.
    pub output: String,
}

impl Manifest {
    /// The files of shard `index` (reference, current); `None` for an index out of range.
    pub fn shard(&self, index: u32) -> Option<(Vec<InputFile>, Vec<InputFile>)> {
        if index >= self.shards {
            return None;
        }
        let i = index as usize;
        Some((assign(&self.reference, self.shards).swap_remove(i), assign(&self.current, self.shards).swap_remove(i)))
    }

    pub fn uri(&self) -> String {
        format!("{}{MANIFEST_FILE}", self.output)
    }
}

/// One AWS Batch SubmitJob request, as data (the adapter turns it into the SDK call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    /// `run`, `map` or `reduce`: the job's role, and how `depends_on` names it.
    pub role: String,
    pub job_name: String,
    pub job_queue: String,
    pub job_definition: String,
    /// The container command (the job image's entry point is `deltaone-drift`).
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_size: Option<u32>,
    /// Roles of earlier requests this job waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub environment: BTreeMap<String, String>,
}

/// A planned run: the manifest to write and the jobs to submit, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPlan {
    pub manifest: Manifest,
    pub jobs: Vec<JobRequest>,
}

/// Why a run cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("scheduled time {0:?} is not an RFC 3339 time")]
    Time(String),
    #[error("schedule for {model:?}: {reason}")]
    Schedule { model: String, reason: String },
    #[error("the {window} window of {model:?} has no Parquet files under {prefix}")]
    NoFiles { model: String, window: &'static str, prefix: String },
}

/// A lowercase name of letters, digits and hyphens, for run ids and job names.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times format")
}

/// The window `[end − duration, end)` of `spec` at `time`, or `None` for a fixed file set.
fn window_of(
    spec: &WindowSpec,
    time: OffsetDateTime,
) -> Result<Option<(OffsetDateTime, OffsetDateTime)>, DurationError> {
    let Some(window) = &spec.window else { return Ok(None) };
    let offset = spec.offset.as_deref().map(parse_duration).transpose()?.unwrap_or(time::Duration::ZERO);
    let end = time - offset;
    Ok(Some((end - parse_duration(window)?, end)))
}

/// Whether a listed object belongs to a window: a Parquet file whose date partition (`dt=` or
/// `date=`, `YYYY-MM-DD`, optionally refined by `hour=HH`) overlaps the window. Files without a
/// date partition always belong (the job then filters rows by the timestamp column).
pub fn in_window(key: &str, window: Option<(OffsetDateTime, OffsetDateTime)>) -> bool {
    if !key.ends_with(".parquet") {
        return false;
    }
    let Some((start, end)) = window else { return true };
    let mut date = None;
    let mut hour = None;
    for segment in key.split('/') {
        if let Some((name, value)) = segment.split_once('=') {
            match name {
                "dt" | "date" => {
                    date = time::Date::parse(value, &time::macros::format_description!("[year]-[month]-[day]")).ok()
                }
                "hour" => hour = value.parse::<u8>().ok().filter(|h| *h < 24),
                _ => {}
            }
        }
    }
    let Some(date) = date else { return true };
    let (from, length) = match hour {
        Some(h) => (date.with_hms(h, 0, 0).expect("valid hour").assume_utc(), time::Duration::HOUR),
        None => (date.midnight().assume_utc(), time::Duration::DAY),
    };
    from < end && from + length > start
}

/// Plans the run of `schedule` at `scheduled_time` over the listed files of each prefix.
pub fn plan_run(
    schedule: &DriftSchedule,
    scheduled_time: &str,
    reference_listing: &[InputFile],
    current_listing: &[InputFile],
    target: &BatchTarget,
) -> Result<RunPlan, PlanError> {
    let time = OffsetDateTime::parse(scheduled_time, &Rfc3339)
        .map_err(|_| PlanError::Time(scheduled_time.to_owned()))?
        .to_offset(time::UtcOffset::UTC);
    let bad = |reason: String| PlanError::Schedule { model: schedule.model.clone(), reason };
    schedule.validate(0).map_err(|e| bad(e.to_string()))?;
    let reference_window = window_of(&schedule.reference, time).map_err(|e| bad(e.to_string()))?;
    let current_window =
        window_of(&schedule.current, time).map_err(|e| bad(e.to_string()))?.expect("validated: current has a window");

    let pick = |listing: &[InputFile], window, spec: &WindowSpec, name| {
        let mut files: Vec<InputFile> = listing.iter().filter(|f| in_window(&f.uri, window)).cloned().collect();
        files.sort_by(|a, b| a.uri.cmp(&b.uri));
        files.dedup_by(|a, b| a.uri == b.uri);
        if files.is_empty() {
            return Err(PlanError::NoFiles {
                model: schedule.model.clone(),
                window: name,
                prefix: spec.prefix.clone(),
            });
        }
        Ok(files)
    };
    let reference = pick(reference_listing, reference_window, &schedule.reference, "reference")?;
    let current = pick(current_listing, Some(current_window), &schedule.current, "current")?;

    let stamp =
        time.format(&time::macros::format_description!("[year][month][day]T[hour][minute][second]Z")).expect("formats");
    let run_id = format!("{}-{stamp}", slug(&schedule.model));
    let reports = S3Uri::parse(&schedule.reports).map_err(|e| bad(e.to_string()))?;
    let output = format!("s3://{}/{}{run_id}/", reports.bucket, with_slash(&reports.key));
    let total: u64 = reference.iter().chain(&current).map(|f| f.bytes).sum();
    let files = reference.len().max(current.len());
    let shards = shard_count(total, files, schedule.target_shard_mib.saturating_mul(1 << 20), schedule.max_shards);

    let manifest = Manifest {
        format: MANIFEST_VERSION,
        run_id: run_id.clone(),
        model: schedule.model.clone(),
        scheduled_time: rfc3339(time),
        reference,
        current,
        reference_window: reference_window.map(|(s, e)| TimeRange { start: rfc3339(s), end: rfc3339(e) }),
        current_window: TimeRange { start: rfc3339(current_window.0), end: rfc3339(current_window.1) },
        timestamp_column: schedule.timestamp_column.clone(),
        drift_share: schedule.drift_share,
        shards,
        output,
    };
    let environment = BTreeMap::from([
        (env::DRIFT_MANIFEST.to_owned(), manifest.uri()),
        (env::DRIFT_RUN_ID.to_owned(), run_id.clone()),
        (env::DRIFT_MODEL.to_owned(), schedule.model.clone()),
    ]);
    let job = |role: &str, array_size, depends_on: Vec<String>| JobRequest {
        role: role.to_owned(),
        job_name: job_name(&run_id, role),
        job_queue: target.job_queue.clone(),
        job_definition: target.job_definition.clone(),
        command: vec![role.to_owned(), "--manifest".to_owned(), manifest.uri()],
        array_size,
        depends_on,
        environment: environment.clone(),
    };
    let jobs = if shards == 1 {
        vec![job("run", None, vec![])]
    } else {
        vec![job("map", Some(shards), vec![]), job("reduce", None, vec!["map".to_owned()])]
    };
    Ok(RunPlan { manifest, jobs })
}

fn with_slash(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') { key.to_owned() } else { format!("{key}/") }
}

/// `drift-<run id>-<role>`, within AWS Batch's 128 characters.
fn job_name(run_id: &str, role: &str) -> String {
    let mut base = format!("drift-{run_id}");
    base.truncate(128 - role.len() - 1);
    format!("{base}-{role}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::config::SchedulesFile;

    fn schedule() -> DriftSchedule {
        let text = include_str!("../../../../samples/schedules/schedules.json");
        SchedulesFile::parse(text).unwrap().schedules.remove(0)
    }

    fn target() -> BatchTarget {
        BatchTarget { job_queue: "deltaone-drift".into(), job_definition: "deltaone-drift-job".into() }
    }

    /// Daily partitions around the scheduled time, `per_day` files of `bytes` each.
    fn listing(prefix: &str, days: &[&str], per_day: usize, bytes: u64) -> Vec<InputFile> {
        let mut out = Vec::new();
        for day in days {
            for i in 0..per_day {
                out.push(InputFile { uri: format!("{prefix}dt={day}/part-{i:03}.parquet"), bytes });
            }
            out.push(InputFile { uri: format!("{prefix}dt={day}/_SUCCESS"), bytes: 0 });
        }
        out
    }

    fn reference() -> Vec<InputFile> {
        vec![InputFile { uri: "s3://prediction-logs/fraud-detector/reference/ref-000.parquet".into(), bytes: 40 << 20 }]
    }

    /// Recorded expectations: the requests for each case are checked in under
    /// samples/schedules/expected/; set DELTAONE_RECORD=1 to rewrite them after an intended change.
    fn check_recorded(name: &str, plan: &RunPlan) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/schedules/expected").join(name);
        let actual = serde_json::to_string_pretty(plan).unwrap() + "\n";
        if std::env::var_os("DELTAONE_RECORD").is_some() {
            std::fs::write(&path, &actual).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(actual, expected, "{name} differs from the recorded expectation");
    }

    #[test]
    fn a_small_window_is_one_job() {
        let current =
            listing("s3://prediction-logs/fraud-detector/", &["2026-11-21", "2026-11-22", "2026-11-23"], 2, 10 << 20);
        let plan = plan_run(&schedule(), "2026-11-23T06:00:00Z", &reference(), &current, &target()).unwrap();
        assert_eq!(plan.jobs.len(), 1);
        assert_eq!(plan.manifest.shards, 1);
        // P1D ending 06:00 on the 23rd overlaps the partitions of the 22nd and the 23rd.
        assert!(plan.manifest.current.iter().all(|f| !f.uri.contains("2026-11-21") && f.uri.ends_with(".parquet")));
        assert_eq!(plan.manifest.current.len(), 4);
        check_recorded("single-job.json", &plan);
    }

    #[test]
    fn a_large_window_is_a_map_array_and_a_dependent_reduce() {
        let current = listing("s3://prediction-logs/fraud-detector/", &["2026-11-22", "2026-11-23"], 12, 100 << 20);
        let plan = plan_run(&schedule(), "2026-11-23T06:00:00Z", &reference(), &current, &target()).unwrap();
        // 24 × 100 MiB + 40 MiB at 256 MiB per shard → 10 shards.
        assert_eq!(plan.manifest.shards, 10);
        let roles: Vec<(&str, Option<u32>, &[String])> =
            plan.jobs.iter().map(|j| (j.role.as_str(), j.array_size, j.depends_on.as_slice())).collect();
        assert_eq!(roles, vec![("map", Some(10), &[][..]), ("reduce", None, &["map".to_owned()][..])]);
        check_recorded("map-reduce.json", &plan);

        // Every file is in exactly one shard, and a shard is the same however often it is asked for.
        let mut seen: Vec<String> = (0..10)
            .flat_map(|i| {
                let (r, c) = plan.manifest.shard(i).unwrap();
                r.into_iter().chain(c).map(|f| f.uri)
            })
            .collect();
        seen.sort();
        assert_eq!(seen.len(), 25);
        seen.dedup();
        assert_eq!(seen.len(), 25);
        assert_eq!(plan.manifest.shard(3), plan.manifest.shard(3));
        assert_eq!(plan.manifest.shard(10), None);
    }

    #[test]
    fn the_plan_depends_only_on_its_inputs() {
        let mut current = listing("s3://prediction-logs/fraud-detector/", &["2026-11-22", "2026-11-23"], 12, 100 << 20);
        let a = plan_run(&schedule(), "2026-11-23T06:00:00Z", &reference(), &current, &target()).unwrap();
        current.reverse();
        let b = plan_run(&schedule(), "2026-11-23T07:00:00+01:00", &reference(), &current, &target()).unwrap();
        assert_eq!(a, b, "listing order and the time zone of the same instant do not matter");
    }

    #[test]
    fn empty_windows_and_bad_times_are_clear_errors() {
        let current = listing("s3://prediction-logs/fraud-detector/", &["2026-10-01"], 2, 1);
        let err = plan_run(&schedule(), "2026-11-23T06:00:00Z", &reference(), &current, &target()).unwrap_err();
        assert!(matches!(err, PlanError::NoFiles { window: "current", .. }), "{err}");
        let err = plan_run(&schedule(), "yesterday", &reference(), &current, &target()).unwrap_err();
        assert_eq!(err, PlanError::Time("yesterday".into()));
        let err = plan_run(&schedule(), "2026-11-23T06:00:00Z", &[], &current, &target()).unwrap_err();
        assert!(matches!(err, PlanError::NoFiles { window: "reference", .. }), "{err}");
    }

    #[test]
    fn partitions_select_files_by_overlap() {
        let t = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
        let window = Some((t("2026-11-22T06:00:00Z"), t("2026-11-23T06:00:00Z")));
        assert!(in_window("p/dt=2026-11-22/a.parquet", window));
        assert!(in_window("p/dt=2026-11-23/a.parquet", window));
        assert!(!in_window("p/dt=2026-11-21/a.parquet", window));
        assert!(!in_window("p/dt=2026-11-22/hour=05/a.parquet", window));
        assert!(in_window("p/dt=2026-11-22/hour=06/a.parquet", window));
        assert!(!in_window("p/date=2026-11-23/hour=06/a.parquet", window), "the window's end is open");
        assert!(in_window("p/no-partition/a.parquet", window));
        assert!(!in_window("p/dt=2026-11-22/a.csv", window));
        assert_eq!(job_name(&"x".repeat(300), "reduce").len(), 128);
        assert_eq!(slug("Fraud Detector/v2 (EU)"), "fraud-detector-v2-eu");
    }
}
