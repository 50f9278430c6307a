//! The drift schedules file: one entry per model, read by Terraform (one EventBridge Scheduler
//! schedule per entry, whose input is the entry itself) and by the scheduled function.
//!
//! ```json
//! {
//!   "version": 1,
//!   "schedules": [
//!     {
//!       "model": "fraud-detector",
//!       "cron": "cron(0 6 * * ? *)",
//!       "timezone": "UTC",
//!       "current": { "prefix": "s3://prediction-logs/fraud-detector/", "window": "P1D" },
//!       "reference": { "prefix": "s3://prediction-logs/fraud-detector/reference/" },
//!       "reports": "s3://drift-reports/fraud-detector/",
//!       "timestamp_column": "ts",
//!       "target_shard_mib": 256,
//!       "max_shards": 50
//!     }
//!   ]
//! }
//! ```
//!
//! A window is an ISO-8601 duration (`P1D`, `PT6H`, `P1DT12H`, `PT30M`) ending at the scheduled
//! time (optionally `offset` earlier); without `window`, every file under the prefix belongs to
//! it (a fixed reference set).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The schedules file's format version.
pub const SCHEDULES_VERSION: u32 = 1;
/// Default bytes of input per map shard: 256 MiB.
pub const DEFAULT_TARGET_SHARD_MIB: u64 = 256;
/// Default largest array size.
pub const DEFAULT_MAX_SHARDS: u32 = 50;
/// The most shards a run may have: AWS Batch's array size limit.
pub const MAX_SHARDS: u32 = 10_000;

/// Why a schedules file (or a schedule entry) is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedules file is not valid JSON of the expected shape: {0}")]
    Parse(String),
    #[error("schedules file version {0} is not supported (expected {SCHEDULES_VERSION})")]
    Version(u32),
    #[error("schedule {index} ({model:?}): {field}: {reason}")]
    Invalid { index: usize, model: String, field: &'static str, reason: String },
    #[error("model {0:?} is scheduled twice")]
    Duplicate(String),
}

/// The whole schedules file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulesFile {
    pub version: u32,
    pub schedules: Vec<DriftSchedule>,
}

/// One model's scheduled drift run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSchedule {
    pub model: String,
    /// An EventBridge Scheduler expression: `cron(…)` or `rate(…)`.
    pub cron: String,
    #[serde(default = "utc")]
    pub timezone: String,
    pub current: WindowSpec,
    pub reference: WindowSpec,
    /// Where results and the HTML report go (`s3://bucket/prefix/`).
    pub reports: String,
    #[serde(default)]
    pub timestamp_column: Option<String>,
    #[serde(default = "default_target_shard_mib")]
    pub target_shard_mib: u64,
    #[serde(default = "default_max_shards")]
    pub max_shards: u32,
    #[serde(default)]
    pub drift_share: Option<f64>,
}

/// Where a window's files are and which of them belong to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// `s3://bucket/prefix/`.
    pub prefix: String,
    /// ISO-8601 duration of the window, ending at the scheduled time minus `offset`.
    #[serde(default)]
    pub window: Option<String>,
    #[serde(default)]
    pub offset: Option<String>,
}

fn utc() -> String {
    "UTC".to_owned()
}
fn default_target_shard_mib() -> u64 {
    DEFAULT_TARGET_SHARD_MIB
}
fn default_max_shards() -> u32 {
    DEFAULT_MAX_SHARDS
}

impl SchedulesFile {
    /// Parses and validates a schedules file.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let file: SchedulesFile = serde_json::from_str(text).map_err(|e| ScheduleError::Parse(e.to_string()))?;
        if file.version != SCHEDULES_VERSION {
            return Err(ScheduleError::Version(file.version));
        }
        let mut seen = BTreeSet::new();
        for (index, schedule) in file.schedules.iter().enumerate() {
            schedule.validate(index)?;
            if !seen.insert(schedule.model.as_str()) {
                return Err(ScheduleError::Duplicate(schedule.model.clone()));
            }
        }
        Ok(file)
    }
}

impl DriftSchedule {
    /// Checks every field; `index` names the entry in errors.
    pub fn validate(&self, index: usize) -> Result<(), ScheduleError> {
        let invalid = |field: &'static str, reason: String| ScheduleError::Invalid {
            index,
            model: self.model.clone(),
            field,
            reason,
        };
        if self.model.trim().is_empty() {
            return Err(invalid("model", "must not be empty".into()));
        }
        let cron = self.cron.trim();
        let shaped = |kind: &str| cron.starts_with(&format!("{kind}(")) && cron.ends_with(')');
        if !(shaped("cron") && cron[5..cron.len() - 1].split_whitespace().count() == 6 || shaped("rate")) {
            return Err(invalid(
                "cron",
                format!("{cron:?} is not an EventBridge Scheduler expression like cron(0 6 * * ? *) or rate(1 day)"),
            ));
        }
        for (field, spec) in [("current", &self.current), ("reference", &self.reference)] {
            S3Uri::parse(&spec.prefix).map_err(|e| invalid(field, e.to_string()))?;
            for duration in [&spec.window, &spec.offset].into_iter().flatten() {
                parse_duration(duration).map_err(|e| invalid(field, e.to_string()))?;
            }
            if spec.offset.is_some() && spec.window.is_none() {
                return Err(invalid(field, "an offset needs a window".into()));
            }
        }
        if self.current.window.is_none() {
            return Err(invalid("current", "the current window needs a `window` duration".into()));
        }
        S3Uri::parse(&self.reports).map_err(|e| invalid("reports", e.to_string()))?;
        if self.target_shard_mib == 0 {
            return Err(invalid("target_shard_mib", "must be at least 1".into()));
        }
        if !(1..=MAX_SHARDS).contains(&self.max_shards) {
            return Err(invalid(
                "max_shards",
                format!("{} is outside 1..={MAX_SHARDS} (AWS Batch's array limit)", self.max_shards),
            ));
        }
        if let Some(share) = self.drift_share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(invalid("drift_share", format!("{share} is outside (0, 1]")));
        }
        Ok(())
    }
}

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

