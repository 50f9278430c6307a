//! How sure a delta is: confidence intervals for the difference between a candidate's and a
//! baseline's metric on the *same* evaluation rows (paired predictions).
//!
//! | metric | method | what it is |
//! |---|---|---|
//! | `accuracy` | [`mcnemar`] | exact McNemar test; the interval inverts it (Clopper–Pearson on the discordant rows) |
//! | `auroc` | [`delong`] | DeLong's method for two correlated ROC curves (Sun & Xu's fast algorithm) |
//! | `precision`, `recall`, `f1`, `log_loss` | [`bootstrap`] | paired percentile bootstrap, fixed seed: bit-reproducible |
//!
//! Every interval is of `candidate − baseline` in the metric's own units (fractions for these
//! metrics), not yet flipped for lower-is-better metrics: the rule does that when it turns an
//! [`Interval`] into the verdict's percentage points. The McNemar and DeLong figures equal
//! statsmodels' and MLstatkit's within 1e-9 (fixtures from `bench/reference/confidence_reference.py`);
//! the bootstrap's coverage is measured by simulation in this module's tests.
//!
//! Pairing rows, and every reason a set cannot be paired, lives in [`paired`]; what cannot be
//! computed is a typed [`ConfidenceError`], never a guess.

pub mod bootstrap;
pub mod delong;
pub mod mcnemar;
pub mod paired;
mod special;

use serde::{Deserialize, Serialize};

pub use paired::{PairedRows, PairingError, Predictions, RowPrediction};

/// Fewest paired rows an interval is computed from: below this, normal approximations (DeLong)
/// and the bootstrap's resampling say little, and the verdict says the set is too small instead.
pub const MIN_ROWS: usize = 30;

/// The level used when none is configured.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// How an interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exact McNemar test on the discordant rows (accuracy).
    McnemarExact,
    /// DeLong's variance of the difference of two correlated AUROCs (AUROC).
    Delong,
    /// Paired percentile bootstrap with a fixed seed (every other metric).
    PairedBootstrap,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::McnemarExact => "mcnemar_exact",
            Self::Delong => "delong",
            Self::PairedBootstrap => "paired_bootstrap",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A two-sided confidence level strictly between 0 and 1 (0.95 for a 95 % interval).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Level(f64);

impl Level {
    pub fn new(level: f64) -> Result<Self, ConfidenceError> {
        if level.is_finite() && level > 0.0 && level < 1.0 {
            Ok(Self(level))
        } else {
            Err(ConfidenceError::BadLevel(level))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// The mass left out on each side: (1 − level) / 2.
    pub fn tail(self) -> f64 {
        (1.0 - self.0) / 2.0
    }
}

impl Default for Level {
    fn default() -> Self {
        Self(DEFAULT_LEVEL)
    }
}

/// A confidence interval for `candidate − baseline`, in the metric's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub method: Method,
    pub level: f64,
    /// Paired rows the interval rests on.
    pub rows: u64,
    /// The paired point estimate of the difference on these rows.
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    /// Two-sided p-value of "no difference", where the method has a test (McNemar, DeLong).
    pub p_value: Option<f64>,
}

/// Why no interval was computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfidenceError {
    #[error("confidence level must lie strictly between 0 and 1, got {0}")]
    BadLevel(f64),
    #[error(transparent)]
    Pairing(#[from] PairingError),
    #[error("only {rows} paired rows; an interval needs at least {min}")]
    TooSmall { rows: usize, min: usize },
    #[error("{0}")]
    OneClass(String),
    #[error("metric {metric:?} needs {needs}, but {which} has hard predictions only")]
    NeedsScores { metric: String, needs: &'static str, which: &'static str },
    #[error("no paired interval is defined for metric {0:?} (known: accuracy, auroc, precision, recall, f1, log_loss)")]
    UnsupportedMetric(String),
    #[error("{what} is not a finite number: {value}")]
    NonFinite { what: String, value: f64 },
}

/// The interval of `candidate − baseline` for `metric` on paired rows, by the method the metric
/// calls for (see the module's table). Hard predictions serve accuracy, precision, recall and F1;
/// scores are turned into predictions with `score >= 0.5`, as the classification metrics do.
pub fn paired_interval(metric: &str, rows: &PairedRows, level: Level) -> Result<Interval, ConfidenceError> {
    if rows.len() < MIN_ROWS {
        return Err(ConfidenceError::TooSmall { rows: rows.len(), min: MIN_ROWS });
    }
    match metric {
        "accuracy" => {
            let labels = rows.labels();
            let correct = |p: &Predictions| -> Vec<bool> {
                p.predicted_labels().iter().zip(labels).map(|(predicted, label)| predicted == label).collect()
            };
            mcnemar::interval(&correct(rows.candidate()), &correct(rows.baseline()), level)
        }
        "auroc" | "roc_auc" => {
            fn scores<'a>(metric: &str, p: &'a Predictions, which: &'static str) -> Result<&'a [f64], ConfidenceError> {
                match p {
                    Predictions::Scores(s) => Ok(s.as_slice()),
                    Predictions::Labels(_) => Err(ConfidenceError::NeedsScores {
                        metric: metric.to_owned(),
                        needs: "scores from both models",
                        which,
                    }),
                }
            }
            let candidate = scores(metric, rows.candidate(), "the candidate")?;
            let baseline = scores(metric, rows.baseline(), "the baseline")?;
            delong::interval(rows.labels(), candidate, baseline, level)
        }
        other => match bootstrap::Statistic::from_metric(other) {
            Some(statistic) => bootstrap::interval(statistic, rows, level, bootstrap::Settings::default()),
            None => Err(ConfidenceError::UnsupportedMetric(other.to_owned())),
        },
    }
}

#[cfg(test)]
mod reference_tests;
