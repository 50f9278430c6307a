//! `baseline`: a reference window → SageMaker Model Monitor's `statistics.json` and
//! `constraints.json` (docs/model-monitor.md) and DeltaOne's reference profile (`profile.json`,
//! [`profile`]).
//!
//! The window is read by the run's own reading path (`shard::scan` with no current
//! files): same inputs, filters, column plan, quarantine and progress; numeric columns exact or
//! sketched as `--sketch` / `--exact-max-rows` say. Both Model Monitor files are computed from that
//! partial state ([`deltaone::drift::model_monitor`]), so they and the profile describe the same
//! rows.

pub mod profile;

use arrow_schema::DataType;
use deltaone::drift::Side;
use deltaone::drift::model_monitor::{self, Constraints, FeatureState, InferredType, Statistics};
use deltaone::drift::partial::{ColumnPartial, PARTIAL_FORMAT_VERSION};

use crate::quarantine::{self, Destination};
use crate::shard::{self, ScanRequest};
use crate::{ColumnKind, DriftJobError, RunOptions, SkippedFile, filter, source};
pub use profile::{PROFILE_FORMAT_VERSION, ProfileError, ProfileSelection, ReferenceProfile};

/// Model Monitor's statistics file.
pub const STATISTICS_FILE: &str = "statistics.json";
/// Model Monitor's constraints file.
pub const CONSTRAINTS_FILE: &str = "constraints.json";
/// DeltaOne's reference profile.
pub const PROFILE_FILE: &str = "profile.json";

/// A reference window's baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub statistics: Statistics,
    pub constraints: Constraints,
    pub profile: ReferenceProfile,
    /// Analysed columns that are not Model Monitor features (their type is `Unknown` to it), with
    /// the reason; they are in the profile.
    pub not_features: Vec<(String, String)>,
}

impl Baseline {
    /// Files the window skipped as unreadable.
    pub fn skipped_files(&self) -> &[SkippedFile] {
        &self.profile.read.skipped
    }
}

/// Model Monitor's name of a Parquet column's type: integers `Integral`; floats and decimals
/// `Fractional`; strings (plain, large, views, dictionaries of them) `String`; anything else
/// `Unknown`.
pub fn inferred_type(data_type: &DataType) -> InferredType {
    match data_type {
        t if t.is_integer() => InferredType::Integral,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => InferredType::Fractional,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => InferredType::String,
        DataType::Dictionary(_, values) => match inferred_type(values) {
            InferredType::String => InferredType::String,
            _ => InferredType::Unknown,
        },
        _ => InferredType::Unknown,
    }
}

/// Reads the reference window of `options` (its `reference` inputs, filters and reference
/// window; `current` is ignored) and computes its baseline. Unreadable files are skipped and
/// quarantined as a run does; a window without readable rows is an error naming the files.
pub async fn baseline(options: &RunOptions, s3: Option<aws_sdk_s3::Client>) -> Result<Baseline, DriftJobError> {
    options.validate()?;
    let exclude = options.quarantine_exclude();
    let files = source::expand(&options.reference, s3.as_ref(), exclude.as_ref()).await?;
    let ctx = options.read_context(s3);
    let partial = shard::scan(ScanRequest {
        ctx: &ctx,
        options,
        schema_files: &files,
        reference_files: &files,
        current_files: &[],
        shard: 0,
        shards: 1,
        inline: false,
    })
    .await;
    ctx.progress.finish();
    let partial = partial?;
    let state = partial.state.reference;
    let read = partial.reference;
    if state.rows == 0 {
        return Err(DriftJobError::EmptyWindow {
            side: Side::Reference,
            files: read.matched,
            skipped: read.skipped.len(),
            unreadable: read.skipped.iter().map(|f| (f.path.clone(), f.reason.clone())).collect(),
        });
    }
    let schema = partial.reference_schema.expect("a scan keeps the schema it planned from");
    let mut features = Vec::with_capacity(partial.columns.len());
    let mut not_features = Vec::new();
    for column in &partial.columns {
        let data_type = schema
            .field_with_name(&column.name)
            .map(|f| f.data_type().clone())
            .map_err(|e| DriftJobError::InvalidOption(format!("column {:?} of the plan: {e}", column.name)))?;
        let inferred = inferred_type(&data_type);
        let feature = match (column.kind, inferred, state.columns.get(&column.name)) {
            (
                ColumnKind::Numeric,
                InferredType::Integral | InferredType::Fractional,
                Some(ColumnPartial::Numeric(n)),
            ) => FeatureState::Numeric { name: &column.name, inferred_type: inferred, state: n },
            (ColumnKind::Categorical, InferredType::String, Some(ColumnPartial::Categorical(c))) => {
                FeatureState::String { name: &column.name, state: c }
            }
            (kind, _, _) => {
                let reason =
                    format!("{} analysed as {}: Model Monitor has no type for it (Unknown)", data_type, kind.as_str());
                tracing::warn!(column = %column.name, %reason, "not a Model Monitor feature");
                not_features.push((column.name.clone(), reason));
                continue;
            }
        };
        features.push(feature);
    }
    let (statistics, constraints) = model_monitor::baseline(state.rows, &features);
    let profile = ReferenceProfile {
        format: PROFILE_FORMAT_VERSION,
        state_format: PARTIAL_FORMAT_VERSION,
        written_by: format!("deltaone-drift {}", env!("CARGO_PKG_VERSION")),
        selection: ProfileSelection {
            inputs: options.reference.clone(),
            model_name: options.model_name.clone(),
            model_version: options.model_version.clone(),
            timestamp_column: options.timestamp_column.clone(),
            window_start: options.reference_window.map(|r| filter::rfc3339_seconds(r.start)),
            window_end: options.reference_window.map(|r| filter::rfc3339_seconds(r.end)),
            prediction_column: options.prediction_column.clone(),
            label_column: options.label_column.clone(),
        },
        columns: partial.columns,
        skipped_columns: partial.skipped_columns,
        performance: partial.performance,
        read,
        bytes_read: partial.bytes_read,
        state,
    };
    Ok(Baseline { statistics, constraints, profile, not_features })
}

