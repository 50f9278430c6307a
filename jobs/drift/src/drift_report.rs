//! The result of a run, as `drift.json` holds it: the dataset's summary, every column's decision,
//! statistics, data quality and histogram, the windows read, the files and columns skipped, and
//! the classification metrics of both windows.

use deltaone::drift::alerting::RunAlert;
use deltaone::drift::{ColumnVerdict, Correction, DataQuality, DecisionPolicy, DriftMethod, DriftSeverity, Side};
use serde::{Deserialize, Serialize};

use crate::config::BinningChoice;
use crate::plan::{ColumnKind, Role, SkippedColumn};

/// The result of a run: what `drift.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub run_id: String,
    /// The model filter, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    pub binning: BinningChoice,
    pub windows: Windows,
    pub skipped_files: Vec<SkippedFile>,
    pub skipped_columns: Vec<SkippedColumn>,
    /// In schema order (the prediction column where it is in the schema).
    pub columns: Vec<ColumnResult>,
    pub dataset: DatasetSummary,
    /// Unreadable files copied to the quarantine.
    #[serde(default)]
    pub quarantined_files: usize,
    /// Bytes read from files and objects (footers, projected column chunks, quarantine copies).
    #[serde(default)]
    pub bytes_read: u64,
    /// Classification metrics per window, when the label column exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformancePair>,
    /// Each column's score in the model's previous runs, oldest first (read from the drift table
    /// when one is configured; empty without a table or history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ColumnHistory>,
    /// What the alert rule decided over the model's run history (with a drift table only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<RunAlert>,
}

/// A column's scores in earlier runs of the same model, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnHistory {
    pub column: String,
    pub runs: Vec<HistoryPoint>,
}

/// One earlier run's decision on a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub run_id: String,
    pub window_end: String,
    /// The method's short name (`ks`, `chi2`, `psi`, …).
    pub method: String,
    pub score: Option<f64>,
    pub drifted: bool,
    /// What the alert rule did about the column in that run (`none` for runs before the rule).
    #[serde(default)]
    pub alert: deltaone::drift::alerting::AlertAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<DriftSeverity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformancePair {
    pub label_column: String,
    pub prediction_column: String,
    pub reference: WindowPerformance,
    pub current: WindowPerformance,
}

/// Accuracy, precision, recall, F1 (and AUROC, log-loss for scores) of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowPerformance {
    /// Rows with both a label and a prediction.
    pub rows: u64,
    /// Rows without a label or a prediction.
    pub skipped_rows: u64,
    pub metrics: Option<deltaone::classification::ClassificationMetrics>,
    /// Why no metrics (e.g. labels that are not binary).
    pub error: Option<String>,
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
    /// The timestamp range, when the window was selected by one (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Files not read: their partitions or row-group statistics are outside the window or model.
    #[serde(default)]
    pub pruned_files: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub side: Side,
    pub path: String,
    pub reason: String,
    /// Where the file was copied, with `<name>.reason.json` next to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// Columns with a drift decision (columns whose statistics failed are not counted).
    pub columns: usize,
    pub drifted_columns: usize,
    pub drifted_share: f64,
    pub threshold: f64,
    pub drifted: bool,
    /// Columns that changed significantly but below their threshold (`negligible`).
    #[serde(default)]
    pub negligible_columns: usize,
    #[serde(default)]
    pub policy: DecisionPolicy,
    /// The multiple-comparison correction of the p-values.
    #[serde(default)]
    pub correction: Correction,
    /// The significance level of the effect-size policy's gate.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
}

fn default_alpha() -> f64 {
    deltaone::drift::DEFAULT_P_VALUE_THRESHOLD
}

/// One column's decision, statistics, data quality and histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnResult {
    pub column: String,
    pub role: Role,
    pub kind: ColumnKind,
    /// The method of the decision: by default `wasserstein` (numeric) or `jensen_shannon`
    /// (categorical); `kolmogorov_smirnov` / `chi_square` under the p-value policy.
    pub method: DriftMethod,
    /// The score the decision compares with `threshold` (the effect size, or the p-value, raw,
    /// for a p-value method).
    pub score: Option<f64>,
    /// The significance test's raw p-value (`test`).
    pub p_value: Option<f64>,
    /// `p_value` adjusted for the run's columns (`dataset.correction`).
    #[serde(default)]
    pub p_value_adjusted: Option<f64>,
    /// The significance test: `kolmogorov_smirnov` (numeric) or `chi_square` (categorical).
    #[serde(default = "default_test")]
    pub test: DriftMethod,
    pub threshold: f64,
    pub drifted: bool,
    /// `drift`, `negligible` (significant but below the threshold), `not_significant` (large but
    /// indistinguishable from noise) or `no_drift`; absent when no statistics could be computed.
    #[serde(default)]
    pub verdict: Option<ColumnVerdict>,
    /// How far past the threshold a drifted column is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<DriftSeverity>,
    /// Why the verdict, in a sentence.
    #[serde(default)]
    pub reason: String,
    /// Share of the current rows in categories the reference never had (categorical columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_category_share: Option<f64>,
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
    /// A numeric column whose values were sketched (sketch mode, or past `exact_max_rows`): each
    /// statistic with its error bound — the exact KS statistic lies in
    /// `[ks_statistic, ks_statistic + ks_statistic_error_bound]` (so the exact p-value is at least
    /// `ks_p_value_lower`), the exact Wasserstein distance within `wasserstein_error_bound` of
    /// `wasserstein`; PSI and Jensen–Shannon are exact over bins whose reference shares differ from
    /// equal shares by at most twice `psi_edge_share_error`.
    NumericSketch {
        ks_statistic: Option<f64>,
        ks_statistic_error_bound: Option<f64>,
        ks_p_value: Option<f64>,
        ks_p_value_lower: Option<f64>,
        wasserstein: Option<f64>,
        wasserstein_error_bound: Option<f64>,
        wasserstein_normalised: Option<f64>,
        psi: Option<f64>,
        jensen_shannon: Option<f64>,
        psi_edge_share_error: Option<f64>,
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

fn default_test() -> DriftMethod {
    DriftMethod::KolmogorovSmirnov
}

pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
