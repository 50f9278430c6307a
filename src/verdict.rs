//! The result of a DeltaOne check: a typed outcome, the facts it rests on, and a reason a person
//! can read.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::rule::{BaselineSource, Direction, Scale};
use crate::version::VersionNumber;

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
}

impl Verdict {
    pub fn achieved(&self) -> bool {
        self.outcome == Outcome::Achieved
    }
}
