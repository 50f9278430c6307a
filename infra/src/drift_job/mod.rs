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
//! * **Decision**: numeric columns by the Kolmogorov–Smirnov p-value, categorical ones by the
//!   chi-square contingency p-value, both drifted below 0.05 ([`ColumnDrift::judge`] defaults);
//!   PSI, Jensen–Shannon and the normalised Wasserstein distance are reported alongside. The
//!   dataset has drifted when at least the share `--drift-share` (default 0.5) of the analysed
//!   columns drifted ([`DatasetDrift::from_columns`]). Nulls, NaN and infinities are counted in
//!   `quality` and kept out of the tests.

mod read;
pub mod report;
pub mod samples;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deltaone::drift::{
    Binning, CategoricalDrift, ColumnDrift, DEFAULT_DATASET_DRIFT_SHARE, DataQuality, DatasetDrift, DriftMethod,
    NumericDrift, NumericSample, Side,
};
use serde::{Deserialize, Serialize};

pub use read::{ColumnKind, ColumnPlan, Role, expand_inputs, plan_columns};

/// The JSON result file in the output directory.
pub const RESULT_FILE: &str = "drift.json";
/// The HTML report in the output directory.
pub const REPORT_FILE: &str = "report.html";
/// Bars per numeric histogram in the report.
const HISTOGRAM_BINS: usize = 20;
/// Categories drawn per categorical histogram; the rest are summed as `(other)`.
const HISTOGRAM_CATEGORIES: usize = 15;

/// Why the job failed.
#[derive(Debug, thiserror::Error)]
pub enum DriftJobError {
    #[error("the {side} window has no readable rows ({files} file(s) matched, {skipped} skipped as unreadable)")]
    EmptyWindow { side: Side, files: usize, skipped: usize },
    #[error("input {pattern:?}: {reason}")]
    BadInput { pattern: String, reason: String },
    #[error("the reference schema has no column to analyse (skipped: {skipped})")]
    NoColumns { skipped: String },
    #[error("reading {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

/// How to bin numeric columns for PSI and Jensen–Shannon distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum BinningChoice {
    /// Ten reference-quantile bins (open-ended outer bins).
    #[default]
    Quantiles,
    /// Evidently's binning (Sturges equal-width bins, or one per value for ≤ 20 distinct values).
    Evidently,
}

impl BinningChoice {
    pub fn binning(self) -> Binning {
        match self {
            BinningChoice::Quantiles => Binning::default(),
            BinningChoice::Evidently => Binning::EvidentlyCompatible,
        }
    }
}

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
}

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
        }
    }
}

/// `drift-<unix seconds>-<pid>`.
pub fn default_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("drift-{secs}-{}", std::process::id())
}

/// The result of a run: what `drift.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub run_id: String,
    pub binning: BinningChoice,
    pub windows: Windows,
    pub skipped_files: Vec<SkippedFile>,
    pub skipped_columns: Vec<SkippedColumn>,
    /// In schema order (the prediction column where it is in the schema).
    pub columns: Vec<ColumnResult>,
    pub dataset: DatasetSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Windows {
    pub reference: Window,
    pub current: Window,
}

/// The files of one window that were read, and their rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub files: Vec<String>,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub side: Side,
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedColumn {
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// Columns with a drift decision (columns whose statistics failed are not counted).
    pub columns: usize,
    pub drifted_columns: usize,
    pub drifted_share: f64,
    pub threshold: f64,
    pub drifted: bool,
}

/// One column's decision, statistics, data quality and histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnResult {
    pub column: String,
    pub role: Role,
    pub kind: ColumnKind,
    /// The method of the decision: `kolmogorov_smirnov` (numeric) or `chi_square` (categorical).
    pub method: DriftMethod,
    /// The score the decision compares with `threshold` (here the p-value).
    pub score: Option<f64>,
    pub p_value: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
    /// Why no statistics could be computed (e.g. no valid values on one side).
    pub error: Option<String>,
    pub quality: QualityPair,
    pub statistics: Option<Statistics>,
    pub histogram: Option<Histogram>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityPair {
    pub reference: Quality,
    pub current: Quality,
}

/// Data quality of a column on one side; for categorical columns only `total`, `nulls` and
/// `valid` apply.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Quality {
    pub total: u64,
    pub nulls: u64,
    pub nan: u64,
    pub positive_infinity: u64,
    pub negative_infinity: u64,
    /// Values that reach the statistics: finite numbers, non-null categories.
    pub valid: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Quality {
    pub fn excluded(&self) -> u64 {
        self.total - self.valid
    }
}

