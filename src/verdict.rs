//! The result of a DeltaOne check: a typed outcome, the facts it rests on, and a reason a person
//! can read.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::confidence::Method;
use crate::metric::{Direction, Scale};
use crate::version::VersionNumber;

/// How the baseline was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineSource {
    /// The newest older version tagged `benchmark_value`.
    Tagged,
    /// No older version is tagged: the model's first version.
    FirstVersion,
    /// The version behind a registry alias (e.g. `champion`), when the check was asked to use it.
    Alias,
}

/// What a check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The candidate beats the baseline by at least the threshold.
    Achieved,
    /// The candidate was compared and falls short of the threshold (or is worse).
    NotAchieved,
    /// The model has no versions, or the requested version does not exist.
    NoCandidate,
    /// The candidate is the model's first version: there is nothing to compare it with.
    NoBaseline,
    /// No benchmark metric is named, or a version has no value for it.
    MetricMissing,
    /// A value is NaN, infinite, or not a number at all.
    NonFiniteValue,
    /// The two values are not on one recognisable scale (fraction 0–1 or percent 0–100).
    ScaleMismatch,
    /// A `benchmark_*` tag holds a value DeltaOne does not understand.
    BadTag,
}

impl Outcome {
    /// Whether the two versions were actually compared (the verdict carries a delta).
    pub fn is_comparison(self) -> bool {
        matches!(self, Self::Achieved | Self::NotAchieved)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Achieved => "achieved",
            Self::NotAchieved => "not_achieved",
            Self::NoCandidate => "no_candidate",
            Self::NoBaseline => "no_baseline",
            Self::MetricMissing => "metric_missing",
            Self::NonFiniteValue => "non_finite_value",
            Self::ScaleMismatch => "scale_mismatch",
            Self::BadTag => "bad_tag",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A DeltaOne verdict. Optional fields are filled as far as the check got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub model: String,
    pub outcome: Outcome,
    /// One sentence for people: what was compared and why the outcome is what it is.
    pub reason: String,
    pub candidate_version: Option<VersionNumber>,
    pub baseline_version: Option<VersionNumber>,
    pub baseline_source: Option<BaselineSource>,
    pub metric: Option<String>,
    pub candidate_value: Option<Decimal>,
    pub baseline_value: Option<Decimal>,
    /// Improvement of the candidate over the baseline in percentage points: positive is better,
    /// whichever direction the metric has.
    pub delta_pp: Option<Decimal>,
    pub threshold_pp: Decimal,
    pub direction: Option<Direction>,
    pub scale: Option<Scale>,
    /// How sure the delta is, from paired predictions; absent when none were looked for (old
    /// records and consumers never see the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Every declared guardrail with its values and result; empty when none are declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<GuardrailResult>,
}

impl Verdict {
    pub fn achieved(&self) -> bool {
        self.outcome == Outcome::Achieved
    }
}

/// Whether an interval could be computed, and if not, why (typed, with a reason in the verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceStatus {
    /// The interval was computed from paired predictions.
    Computed,
    /// No predictions of one or both versions were found.
    NoPredictions,
    /// The two predictions files do not cover the same rows (or cannot be paired at all).
    Unpaired,
    /// The files cover the same rows but disagree on labels, or hold unusable values.
    Mismatched,
    /// Too few paired rows (or too few of a class) for the method.
    TooSmall,
    /// The metric has no paired interval here, or needs scores that the files do not hold.
    Unsupported,
}

impl ConfidenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Computed => "computed",
            Self::NoPredictions => "no_predictions",
            Self::Unpaired => "unpaired",
            Self::Mismatched => "mismatched",
            Self::TooSmall => "too_small",
            Self::Unsupported => "unsupported",
        }
    }
}

/// The delta's confidence interval in percentage points, positive is better (flipped for
/// lower-is-better metrics like the delta itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confidence {
    pub status: ConfidenceStatus,
    /// Two-sided level, e.g. 0.95.
    pub level: Decimal,
    pub lower_pp: Option<Decimal>,
    pub upper_pp: Option<Decimal>,
    pub method: Option<Method>,
    /// Paired rows the interval rests on.
    pub rows: Option<u64>,
    /// The paired point estimate of the delta on those rows.
    pub estimate_pp: Option<Decimal>,
    /// Whether the lower bound reaches the threshold.
    pub significant: Option<bool>,
    /// Why there is no interval, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How much worse a guardrail metric may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allowance {
    /// Percentage points on the metric's own scale (fractions are multiplied by 100).
    AbsolutePp(Decimal),
    /// Percent of the baseline's value.
    RelativePercent(Decimal),
}

/// One guardrail's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailStatus {
    /// Within the allowed regression (or better).
    Passed,
    /// Worse than the allowed regression.
    Regressed,
    /// A version has no value for the metric.
    Missing,
    /// A value is not a finite number, or the values are on no common scale.
    Invalid,
}

/// A guardrail metric as the verdict reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailResult {
    pub metric: String,
    pub direction: Direction,
    pub allowed: Allowance,
    pub baseline_value: Option<Decimal>,
    pub candidate_value: Option<Decimal>,
    /// How much worse the candidate is, in the allowance's unit (pp or %); negative is better.
    pub regression: Option<Decimal>,
    pub status: GuardrailStatus,
    pub reason: String,
}
