//! The drift batch job: Parquet prediction logs of a reference window and a current window →
//! per-column drift statistics (`drift.json`) and a self-contained HTML report (`report.html`).
//!
//! * **Inputs**: paths, directories (every `*.parquet` in them) or globs with `*` in the file
//!   name ([`expand_inputs`]). A file that cannot be read (missing, not Parquet, corrupt pages,
//!   missing or mistyped columns) is skipped with its reason in `skipped_files`; the run goes on.
//!   A window without readable rows is [`DriftJobError::EmptyWindow`].
//! * **Columns**: taken from the schema of the first readable reference file ([`plan_columns`]).
//!   Integers and floats are numeric; strings, dictionaries of strings and booleans are
//!   categorical. The label column is never analysed; the prediction column is always analysed
//!   (role `prediction`). Timestamps, dates, times and columns named like ids (`id`, `*_id`,
//!   `*Id`) are skipped, as are other types; every skipped column is listed with its reason.
//! * **Reading**: one streaming pass over every file decodes only the analysed columns, counts
//!   categories and data quality and validates the file; then, for each numeric column in turn,
//!   one more pass with a projection of that column only collects its finite values for the exact
//!   statistics. Memory is bounded by the largest numeric column.
//! * **Decision** ([`deltaone::drift::decide_columns`], `docs/drift-decisions.md`): by default
//!   an effect size decides — normalised Wasserstein for numeric columns, Jensen–Shannon distance
//!   for categorical ones, drift at 0.1 — gated by the KS or chi-square p-value, adjusted across
//!   the run's columns (Benjamini–Hochberg), below 0.05; a significant change below the threshold
//!   reads `negligible`. `--policy p_value` decides by the tests' p-values as the job did before.
//!   Every column reports its raw and adjusted p-value. The dataset has drifted when at least the
//!   share `--drift-share` (default 0.5) of the analysed columns drifted. Nulls, NaN and
//!   infinities are counted in `quality` and kept out of the tests.

pub mod cli;
pub mod config;
pub mod deliver;
pub mod drift_report;
pub mod env;
pub mod error;
pub mod filter;
pub mod plan;
pub mod progress;
mod quarantine;
mod read;
pub mod report;
pub mod results;
pub mod samples;
pub mod shard;
pub mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deltaone::drift::alerting::AlertRule;
use deltaone::drift::partial::{NumericPartial, NumericStatistics, NumericValues, SketchDrift, numeric_statistics};
use deltaone::drift::{
    Binning, CategoricalDrift, DEFAULT_DATASET_DRIFT_SHARE, DecisionPolicy, DecisionSettings, DriftMethod,
};

pub use config::{BinningChoice, ColumnConfig, JobConfig, Select};
pub use drift_report::{
    ColumnHistory, ColumnResult, DatasetSummary, DriftReport, Histogram, HistoryPoint, PerformancePair, Quality,
    QualityPair, SkippedFile, Statistics, Window, WindowPerformance, Windows,
};
pub use error::DriftJobError;
pub use filter::{RowSpec, TimeRange};
pub use plan::{ColumnKind, ColumnPlan, Role, SkippedColumn, plan_columns};
pub use source::{InputFile, Location, expand_inputs};

use drift_report::finite;
use progress::Progress;
use read::open::ReadContext;

/// The JSON result file in the output directory.
pub const RESULT_FILE: &str = "drift.json";
/// The HTML report in the output directory.
pub const REPORT_FILE: &str = "report.html";
/// Bars per numeric histogram in the report.
const HISTOGRAM_BINS: usize = 20;
/// Categories drawn per categorical histogram; the rest are summed as `(other)`.
const HISTOGRAM_CATEGORIES: usize = 15;

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

    fn spec(&self, window: Option<TimeRange>) -> RowSpec {
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

/// Runs the comparison over local files (reads, computes, quarantines if asked); writes no results.
/// Usable inside or outside an async runtime (it runs on a thread of its own).
pub fn run(options: &RunOptions) -> Result<DriftReport, DriftJobError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| DriftJobError::InvalidOption(format!("cannot start the async runtime: {e}")))?;
                runtime.block_on(run_with(options, None))
            })
            .join()
            .unwrap_or_else(|_| Err(DriftJobError::InvalidOption("the drift run panicked".to_owned())))
    })
}