/// A text that is not an `s3://bucket/prefix` address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3UriError {
    #[error("{0:?} is not an s3:// address")]
    NotS3(String),
    #[error("{0:?} names no bucket")]
    NoBucket(String),
}

impl S3Uri {
    pub fn parse(uri: &str) -> Result<Self, S3UriError> {
        let rest = uri.strip_prefix("s3://").ok_or_else(|| S3UriError::NotS3(uri.to_owned()))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3UriError::NoBucket(uri.to_owned()));
        }
        Ok(Self { bucket: bucket.to_owned(), key: key.to_owned() })
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// A text that is not a (positive, whole-unit) ISO-8601 duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ISO-8601 duration like P1D, PT6H or P1DT12H")]
pub struct DurationError(pub String);

/// Parses the ISO-8601 durations a schedule uses: `P[nW][nD][T[nH][nM][nS]]`, whole numbers.
pub fn parse_duration(text: &str) -> Result<time::Duration, DurationError> {
    let bad = || DurationError(text.to_owned());
    let body = text.strip_prefix('P').ok_or_else(bad)?;
    let (date, clock) = match body.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err(bad()),
        None => (body, None),
    };
    let mut seconds: i64 = 0;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, i64)]| -> Result<(), DurationError> {
        let mut number = String::new();
        let mut allowed = units.iter();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, scale) = allowed.by_ref().find(|(u, _)| *u == c).ok_or_else(bad)?;
            let n: i64 = number.parse().map_err(|_| bad())?;
            seconds = n.checked_mul(*scale).and_then(|s| seconds.checked_add(s)).ok_or_else(bad)?;
            number.clear();
            any = true;
        }
        if number.is_empty() { Ok(()) } else { Err(bad()) }
    };
    take(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(clock) = clock {
        take(clock, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    if !any || seconds == 0 {
        return Err(bad());
    }
    Ok(time::Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"{
      "version": 1,
      "schedules": [{
        "model": "fraud-detector",
        "cron": "cron(0 6 * * ? *)",
        "current": {"prefix": "s3://logs/fraud-detector/", "window": "P1D"},
        "reference": {"prefix": "s3://logs/fraud-detector/reference/"},
        "reports": "s3://reports/fraud-detector/"
      }]
    }"#;

    #[test]
    fn a_minimal_file_gets_defaults() {
        let file = SchedulesFile::parse(EXAMPLE).unwrap();
        let s = &file.schedules[0];
        assert_eq!((s.timezone.as_str(), s.target_shard_mib, s.max_shards), ("UTC", 256, 50));
        assert_eq!(s.reference.window, None);
    }

    #[test]
    fn durations_parse_and_bad_ones_are_named() {
        assert_eq!(parse_duration("P1D").unwrap(), time::Duration::days(1));
        assert_eq!(parse_duration("PT6H").unwrap(), time::Duration::hours(6));
        assert_eq!(parse_duration("P1DT12H30M").unwrap(), time::Duration::minutes(36 * 60 + 30));
        assert_eq!(parse_duration("P2W").unwrap(), time::Duration::days(14));
        for bad in ["", "1D", "P", "PT", "P1H", "PT1D", "P1DT", "P0D", "PD", "P1D2", "P1M"] {
            let err = parse_duration(bad).unwrap_err().to_string();
            assert!(err.contains("ISO-8601"), "{bad}: {err}");
        }
    }

    #[test]
    fn invalid_entries_name_the_model_and_field() {
        let cases = [
            (r#""cron": "cron(0 6 * * ? *)""#, r#""cron": "every day""#, "cron"),
            (r#""window": "P1D""#, r#""window": "one day""#, "current"),
            (r#""window": "P1D""#, r#""offset": "P1D""#, "current"),
            (r#""reports": "s3://reports/fraud-detector/""#, r#""reports": "/tmp/x""#, "reports"),
            (r#""model": "fraud-detector","#, r#""model": "fraud-detector", "max_shards": 0,"#, "max_shards"),
        ];
        for (from, to, field) in cases {
            let text = EXAMPLE.replace(from, to);
            match SchedulesFile::parse(&text) {
                Err(ScheduleError::Invalid { model, field: f, .. }) => {
                    assert_eq!((model.as_str(), f), ("fraud-detector", field), "{to}")
                }
                other => panic!("{to}: {other:?}"),
            }
        }
        let unknown = EXAMPLE.replace(r#""model""#, r#""modle": "x", "model""#);
        assert!(matches!(SchedulesFile::parse(&unknown), Err(ScheduleError::Parse(m)) if m.contains("modle")));
        assert_eq!(
            SchedulesFile::parse(&EXAMPLE.replace("\"version\": 1", "\"version\": 2")),
            Err(ScheduleError::Version(2))
        );
        let entry = &EXAMPLE[EXAMPLE.find('{').unwrap() + 1..];
        let entry = &entry[entry.find('{').unwrap()..entry.rfind(']').unwrap()];
        let twice = format!(r#"{{"version": 1, "schedules": [{entry}, {entry}]}}"#);
        assert_eq!(SchedulesFile::parse(&twice), Err(ScheduleError::Duplicate("fraud-detector".into())));
    }
}
