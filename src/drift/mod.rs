//! Data drift statistics: does the current data of a column still look like the reference data?
//!
//! Everything here is a pure function over values or counts; the numbers agree with SciPy and
//! NumPy (checked against fixtures that `bench/reference/drift_reference.py` generates).
//!
//! * Numeric columns ([`NumericDrift`]): the two-sample Kolmogorov–Smirnov test
//!   ([`ks_two_sample`], as `scipy.stats.ks_2samp`), the Wasserstein-1 distance, raw and
//!   normalised by the reference standard deviation ([`normalised_wasserstein`]), and the population
//!   stability index and Jensen–Shannon distance over bins ([`Binning`], [`Shares`]).
//! * Categorical columns ([`CategoricalDrift`]): the chi-square test of the 2×k contingency table
//!   ([`chi_square_contingency`], as `scipy.stats.chi2_contingency`), PSI and Jensen–Shannon
//!   distance over the category shares, and the categories that appeared or vanished.
//! * Data quality ([`DataQuality`]): nulls, NaN and infinities are counted and kept out of the
//!   statistics, which take finite values only ([`NumericSample`], owned or borrowed, sorted once
//!   with an in-place radix sort: [`sort_finite`], [`sort_total_order`]).
//! * Decisions ([`decide_columns`], [`ColumnDrift`], [`DatasetDrift`]): per column an effect size
//!   gated by a multiple-comparison-adjusted test (or the test alone, by policy), and whether
//!   enough columns drifted for the dataset to count as drifted; [`alerting`] turns a run's
//!   decisions and the model's history into alerts fired, held or recovered.
//! * Scale-out ([`partial`], [`sketch`]): per-shard partial state that merges exactly, and a
//!   bounded-memory sketch of numeric columns with error-bounded statistics.
//! * SageMaker Model Monitor's baseline files ([`model_monitor`]): `statistics.json` and
//!   `constraints.json` of a reference window, from its partial state.

pub mod alerting;
mod binning;
mod categorical;
mod decision;
mod kolmogorov;
mod ks;
pub mod model_monitor;
mod numeric;
pub mod partial;
mod policy;
mod quality;
mod sample;
mod shares;
pub mod sketch;
mod wasserstein;

#[cfg(test)]
mod reference_tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use binning::{BinLayout, BinnedShares, Binning, DEFAULT_QUANTILE_BINS, EVIDENTLY_MAX_DISTINCT_VALUES, bin_shares};
pub use categorical::{CategoricalDrift, ChiSquareTest, chi_square_contingency};
pub use decision::{
    ColumnDrift, DEFAULT_DATASET_DRIFT_SHARE, DEFAULT_DISTANCE_THRESHOLD, DEFAULT_P_VALUE_THRESHOLD,
    DEFAULT_PSI_THRESHOLD, DatasetDrift, DriftMethod, DriftScore,
};
pub use kolmogorov::kolmogorov_sf;
pub use ks::{KS_EXACT_MAX_SAMPLE_SIZE, KsMethod, KsTest, ks_two_sample};
pub use numeric::NumericDrift;
pub use policy::{
    ColumnDecision, ColumnEvidence, ColumnVerdict, Correction, DEFAULT_NEW_CATEGORY_SHARE, DecisionPolicy,
    DecisionSettings, DriftSeverity, adjust_p_values, decide_columns,
};
pub use quality::DataQuality;
pub use sample::{
    NumericSample, SortedProblem, SortedValues, SummaryStats, quantile_sorted, sort_finite, sort_total_order,
};
pub use shares::{Shares, fill_empty_shares};
pub use sketch::{
    DEFAULT_SKETCH_PRECISION, LogHistogram, SketchKs, SketchPsi, SketchWasserstein, ks_sketch, psi_sketch,
    wasserstein_sketch,
};
pub use wasserstein::{WASSERSTEIN_MIN_STD, WassersteinDistance, normalised_wasserstein, wasserstein_distance};

/// Samples this large (both together) have their statistics computed on two threads: the ECDF
/// walk (itself in two halves) beside both sides' summaries.
pub(crate) const PARALLEL_MIN_VALUES: usize = 1 << 18;

/// `(a(), b())`, `a` on a second thread when `parallel`.
pub(crate) fn join<A: Send, B>(parallel: bool, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let first = scope.spawn(a);
        let second = b();
        (first.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), second)
    })
}

/// Which of the two datasets a value or an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The baseline the column is compared against.
    Reference,
    /// The data being checked for drift.
    Current,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Reference => "reference",
            Side::Current => "current",
        })
    }
}

/// Why a drift statistic cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriftError {
    /// No (finite) values, or all category counts zero, on one side.
    #[error("the {side} sample is empty")]
    EmptySample { side: Side },
    /// NaN or an infinity among values that must be finite (count those with [`DataQuality`]).
    #[error("the {side} sample has a non-finite value ({value}) at index {index}")]
    NonFiniteValue { side: Side, index: usize, value: f64 },
    /// Values given as sorted are not ascending.
    #[error("the {side} values are not sorted ascending (at index {index})")]
    NotSorted { side: Side, index: usize },
    /// A binning needs at least one bin.
    #[error("at least one bin is needed")]
    NoBins,
    /// Reference and current shares or counts must cover the same bins or categories.
    #[error("{reference} reference bins/categories but {current} current ones")]
    LengthMismatch { reference: usize, current: usize },
    /// p-values lie in [0, 1].
    #[error("p-value {value} at index {index} is not in [0, 1]")]
    InvalidPValue { index: usize, value: f64 },
    /// Shares must be finite and non-negative.
    #[error("the {side} shares have an invalid value ({value}) at index {index}")]
    InvalidShare { side: Side, index: usize, value: f64 },
}