impl From<DataQuality> for Quality {
    fn from(q: DataQuality) -> Self {
        Self {
            total: q.total as u64,
            nulls: q.nulls as u64,
            nan: q.nan as u64,
            positive_infinity: q.positive_infinity as u64,
            negative_infinity: q.negative_infinity as u64,
            valid: q.finite as u64,
            min: q.min,
            max: q.max,
        }
    }
}

/// Every statistic of a column; values that are not finite are `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statistics {
    Numeric {
        ks_statistic: Option<f64>,
        ks_p_value: Option<f64>,
        wasserstein: Option<f64>,
        wasserstein_normalised: Option<f64>,
        psi: Option<f64>,
        jensen_shannon: Option<f64>,
        bins: usize,
        reference_mean: Option<f64>,
        current_mean: Option<f64>,
        reference_std: Option<f64>,
        current_std: Option<f64>,
    },
    Categorical {
        chi_square: Option<f64>,
        chi_square_p_value: Option<f64>,
        dof: usize,
        psi: Option<f64>,
        jensen_shannon: Option<f64>,
        categories: usize,
        new_categories: Vec<String>,
        vanished_categories: Vec<String>,
    },
}

/// Shares per bar, reference and current, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub labels: Vec<String>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Runs the comparison (reads, computes); writes nothing.
pub fn run(options: &RunOptions) -> Result<DriftReport, DriftJobError> {
    if !(options.drift_share > 0.0 && options.drift_share <= 1.0) {
        return Err(DriftJobError::InvalidOption(format!("drift share {} is not in (0, 1]", options.drift_share)));
    }
    let reference_files = expand_inputs(&options.reference)?;
    let current_files = expand_inputs(&options.current)?;
    let mut skipped_files = Vec::new();

    // The schema comes from the first reference file that opens.
    let mut schema = None;
    for path in &reference_files {
        if let Ok(s) = read::file_schema(path) {
            schema = Some(s);
            break;
        }
    }
    let Some(schema) = schema else {
        // No reference file opens: report each one's reason through the scan below.
        let scan = read::scan_window(&reference_files, &[], Side::Reference);
        return Err(DriftJobError::EmptyWindow {
            side: Side::Reference,
            files: reference_files.len(),
            skipped: scan.skipped.len(),
        });
    };
    let (plan, skipped_columns) = plan_columns(&schema, &options.prediction_column, &options.label_column);
    if plan.is_empty() {
        let skipped = skipped_columns.iter().map(|c| format!("{} ({})", c.column, c.reason)).collect::<Vec<_>>();
        return Err(DriftJobError::NoColumns { skipped: skipped.join(", ") });
    }

    let reference = read::scan_window(&reference_files, &plan, Side::Reference);
    let current = read::scan_window(&current_files, &plan, Side::Current);
    for (side, scan, files) in
        [(Side::Reference, &reference, &reference_files), (Side::Current, &current, &current_files)]
    {
        if scan.rows == 0 {
            return Err(DriftJobError::EmptyWindow { side, files: files.len(), skipped: scan.skipped.len() });
        }
    }
    skipped_files.extend(reference.skipped.iter().cloned());
    skipped_files.extend(current.skipped.iter().cloned());
    for skipped in &skipped_files {
        tracing::warn!(side = %skipped.side, path = %skipped.path, reason = %skipped.reason, "skipped unreadable file");
    }

    let binning = options.binning.binning();
    let mut columns = Vec::with_capacity(plan.len());
    for (i, column) in plan.iter().enumerate() {
        let result = match column.kind {
            ColumnKind::Numeric => {
                let ref_values = read::numeric_column(&reference.files, &column.name)?;
                let cur_values = read::numeric_column(&current.files, &column.name)?;
                let quality =
                    QualityPair { reference: reference.columns[i].quality(), current: current.columns[i].quality() };
                numeric_result(column, quality, &ref_values, &cur_values, binning)
            }
            ColumnKind::Categorical => {
                let quality =
                    QualityPair { reference: reference.columns[i].quality(), current: current.columns[i].quality() };
                categorical_result(column, quality, reference.columns[i].counts(), current.columns[i].counts())
            }
        };
        tracing::info!(column = %result.column, drifted = result.drifted, p_value = ?result.p_value, "column analysed");
        columns.push(result);
    }

    let decisions: Vec<ColumnDrift> = columns
        .iter()
        .filter_map(|c| {
            c.score.map(|value| {
                ColumnDrift::judge(
                    c.column.clone(),
                    deltaone::drift::DriftScore { method: c.method, value },
                    Some(c.threshold),
                )
            })
        })
        .collect();
    let dataset = DatasetDrift::from_columns(decisions, Some(options.drift_share));
    Ok(DriftReport {
        run_id: options.run_id.clone(),
        binning: options.binning,
        windows: Windows {
            reference: Window { files: reference.file_names(), rows: reference.rows },
            current: Window { files: current.file_names(), rows: current.rows },
        },
        skipped_files,
        skipped_columns,
        columns,
        dataset: DatasetSummary {
            columns: dataset.columns.len(),
            drifted_columns: dataset.drifted_columns,
            drifted_share: dataset.drifted_share,
            threshold: dataset.threshold,
            drifted: dataset.drifted,
        },
    })
}