/// Runs the comparison over local files and S3 objects (with `s3`); unreadable files are
/// quarantined and the run continues.
pub async fn run_with(options: &RunOptions, s3: Option<aws_sdk_s3::Client>) -> Result<DriftReport, DriftJobError> {
    options.validate()?;
    let exclude = options.quarantine_exclude();
    let reference_files = source::expand(&options.reference, s3.as_ref(), exclude.as_ref()).await?;
    let current_files = source::expand(&options.current, s3.as_ref(), exclude.as_ref()).await?;
    let ctx = options.read_context(s3);
    let partial = shard::scan(shard::ScanRequest::whole_run(&ctx, options, &reference_files, &current_files)).await?;
    let report = shard::finish(options, partial);
    ctx.progress.finish();
    report
}

impl RunOptions {
    fn validate(&self) -> Result<(), DriftJobError> {
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
        self.decision.validate().map_err(DriftJobError::InvalidOption)?;
        self.alert.validate().map_err(DriftJobError::InvalidOption)?;
        if !(1..=deltaone::drift::sketch::MAX_SKETCH_PRECISION).contains(&self.sketch_precision) {
            return Err(DriftJobError::InvalidOption(format!(
                "sketch precision {} is not in 1..={}",
                self.sketch_precision,
                deltaone::drift::sketch::MAX_SKETCH_PRECISION
            )));
        }
        Ok(())
    }

    fn quarantine_destination(&self) -> Option<quarantine::Destination> {
        self.quarantine.as_deref().map(quarantine::Destination::parse)
    }

    /// The quarantine prefix, whose objects are never inputs.
    fn quarantine_exclude(&self) -> Option<(String, String)> {
        match self.quarantine_destination() {
            Some(quarantine::Destination::S3 { bucket, prefix }) => Some((bucket, prefix)),
            _ => None,
        }
    }

    fn read_context(&self, s3: Option<aws_sdk_s3::Client>) -> ReadContext {
        ReadContext {
            s3,
            concurrency: self.read_concurrency.max(1),
            progress: std::sync::Arc::new(Progress::new(self.progress)),
        }
    }

    /// How the classification metrics are accumulated: the AUROC's scores are sketched on the
    /// same rule as numeric columns (`--sketch`, or a window of more than `exact_max_rows` rows).
    fn performance_options(&self) -> read::performance::PerformanceOptions {
        read::performance::PerformanceOptions {
            threshold: self.positive_threshold,
            sketch: self.sketch,
            exact_max_rows: self.exact_max_rows,
        }
    }

    /// The sketch precision for the numeric columns of a window of `rows` rows, `None` for exact.
    fn sketch_for(&self, rows: u64) -> Option<u8> {
        (self.sketch || rows > self.exact_max_rows).then_some(self.sketch_precision)
    }
}

