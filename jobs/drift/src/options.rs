//! What one run compares and how: the run's options, their defaults and their validation, and
//! the column plan they make of the reference schema.

use deltaone::drift::DEFAULT_DATASET_DRIFT_SHARE;
use deltaone::drift::DecisionSettings;
use deltaone::drift::alerting::AlertRule;

use crate::config::{self, BinningChoice, ColumnConfig, JobConfig, Select};
use crate::error::DriftJobError;
use crate::filter;
use crate::filter::{RowSpec, TimeRange};
use crate::plan::{ColumnPlan, Role, SkippedColumn, method_of, plan_columns};
use crate::progress::Progress;
use crate::quarantine;
use crate::read;
use crate::read::open::ReadContext;

/// What one run compares.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub run_id: String,
    /// Paths, directories or globs.
    pub reference: Vec<String>,
    pub current: Vec<String>,
    pub prediction_column: String,
    pub label_column: String,
    pub binning: BinningChoice,
    /// Share of drifted columns from which the dataset counts as drifted.
    pub drift_share: f64,
    /// The timestamp column the windows select rows by.
    pub timestamp_column: Option<String>,
    pub reference_window: Option<TimeRange>,
    pub current_window: Option<TimeRange>,
    /// Model filter: rows (or Hive partitions) whose `model_name` / `model_version` match.
    pub model_name: Option<String>,
    pub model_version: Option<String>,
    /// Per-column kinds, methods and thresholds (from the configuration file).
    pub columns: std::collections::BTreeMap<String, ColumnConfig>,
    pub select: Select,
    /// Scores at or above count as positive in the performance metrics.
    pub positive_threshold: f64,
    /// Files read at the same time.
    pub read_concurrency: usize,
    /// Where unreadable files are copied (`s3://bucket/prefix/` or a directory); S3 inputs default
    /// to `s3://<their bucket>/quarantine/`, local ones are not copied without it.
    pub quarantine: Option<String>,
    /// A progress bar on a terminal.
    pub progress: bool,
    /// Sketch every numeric column (bounded memory, statistics with error bounds).
    pub sketch: bool,
    /// Rows per window above which its numeric columns are sketched anyway.
    pub exact_max_rows: u64,
    /// Mantissa bits per sketch bucket (buckets `2^-precision` of their magnitude wide).
    pub sketch_precision: u8,
    /// Policy, correction and gates of the column decisions.
    pub decision: DecisionSettings,
    /// When a drifted run alerts (applied with a drift table, which holds the history).
    pub alert: AlertRule,
}

/// Finite values per window and column above which numeric columns are sketched by default.
pub const DEFAULT_EXACT_MAX_ROWS: u64 = 5_000_000;

impl RunOptions {
    pub fn new(reference: Vec<String>, current: Vec<String>) -> Self {
        Self {
            run_id: default_run_id(),
            reference,
            current,
            prediction_column: "prediction".to_owned(),
            label_column: "label".to_owned(),
            binning: BinningChoice::default(),
            drift_share: DEFAULT_DATASET_DRIFT_SHARE,
            timestamp_column: None,
            reference_window: None,
            current_window: None,
            model_name: None,
            model_version: None,
            columns: Default::default(),
            select: Select::All,
            positive_threshold: 0.5,
            read_concurrency: DEFAULT_READ_CONCURRENCY,
            quarantine: None,
            progress: false,
            sketch: false,
            exact_max_rows: DEFAULT_EXACT_MAX_ROWS,
            sketch_precision: deltaone::drift::sketch::DEFAULT_SKETCH_PRECISION,
            decision: DecisionSettings::default(),
            alert: AlertRule::default(),
        }
    }

    /// Applies a configuration file: its values fill what the options leave at their defaults.
    /// (The command line resolves flag > environment > file > default itself.)
    pub fn with_config(mut self, config: &JobConfig) -> Self {
        self.columns = config.columns.clone();
        self.select = config.select;
        let d = &mut self.decision;
        d.policy = config.policy.unwrap_or(d.policy);
        d.correction = config.correction.map_or(d.correction, config::CorrectionName::correction);
        d.alpha = config.alpha.unwrap_or(d.alpha);
        d.new_category_share = config.new_category_share.unwrap_or(d.new_category_share);
        if let Some(alert) = &config.alert {
            self.alert = alert.apply(self.alert);
        }
        self
    }

    pub(crate) fn spec(&self, window: Option<TimeRange>) -> RowSpec {
        RowSpec {
            time: self.timestamp_column.clone().zip(window),
            model_name: self.model_name.clone(),
            model_version: self.model_version.clone(),
        }
    }
}

/// Files read at the same time by default.
pub const DEFAULT_READ_CONCURRENCY: usize = 4;

/// `drift-<unix seconds>-<pid>`.
pub fn default_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("drift-{secs}-{}", std::process::id())
}