fn failed(column: &ColumnPlan, method: DriftMethod, quality: QualityPair, error: String) -> ColumnResult {
    ColumnResult {
        column: column.name.clone(),
        role: column.role,
        kind: column.kind,
        method,
        score: None,
        p_value: None,
        threshold: method.default_threshold(),
        drifted: false,
        error: Some(error),
        quality,
        statistics: None,
        histogram: None,
    }
}

/// A computed column: its primary score judged against the column's threshold.
fn judged(
    column: &ColumnPlan,
    quality: QualityPair,
    score: deltaone::drift::DriftScore,
    p_value: f64,
    statistics: Statistics,
    histogram: Histogram,
) -> ColumnResult {
    let decision = ColumnDrift::judge(column.name.clone(), score, None);
    ColumnResult {
        column: column.name.clone(),
        role: column.role,
        kind: column.kind,
        method: score.method,
        score: finite(score.value),
        p_value: finite(p_value),
        threshold: decision.threshold,
        drifted: decision.drifted,
        error: None,
        quality,
        statistics: Some(statistics),
        histogram: Some(histogram),
    }
}

fn numeric_result(
    column: &ColumnPlan,
    quality: QualityPair,
    reference: &[f64],
    current: &[f64],
    binning: Binning,
) -> ColumnResult {
    let method = DriftMethod::KolmogorovSmirnov;
    let samples = NumericSample::new(Side::Reference, reference)
        .and_then(|r| NumericSample::new(Side::Current, current).map(|c| (r, c)));
    let drift = samples.and_then(|(r, c)| NumericDrift::compute(&r, &c, binning));
    let drift = match drift {
        Ok(d) => d,
        Err(e) => return failed(column, method, quality, e.to_string()),
    };
    let score = drift.score(method).expect("KS applies to numeric columns");
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
    let histogram = numeric_histogram(reference, current);
    judged(column, quality, score, drift.ks.p_value, statistics, histogram)
}

fn categorical_result(
    column: &ColumnPlan,
    quality: QualityPair,
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
) -> ColumnResult {
    let method = DriftMethod::ChiSquare;
    let drift = match CategoricalDrift::compute(reference, current) {
        Ok(d) => d,
        Err(e) => return failed(column, method, quality, e.to_string()),
    };
    let score = drift.score(method).expect("chi-square applies to categorical columns");
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
    judged(column, quality, score, drift.chi_square.p_value, statistics, histogram)
}

/// Equal-width bins over the pooled range of both samples (finite values, both non-empty).
fn numeric_histogram(reference: &[f64], current: &[f64]) -> Histogram {
    let (lo, hi) =
        reference.iter().chain(current).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let bins = if hi > lo { HISTOGRAM_BINS } else { 1 };
    let width = (hi - lo) / bins as f64;
    let shares = |values: &[f64]| {
        let mut counts = vec![0u64; bins];
        for &x in values {
            let i = if width > 0.0 { (((x - lo) / width) as usize).min(bins - 1) } else { 0 };
            counts[i] += 1;
        }
        counts.iter().map(|&c| c as f64 / values.len().max(1) as f64).collect::<Vec<_>>()
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
    for c in report::by_severity(&report.columns) {
        let verdict = match (&c.error, c.drifted) {
            (Some(e), _) => format!("not computed: {e}"),
            (None, true) => "DRIFT".to_owned(),
            (None, false) => "ok".to_owned(),
        };
        let p = c.p_value.map_or_else(|| "-".to_owned(), |p| format!("{p:.3e}"));
        out.push_str(&format!("  {:<24} {:<12} p={:<10} {verdict}\n", c.column, c.kind.as_str(), p));
    }
    for f in &report.skipped_files {
        out.push_str(&format!("  skipped {} file {}: {}\n", f.side, f.path, f.reason));
    }
    out.push_str(&format!(
        "dataset: {} of {} columns drifted ({:.0}%, threshold {:.0}%) → {}\n",
        report.dataset.drifted_columns,
        report.dataset.columns,
        report.dataset.drifted_share * 100.0,
        report.dataset.threshold * 100.0,
        if report.dataset.drifted { "DRIFTED" } else { "not drifted" }
    ));
    out
}

#[cfg(test)]
mod tests;