/// The column plan from the reference schema, with the configuration applied: kinds override
/// inference, `select = "configured"` keeps only configured columns (and the prediction), methods
/// and thresholds are attached. The timestamp and model-filter columns are never features.
fn plan_for(
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
                    .map_err(|reason| config_error(format!("columns.{name}.method"), reason))?;
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

fn failed(column: &ColumnPlan, method: DriftMethod, quality: QualityPair, error: String) -> ColumnResult {
    ColumnResult {
        column: column.name.clone(),
        role: column.role,
        kind: column.kind,
        method,
        score: None,
        p_value: None,
        p_value_adjusted: None,
        test: test_of(column.kind),
        threshold: column.threshold.unwrap_or_else(|| method.default_threshold()),
        drifted: false,
        verdict: None,
        severity: None,
        reason: String::new(),
        new_category_share: None,
        error: Some(error),
        quality,
        statistics: None,
        histogram: None,
    }
}

/// The significance test of a kind of column.
fn test_of(kind: ColumnKind) -> DriftMethod {
    match kind {
        ColumnKind::Numeric => DriftMethod::KolmogorovSmirnov,
        ColumnKind::Categorical => DriftMethod::ChiSquare,
    }
}

/// The method deciding a column: its configured one, else the policy's for its kind.
fn method_of(column: &ColumnPlan, policy: DecisionPolicy) -> DriftMethod {
    column.method.unwrap_or(match column.kind {
        ColumnKind::Numeric => policy.numeric_method(),
        ColumnKind::Categorical => policy.categorical_method(),
    })
}

/// A computed column: its score, test p-value and threshold. The verdict needs every column's
/// p-value (the correction), so [`decide`] makes it once all columns are computed.
fn judged(
    column: &ColumnPlan,
    quality: QualityPair,
    score: deltaone::drift::DriftScore,
    p_value: f64,
    new_category_share: Option<f64>,
    statistics: Statistics,
    histogram: Histogram,
) -> ColumnResult {
    ColumnResult {
        column: column.name.clone(),
        role: column.role,
        kind: column.kind,
        method: score.method,
        score: finite(score.value),
        p_value: finite(p_value),
        p_value_adjusted: None,
        test: test_of(column.kind),
        threshold: column.threshold.unwrap_or_else(|| score.method.default_threshold()),
        drifted: false,
        verdict: None,
        severity: None,
        reason: String::new(),
        new_category_share,
        error: None,
        quality,
        statistics: Some(statistics),
        histogram: Some(histogram),
    }
}

/// Decides every computed column of a run together (the correction needs all their p-values);
/// columns whose statistics failed keep no verdict.
pub(crate) fn decide(columns: &mut [ColumnResult], settings: &DecisionSettings) -> Result<(), DriftJobError> {
    let computed: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].error.is_none()).collect();
    let evidence: Vec<deltaone::drift::ColumnEvidence> = computed
        .iter()
        .map(|&i| {
            let c = &columns[i];
            deltaone::drift::ColumnEvidence {
                column: c.column.clone(),
                method: c.method,
                threshold: c.threshold,
                score: c.score.unwrap_or(f64::NAN),
                // A p-value computed a few ulps outside [0, 1] is the bound it meant.
                p_value: c.p_value.map_or(f64::NAN, |p| p.clamp(0.0, 1.0)),
                new_category_share: c.new_category_share.unwrap_or(0.0),
            }
        })
        .collect();
    let decisions = deltaone::drift::decide_columns(&evidence, settings)
        .map_err(|e| DriftJobError::InvalidOption(format!("deciding the columns: {e}")))?;
    for (&i, decision) in computed.iter().zip(decisions) {
        let c = &mut columns[i];
        c.verdict = Some(decision.verdict);
        c.drifted = decision.drifted;
        c.p_value_adjusted = finite(decision.p_value_adjusted);
        c.severity = decision.severity;
        c.reason = decision.reason;
    }
    Ok(())
}

