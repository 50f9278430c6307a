//! Turning drift scores into decisions: per column, then for the whole dataset.

use serde::{Deserialize, Serialize};

/// A p-value test signals drift below this (5 % significance).
pub const DEFAULT_P_VALUE_THRESHOLD: f64 = 0.05;
/// A distance (normalised Wasserstein, Jensen–Shannon) signals drift at or above this.
pub const DEFAULT_DISTANCE_THRESHOLD: f64 = 0.1;
/// The population stability index signals drift at or above this: the common "significant shift"
/// level (Evidently's own default for PSI is 0.1, its generic distance threshold).
pub const DEFAULT_PSI_THRESHOLD: f64 = 0.2;
/// The dataset counts as drifted when at least this share of its columns drifted.
pub const DEFAULT_DATASET_DRIFT_SHARE: f64 = 0.5;

/// The statistic a drift score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftMethod {
    /// Two-sample Kolmogorov–Smirnov p-value (numeric columns).
    KolmogorovSmirnov,
    /// Chi-square contingency p-value (categorical columns).
    ChiSquare,
    /// Wasserstein-1 distance normalised by the reference standard deviation (numeric columns).
    Wasserstein,
    /// Jensen–Shannon distance over bin or category shares.
    JensenShannon,
    /// Population stability index over bin or category shares.
    Psi,
}

impl DriftMethod {
    /// Whether the score is a p-value (drift when small) rather than a distance (drift when
    /// large).
    pub fn is_p_value(self) -> bool {
        matches!(self, DriftMethod::KolmogorovSmirnov | DriftMethod::ChiSquare)
    }

    /// The default threshold: p < 0.05 for p-values, ≥ 0.1 for distances, ≥ 0.2 for PSI.
    pub fn default_threshold(self) -> f64 {
        match self {
            DriftMethod::KolmogorovSmirnov | DriftMethod::ChiSquare => DEFAULT_P_VALUE_THRESHOLD,
            DriftMethod::Wasserstein | DriftMethod::JensenShannon => DEFAULT_DISTANCE_THRESHOLD,
            DriftMethod::Psi => DEFAULT_PSI_THRESHOLD,
        }
    }

    /// Whether `value` means drift against `threshold`: `value < threshold` for p-values,
    /// `value ≥ threshold` for distances. A NaN score never means drift.
    pub fn signals_drift(self, value: f64, threshold: f64) -> bool {
        if self.is_p_value() { value < threshold } else { value >= threshold }
    }
}

/// One column's drift score under one method.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftScore {
    pub method: DriftMethod,
    pub value: f64,
}

/// The drift decision for one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDrift {
    pub column: String,
    pub score: DriftScore,
    /// The threshold applied: the column's own, or the method's default.
    pub threshold: f64,
    pub drifted: bool,
}

impl ColumnDrift {
    /// Judges `score` against the column's `threshold`, or the method's default when `None`.
    pub fn judge(column: impl Into<String>, score: DriftScore, threshold: Option<f64>) -> Self {
        let threshold = threshold.unwrap_or_else(|| score.method.default_threshold());
        Self { column: column.into(), score, threshold, drifted: score.method.signals_drift(score.value, threshold) }
    }
}

/// The dataset-level decision: drifted when the share of drifted columns reaches the threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetDrift {
    pub columns: Vec<ColumnDrift>,
    pub drifted_columns: usize,
    /// `drifted_columns / columns.len()`, 0 without columns.
    pub drifted_share: f64,
    pub threshold: f64,
    /// `drifted_share ≥ threshold`; never true for a dataset without columns.
    pub drifted: bool,
}

impl DatasetDrift {
    /// Aggregates column decisions; `threshold` defaults to [`DEFAULT_DATASET_DRIFT_SHARE`].
    pub fn from_columns(columns: Vec<ColumnDrift>, threshold: Option<f64>) -> Self {
        let threshold = threshold.unwrap_or(DEFAULT_DATASET_DRIFT_SHARE);
        let drifted_columns = columns.iter().filter(|c| c.drifted).count();
        let drifted_share = if columns.is_empty() { 0.0 } else { drifted_columns as f64 / columns.len() as f64 };
        let drifted = !columns.is_empty() && drifted_share >= threshold;
        Self { columns, drifted_columns, drifted_share, threshold, drifted }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(method: DriftMethod, value: f64) -> bool {
        ColumnDrift::judge("x", DriftScore { method, value }, None).drifted
    }

    #[test]
    fn default_thresholds_by_kind_of_score() {
        assert!(judge(DriftMethod::KolmogorovSmirnov, 0.049));
        assert!(!judge(DriftMethod::KolmogorovSmirnov, 0.05));
        assert!(judge(DriftMethod::ChiSquare, 0.0));
        assert!(judge(DriftMethod::Wasserstein, 0.1));
        assert!(!judge(DriftMethod::JensenShannon, 0.099));
        assert!(judge(DriftMethod::Psi, 0.2));
        assert!(!judge(DriftMethod::Psi, 0.19));
        assert!(!judge(DriftMethod::Psi, f64::NAN));
        assert!(!judge(DriftMethod::KolmogorovSmirnov, f64::NAN));
    }

    #[test]
    fn column_threshold_overrides_the_default() {
        let score = DriftScore { method: DriftMethod::KolmogorovSmirnov, value: 0.03 };
        let strict = ColumnDrift::judge("age", score, Some(0.01));
        assert_eq!((strict.threshold, strict.drifted), (0.01, false));
        assert!(ColumnDrift::judge("age", score, None).drifted);
    }

    #[test]
    fn dataset_drifts_when_the_share_reaches_the_threshold() {
        let col = |name: &str, value: f64| {
            ColumnDrift::judge(name, DriftScore { method: DriftMethod::JensenShannon, value }, None)
        };
        let half = DatasetDrift::from_columns(vec![col("a", 0.5), col("b", 0.0)], None);
        assert_eq!((half.drifted_columns, half.drifted_share, half.drifted), (1, 0.5, true));
        let third = DatasetDrift::from_columns(vec![col("a", 0.5), col("b", 0.0), col("c", 0.0)], None);
        assert!(!third.drifted);
        assert!(DatasetDrift::from_columns(vec![col("a", 0.5), col("b", 0.0), col("c", 0.0)], Some(0.3)).drifted);
        let empty = DatasetDrift::from_columns(Vec::new(), Some(0.0));
        assert_eq!((empty.drifted_share, empty.drifted), (0.0, false));
    }
}