impl RunOptions {
    pub(crate) fn validate(&self) -> Result<(), DriftJobError> {
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            return Err(DriftJobError::InvalidOption(format!("drift share {} is not in (0, 1]", self.drift_share)));
        }
        if !(0.0..=1.0).contains(&self.positive_threshold) {
            return Err(DriftJobError::InvalidOption(format!(
                "positive threshold {} is not in [0, 1]",
                self.positive_threshold
            )));
        }
        let windows = self.reference_window.is_some() || self.current_window.is_some();
        if windows && self.timestamp_column.is_none() {
            return Err(DriftJobError::InvalidOption(
                "a reference or current window needs --timestamp-column".to_owned(),
            ));
        }
        self.decision.validate().map_err(|e| DriftJobError::InvalidOption(e.to_string()))?;
        self.alert.validate().map_err(|e| DriftJobError::InvalidOption(e.to_string()))?;
        if !(1..=deltaone::drift::sketch::MAX_SKETCH_PRECISION).contains(&self.sketch_precision) {
            return Err(DriftJobError::InvalidOption(format!(
                "sketch precision {} is not in 1..={}",
                self.sketch_precision,
                deltaone::drift::sketch::MAX_SKETCH_PRECISION
            )));
        }
        Ok(())
    }

    pub(crate) fn quarantine_destination(&self) -> Option<quarantine::Destination> {
        self.quarantine.as_deref().map(quarantine::Destination::parse)
    }

    /// The quarantine prefix, whose objects are never inputs.
    pub(crate) fn quarantine_exclude(&self) -> Option<(String, String)> {
        match self.quarantine_destination() {
            Some(quarantine::Destination::S3 { bucket, prefix }) => Some((bucket, prefix)),
            _ => None,
        }
    }

    pub(crate) fn read_context(&self, s3: Option<aws_sdk_s3::Client>) -> ReadContext {
        ReadContext {
            s3,
            concurrency: self.read_concurrency.max(1),
            progress: std::sync::Arc::new(Progress::new(self.progress)),
        }
    }

    /// How the classification metrics are accumulated: the AUROC's scores are sketched on the
    /// same rule as numeric columns (`--sketch`, or a window of more than `exact_max_rows` rows).
    pub(crate) fn performance_options(&self) -> read::performance::PerformanceOptions {
        read::performance::PerformanceOptions {
            threshold: self.positive_threshold,
            sketch: self.sketch,
            exact_max_rows: self.exact_max_rows,
        }
    }

    /// The sketch precision for the numeric columns of a window of `rows` rows, `None` for exact.
    pub(crate) fn sketch_for(&self, rows: u64) -> Option<u8> {
        (self.sketch || rows > self.exact_max_rows).then_some(self.sketch_precision)
    }
}

/// The column plan from the reference schema, with the configuration applied: kinds override
/// inference, `select = "configured"` keeps only configured columns (and the prediction), methods
/// and thresholds are attached. The timestamp and model-filter columns are never features.
pub(crate) fn plan_for(
    schema: &arrow_schema::Schema,
    options: &RunOptions,
) -> Result<(Vec<ColumnPlan>, Vec<SkippedColumn>), DriftJobError> {
    let (inferred, mut skipped) = plan_columns(schema, &options.prediction_column, &options.label_column);
    let config_error =
        |key: String, reason: String| DriftJobError::Config { path: "(options)".to_owned(), key, reason };
    for name in options.columns.keys() {
        if schema.index_of(name).is_err() {
            return Err(config_error(format!("columns.{name}"), "no such column in the reference schema".to_owned()));
        }
    }
    let reserved = [options.timestamp_column.as_deref(), Some(filter::MODEL_NAME), Some(filter::MODEL_VERSION)];
    let mut plan = Vec::new();
    for field in schema.fields() {
        let name = field.name();
        let configured = options.columns.get(name);
        let mut column = match inferred.iter().find(|c| &c.name == name) {
            Some(c) => c.clone(),
            None => match configured.and_then(|c| c.kind) {
                // A type inference skipped, configured explicitly (e.g. an id-like integer as categorical).
                Some(kind) if name != &options.label_column => {
                    skipped.retain(|s| &s.column != name);
                    ColumnPlan { name: name.clone(), kind, role: Role::Feature, method: None, threshold: None }
                }
                _ => continue,
            },
        };
        if let Some(config) = configured {
            if let Some(kind) = config.kind {
                if !kind.accepts(field.data_type()) {
                    return Err(config_error(
                        format!("columns.{name}.kind"),
                        format!("{} does not fit the column's type {}", kind.as_str(), field.data_type()),
                    ));
                }
                column.kind = kind;
            }
            if let Some(method) = config.method {
                config::check_method(column.kind, method.method())
                    .map_err(|e| config_error(format!("columns.{name}.method"), e.to_string()))?;
                column.method = Some(method.method());
            }
            column.threshold = config.threshold;
            if let Some(threshold) = column.threshold
                && method_of(&column, options.decision.policy).is_p_value()
                && threshold >= 1.0
            {
                return Err(config_error(
                    format!("columns.{name}.threshold"),
                    format!("{threshold} is not in (0, 1) for a p-value"),
                ));
            }
        }
        if column.role == Role::Feature && reserved.contains(&Some(name.as_str())) {
            skipped
                .push(SkippedColumn { column: name.clone(), reason: "selects rows (time or model filter)".to_owned() });
            continue;
        }
        if column.role == Role::Feature && options.select == Select::Configured && configured.is_none() {
            skipped.push(SkippedColumn {
                column: name.clone(),
                reason: "not configured (select = configured)".to_owned(),
            });
            continue;
        }
        plan.push(column);
    }
    Ok((plan, skipped))
}