fn numeric_result(
    column: &ColumnPlan,
    quality: QualityPair,
    reference: &NumericPartial,
    current: &NumericPartial,
    binning: Binning,
    policy: DecisionPolicy,
) -> ColumnResult {
    let method = method_of(column, policy);
    let statistics = match numeric_statistics(reference, current, binning) {
        Ok(s) => s,
        Err(e) => return failed(column, method, quality, e.to_string()),
    };
    let drift = match statistics {
        NumericStatistics::Exact(drift) => drift,
        NumericStatistics::Sketch(sketch) => return sketch_result(column, quality, method, &sketch),
    };
    let Some(score) = drift.score(method) else {
        return failed(column, method, quality, format!("{method:?} does not apply to a numeric column"));
    };
    let statistics = Statistics::Numeric {
        ks_statistic: finite(drift.ks.statistic),
        ks_p_value: finite(drift.ks.p_value),
        wasserstein: finite(drift.wasserstein.raw),
        wasserstein_normalised: finite(drift.wasserstein.normalised),
        psi: finite(drift.psi),
        jensen_shannon: finite(drift.jensen_shannon),
        bins: drift.bins.layout.bin_count(),
        reference_mean: finite(drift.reference.mean),
        current_mean: finite(drift.current.mean),
        reference_std: finite(drift.reference.std),
        current_std: finite(drift.current.std),
    };
    fn exact(p: &NumericPartial) -> &[f64] {
        match &p.values {
            NumericValues::Exact { sorted } => sorted,
            NumericValues::Sketch { .. } => &[],
        }
    }
    let histogram = numeric_histogram(exact(reference), exact(current));
    judged(column, quality, score, drift.ks.p_value, None, statistics, histogram)
}

/// A numeric column whose values were sketched: the statistics with their error bounds, and a
/// histogram over the PSI bins (reference quantiles).
fn sketch_result(column: &ColumnPlan, quality: QualityPair, method: DriftMethod, drift: &SketchDrift) -> ColumnResult {
    let value = match method {
        DriftMethod::KolmogorovSmirnov => drift.ks.p_value,
        DriftMethod::Wasserstein => drift.wasserstein.normalised,
        DriftMethod::JensenShannon => drift.psi.jensen_shannon,
        DriftMethod::Psi => drift.psi.psi,
        DriftMethod::ChiSquare => {
            return failed(column, method, quality, format!("{method:?} does not apply to a numeric column"));
        }
    };
    let statistics = Statistics::NumericSketch {
        ks_statistic: finite(drift.ks.statistic),
        ks_statistic_error_bound: finite(drift.ks.error_bound),
        ks_p_value: finite(drift.ks.p_value),
        ks_p_value_lower: finite(drift.ks.p_value_lower),
        wasserstein: finite(drift.wasserstein.raw),
        wasserstein_error_bound: finite(drift.wasserstein.error_bound),
        wasserstein_normalised: finite(drift.wasserstein.normalised),
        psi: finite(drift.psi.psi),
        jensen_shannon: finite(drift.psi.jensen_shannon),
        psi_edge_share_error: finite(drift.psi.edge_share_error),
        bins: drift.psi.edges.len() + 1,
        reference_mean: finite(drift.reference.mean),
        current_mean: finite(drift.current.mean),
        reference_std: finite(drift.reference.std),
        current_std: finite(drift.current.std),
    };
    let edges = &drift.psi.edges;
    let labels = (0..=edges.len())
        .map(|i| {
            let lo = if i == 0 { "−∞".to_owned() } else { format_number(edges[i - 1]) };
            let hi = if i == edges.len() { "+∞".to_owned() } else { format_number(edges[i]) };
            format!("{lo} – {hi}")
        })
        .collect();
    let histogram = Histogram {
        labels,
        reference: drift.psi.shares.reference().to_vec(),
        current: drift.psi.shares.current().to_vec(),
    };
    let score = deltaone::drift::DriftScore { method, value };
    judged(column, quality, score, drift.ks.p_value, None, statistics, histogram)
}

fn categorical_result(
    column: &ColumnPlan,
    quality: QualityPair,
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
    policy: DecisionPolicy,
) -> ColumnResult {
    let method = method_of(column, policy);
    let drift = match CategoricalDrift::compute(reference, current) {
        Ok(d) => d,
        Err(e) => return failed(column, method, quality, e.to_string()),
    };
    let Some(score) = drift.score(method) else {
        return failed(column, method, quality, format!("{method:?} does not apply to a categorical column"));
    };
    let statistics = Statistics::Categorical {
        chi_square: finite(drift.chi_square.statistic),
        chi_square_p_value: finite(drift.chi_square.p_value),
        dof: drift.chi_square.dof,
        psi: finite(drift.psi),
        jensen_shannon: finite(drift.jensen_shannon),
        categories: drift.categories.len(),
        new_categories: drift.new_categories.clone(),
        vanished_categories: drift.vanished_categories.clone(),
    };
    let histogram = categorical_histogram(reference, current);
    let new_share = Some(drift.new_category_share());
    judged(column, quality, score, drift.chi_square.p_value, new_share, statistics, histogram)
}