/// Where the baseline went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub statistics: String,
    pub constraints: String,
    pub profile: String,
}

/// Writes `statistics.json`, `constraints.json` and `profile.json` into `out`: a directory
/// (created if missing) or `s3://bucket/prefix/`.
pub async fn write_baseline(
    baseline: &Baseline,
    out: &str,
    s3: Option<&aws_sdk_s3::Client>,
) -> Result<Written, DriftJobError> {
    let destination = Destination::parse(out);
    let files = [
        (STATISTICS_FILE, pretty(&baseline.statistics)),
        (CONSTRAINTS_FILE, pretty(&baseline.constraints)),
        (PROFILE_FILE, baseline.profile.encode()),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let location = destination.join(name);
        quarantine::put(s3, &location, bytes, "application/json")
            .await
            .map_err(|e| DriftJobError::Aws(format!("writing {location}: {e}")))?;
        written.push(location.to_string());
    }
    let [statistics, constraints, profile] = <[String; 3]>::try_from(written).expect("three files");
    Ok(Written { statistics, constraints, profile })
}

/// A Model Monitor file as pretty JSON.
fn pretty(value: &impl serde::Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("a Model Monitor file serialises");
    bytes.push(b'\n');
    bytes
}

/// What `baseline` prints: rows, features, where the files went, what was left out.
pub fn summary_text(baseline: &Baseline, written: &Written) -> String {
    let numeric = baseline.statistics.features.iter().filter(|f| f.numerical_statistics.is_some()).count();
    let strings = baseline.statistics.features.len() - numeric;
    let sketched: Vec<&str> = baseline
        .profile
        .state
        .columns
        .iter()
        .filter(|(_, c)| {
            matches!(c, ColumnPartial::Numeric(n) if matches!(n.values, deltaone::drift::partial::NumericValues::Sketch { .. }))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let mut text = format!(
        "reference window: {} rows from {} file(s); {} feature(s): {numeric} numeric, {strings} string\n",
        baseline.statistics.dataset.item_count,
        baseline.profile.read.files.len(),
        baseline.statistics.features.len(),
    );
    if !sketched.is_empty() {
        text.push_str(&format!("sketched (approximate statistics): {}\n", sketched.join(", ")));
    }
    for (column, reason) in &baseline.not_features {
        text.push_str(&format!("not a Model Monitor feature (in the profile only): {column}: {reason}\n"));
    }
    for f in baseline.skipped_files() {
        text.push_str(&format!("skipped unreadable file {}: {}\n", f.path, f.reason));
    }
    text.push_str(&format!("wrote {}\nwrote {}\nwrote {}\n", written.statistics, written.constraints, written.profile));
    text
}

#[cfg(test)]
mod tests;