/// Equal-width bins over the pooled range of both samples (finite values sorted ascending, both
/// non-empty). Counted by binary search on the sorted values: a value's bin index does not decrease
/// with the value, so each bin is one run.
fn numeric_histogram(reference: &[f64], current: &[f64]) -> Histogram {
    let ends = |v: &[f64]| (v.first().copied(), v.last().copied());
    let (lo, hi) = match (ends(reference), ends(current)) {
        ((Some(a), Some(b)), (Some(c), Some(d))) => (a.min(c), b.max(d)),
        ((Some(a), Some(b)), _) | (_, (Some(a), Some(b))) => (a, b),
        _ => (f64::INFINITY, f64::NEG_INFINITY),
    };
    let bins = if hi > lo { HISTOGRAM_BINS } else { 1 };
    let width = (hi - lo) / bins as f64;
    let index = |x: f64| if width > 0.0 { (((x - lo) / width) as usize).min(bins - 1) } else { 0 };
    let shares = |values: &[f64]| {
        let mut shares = Vec::with_capacity(bins);
        let mut start = 0;
        for bin in 0..bins {
            let end = start + values[start..].partition_point(|&x| index(x) <= bin);
            shares.push((end - start) as f64 / values.len().max(1) as f64);
            start = end;
        }
        shares
    };
    let labels = (0..bins)
        .map(|i| {
            let a = lo + width * i as f64;
            let b = if i + 1 == bins { hi } else { lo + width * (i + 1) as f64 };
            format!("{} – {}", format_number(a), format_number(b))
        })
        .collect();
    Histogram { labels, reference: shares(reference), current: shares(current) }
}

/// The most common categories (by the larger of their two shares), the rest as `(other)`.
fn categorical_histogram(reference: &BTreeMap<String, u64>, current: &BTreeMap<String, u64>) -> Histogram {
    let total = |counts: &BTreeMap<String, u64>| counts.values().sum::<u64>().max(1) as f64;
    let (rt, ct) = (total(reference), total(current));
    let share = |counts: &BTreeMap<String, u64>, t: f64, k: &str| counts.get(k).copied().unwrap_or(0) as f64 / t;
    let mut keys: Vec<&String> = reference.keys().chain(current.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.sort_by(|a, b| {
        let m = |k: &str| share(reference, rt, k).max(share(current, ct, k));
        m(b).total_cmp(&m(a)).then_with(|| a.cmp(b))
    });
    let mut histogram = Histogram { labels: Vec::new(), reference: Vec::new(), current: Vec::new() };
    for k in keys.iter().take(HISTOGRAM_CATEGORIES) {
        histogram.labels.push((*k).clone());
        histogram.reference.push(share(reference, rt, k));
        histogram.current.push(share(current, ct, k));
    }
    if keys.len() > HISTOGRAM_CATEGORIES {
        let rest = &keys[HISTOGRAM_CATEGORIES..];
        histogram.labels.push("(other)".to_owned());
        histogram.reference.push(rest.iter().map(|k| share(reference, rt, k)).sum());
        histogram.current.push(rest.iter().map(|k| share(current, ct, k)).sum());
    }
    histogram
}

fn format_number(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) { format!("{x:.3e}") } else { format!("{x:.3}") }
}

/// Writes `drift.json` and `report.html` into `out` (created if missing); returns their paths.
pub fn write_outputs(report: &DriftReport, out: &Path) -> Result<(PathBuf, PathBuf), DriftJobError> {
    let write_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| DriftJobError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(write_err(out))?;
    let json_path = out.join(RESULT_FILE);
    let json = serde_json::to_string_pretty(report).expect("the report serialises");
    std::fs::write(&json_path, json + "\n").map_err(write_err(&json_path))?;
    let html_path = out.join(REPORT_FILE);
    std::fs::write(&html_path, report::html(report)).map_err(write_err(&html_path))?;
    Ok((json_path, html_path))
}

/// A few lines for a terminal.
pub fn summary_text(report: &DriftReport) -> String {
    let mut out = format!(
        "drift run {}: reference {} rows in {} file(s), current {} rows in {} file(s)\n",
        report.run_id,
        report.windows.reference.rows,
        report.windows.reference.files.len(),
        report.windows.current.rows,
        report.windows.current.files.len(),
    );
    out.push_str(&format!(
        "  {:<24} {:<12} {:<20} {:<11} {:<11} {:<16} why\n",
        "column", "kind", "decided by", "p", "p adjusted", "verdict"
    ));
    let p = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |p| format!("{p:.2e}"));
    for c in report::by_severity(&report.columns) {
        let (verdict, why) = match (&c.error, c.verdict) {
            (Some(e), _) => ("not computed".to_owned(), e.clone()),
            (None, Some(v)) => (report::verdict_label(v, c.severity), c.reason.clone()),
            (None, None) => ("-".to_owned(), String::new()),
        };
        let score = c.score.map_or_else(|| "-".to_owned(), |s| format!("{s:.3e}"));
        let method = format!("{}={score}", config::short_name(c.method));
        out.push_str(&format!(
            "  {:<24} {:<12} {:<20} {:<11} {:<11} {:<16} {why}\n",
            c.column,
            c.kind.as_str(),
            method,
            p(c.p_value),
            p(c.p_value_adjusted),
            verdict
        ));
    }
    for f in &report.skipped_files {
        out.push_str(&format!("  skipped {} file {}: {}\n", f.side, f.path, f.reason));
        if let Some(to) = &f.quarantined_to {
            out.push_str(&format!("    quarantined to {to}\n"));
        }
    }
    if let Some(p) = &report.performance {
        for (side, w) in [("reference", &p.reference), ("current", &p.current)] {
            match (&w.metrics, &w.error) {
                (Some(m), _) => out.push_str(&format!(
                    "  performance {side}: accuracy {:.4}, F1 {:.4}, AUROC {} over {} rows\n",
                    m.accuracy,
                    m.f1,
                    match (m.auroc, m.auroc_error_bound) {
                        (Some(a), Some(bound)) => format!("{a:.4} (± {bound:.1e}, sketched)"),
                        (Some(a), None) => format!("{a:.4}"),
                        (None, _) => "-".to_owned(),
                    },
                    m.rows
                )),
                (None, Some(e)) => out.push_str(&format!("  performance {side}: not computed: {e}\n")),
                (None, None) => {}
            }
        }
    }
    out.push_str(&format!(
        "dataset: {} of {} columns drifted ({:.0}%, threshold {:.0}%){} → {}  [policy {}, {}]\n",
        report.dataset.drifted_columns,
        report.dataset.columns,
        report.dataset.drifted_share * 100.0,
        report.dataset.threshold * 100.0,
        match report.dataset.negligible_columns {
            0 => String::new(),
            n => format!(", {n} significant but negligible"),
        },
        if report.dataset.drifted { "DRIFTED" } else { "not drifted" },
        report::policy_label(report.dataset.policy),
        report::correction_label(report.dataset.correction),
    ));
    if let Some(alert) = &report.alert {
        out.push_str(&format!("alert: {} — {}\n", alert.action.as_str(), alert.reason));
        for c in &alert.columns {
            out.push_str(&format!("  {} {}: {}\n", c.column, c.action.as_str(), c.reason));
        }
    }
    out
}

#[cfg(test)]
mod tests;
