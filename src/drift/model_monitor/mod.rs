//! SageMaker Model Monitor's baseline files of a reference window — `statistics.json` and
//! `constraints.json`, version 0 — computed from the window's partial state (exact values or a
//! sketch per numeric column, category counts). The formats, and every choice where Model
//! Monitor's documentation is silent, are in docs/model-monitor.md.
//!
//! * Present values are the non-null, non-NaN ones (±∞ included); mean, sum, standard deviation
//!   (population), min, max and the distribution take the finite values only.
//! * The sum is correctly rounded, so the numbers do not depend on the order the values came in.
//! * From a sketch, min and max are exact and the other numbers use each bucket's representative
//!   point (within a bucket's width, 2^-precision of the values).

pub mod kll;
mod moments;

use serde::{Deserialize, Serialize};

use super::partial::{CategoricalPartial, NumericPartial, NumericValues};

pub use kll::{HISTOGRAM_BUCKETS, KLL_C, KLL_K, KllBucket, equal_width_buckets, kll_levels};

/// The only format version there is (Model Monitor writes `0.0`).
pub const FORMAT_VERSION: f64 = 0.0;
/// A string feature gets a domain only with at most this many distinct values (Deequ's
/// low-cardinality histogram threshold)…
pub const DOMAIN_MAX_DISTINCT: usize = 120;
/// …and when at most this share of them were seen once (Deequ's `CategoricalRangeRule`).
pub const DOMAIN_MAX_SINGLETON_SHARE: f64 = 0.1;

/// A feature's type as Model Monitor names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InferredType {
    Integral,
    Fractional,
    String,
    Unknown,
}

/// `statistics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    pub version: f64,
    pub dataset: Dataset,
    pub features: Vec<FeatureStatistics>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub item_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStatistics {
    pub name: String,
    pub inferred_type: InferredType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerical_statistics: Option<NumericalStatistics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_statistics: Option<StringStatistics>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Common {
    pub num_present: u64,
    pub num_missing: u64,
}

/// A numeric feature's statistics; everything but `common` is absent without finite values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericalStatistics {
    pub common: Common,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_dev: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<NumericDistribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericDistribution {
    pub kll: Kll,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kll {
    pub buckets: Vec<KllBucket>,
    pub sketch: KllSketch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KllSketch {
    pub parameters: KllParameters,
    /// Compactor levels, lowest first; an item of level h weighs 2^h.
    pub data: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KllParameters {
    pub c: f64,
    pub k: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringStatistics {
    pub common: Common,
    pub distinct_count: f64,
    pub distribution: CategoricalDistribution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalDistribution {
    pub categorical: Categorical,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Categorical {
    pub buckets: Vec<CategoryBucket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryBucket {
    pub value: String,
    pub count: u64,
}

/// `constraints.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    pub version: f64,
    pub features: Vec<FeatureConstraints>,
    pub monitoring_config: MonitoringConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConstraints {
    pub name: String,
    pub inferred_type: InferredType,
    pub completeness: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_constraints: Option<NumConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_constraints: Option<StringConstraints>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumConstraints {
    pub is_non_negative: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringConstraints {
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Toggle {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComparisonMethod {
    Simple,
    Robust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CategoricalDriftMethod {
    LInfinity,
    ChiSquared,
}

/// The file-wide `monitoring_config` of `constraints.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonitoringConfig {
    pub evaluate_constraints: Toggle,
    pub emit_metrics: Toggle,
    pub datatype_check_threshold: f64,
    pub domain_content_threshold: f64,
    pub distribution_constraints: DistributionConstraints,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DistributionConstraints {
    pub perform_comparison: Toggle,
    pub comparison_threshold: f64,
    pub comparison_method: ComparisonMethod,
    pub categorical_comparison_threshold: f64,
    pub categorical_drift_method: CategoricalDriftMethod,
}

impl MonitoringConfig {
    /// What a baseline writes: every member explicit, the thresholds the baselining job writes
    /// (1.0 and 1.0 for the type and domain checks, 0.1 `Robust` drift, 0.1 `LInfinity`
    /// categorical drift), so the file means the same to Model Monitor and to DeltaOne.
    pub fn written() -> Self {
        Self {
            evaluate_constraints: Toggle::Enabled,
            emit_metrics: Toggle::Enabled,
            datatype_check_threshold: 1.0,
            domain_content_threshold: 1.0,
            distribution_constraints: DistributionConstraints {
                perform_comparison: Toggle::Enabled,
                comparison_threshold: 0.1,
                comparison_method: ComparisonMethod::Robust,
                categorical_comparison_threshold: 0.1,
                categorical_drift_method: CategoricalDriftMethod::LInfinity,
            },
        }
    }
}

/// One feature of a reference window: its name, type and partial state.
#[derive(Debug, Clone, Copy)]
pub enum FeatureState<'a> {
    /// An `Integral` or `Fractional` column.
    Numeric { name: &'a str, inferred_type: InferredType, state: &'a NumericPartial },
    /// A `String` column.
    String { name: &'a str, state: &'a CategoricalPartial },
}

/// The two baseline files of a reference window of `rows` rows, features in the order given.
pub fn baseline(rows: u64, features: &[FeatureState<'_>]) -> (Statistics, Constraints) {
    let mut statistics = Vec::with_capacity(features.len());
    let mut constraints = Vec::with_capacity(features.len());
    for feature in features {
        match *feature {
            FeatureState::Numeric { name, inferred_type, state } => {
                let s = numerical_statistics(state);
                let completeness = share(s.common);
                // No finite value: nothing to say about the sign.
                let is_non_negative = s.min.map(|min| min >= 0.0 && state.quality.negative_infinity == 0);
                constraints.push(FeatureConstraints {
                    name: name.to_owned(),
                    inferred_type,
                    completeness,
                    num_constraints: is_non_negative.map(|is_non_negative| NumConstraints { is_non_negative }),
                    string_constraints: None,
                });
                statistics.push(FeatureStatistics {
                    name: name.to_owned(),
                    inferred_type,
                    numerical_statistics: Some(s),
                    string_statistics: None,
                });
            }
            FeatureState::String { name, state } => {
                let s = string_statistics(state);
                constraints.push(FeatureConstraints {
                    name: name.to_owned(),
                    inferred_type: InferredType::String,
                    completeness: share(s.common),
                    num_constraints: None,
                    string_constraints: domains(&s.distribution.categorical.buckets)
                        .map(|domains| StringConstraints { domains }),
                });
                statistics.push(FeatureStatistics {
                    name: name.to_owned(),
                    inferred_type: InferredType::String,
                    numerical_statistics: None,
                    string_statistics: Some(s),
                });
            }
        }
    }
    (
        Statistics { version: FORMAT_VERSION, dataset: Dataset { item_count: rows }, features: statistics },
        Constraints { version: FORMAT_VERSION, features: constraints, monitoring_config: MonitoringConfig::written() },
    )
}

/// The share of present rows; 0 for a column without rows.
fn share(common: Common) -> f64 {
    let rows = common.num_present + common.num_missing;
    if rows == 0 { 0.0 } else { common.num_present as f64 / rows as f64 }
}

/// The statistics of a numeric column's partial state.
pub fn numerical_statistics(state: &NumericPartial) -> NumericalStatistics {
    let q = &state.quality;
    let common = Common {
        num_present: (q.finite + q.positive_infinity + q.negative_infinity) as u64,
        num_missing: (q.nulls + q.nan) as u64,
    };
    let empty =
        NumericalStatistics { common, mean: None, sum: None, std_dev: None, min: None, max: None, distribution: None };
    match &state.values {
        NumericValues::Exact { sorted } => {
            let values = sorted.iter().map(|&v| (v, 1));
            let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else { return empty };
            numeric_summary(common, values, min, max).unwrap_or(empty)
        }
        NumericValues::Sketch { sketch } => {
            let Some((min, max)) = sketch.range() else { return empty };
            numeric_summary(common, sketch.representatives(), min, max).unwrap_or(empty)
        }
    }
}

fn numeric_summary(
    common: Common,
    values: impl Iterator<Item = (f64, u64)> + Clone,
    min: f64,
    max: f64,
) -> Option<NumericalStatistics> {
    let m = moments::Moments::of(values.clone())?;
    // -0.0 sorts first in total order; Model Monitor has no negative zero.
    let (min, max) = (min + 0.0, max + 0.0);
    Some(NumericalStatistics {
        common,
        mean: Some(m.mean),
        sum: Some(m.sum),
        std_dev: Some(m.std_dev),
        min: Some(min),
        max: Some(max),
        distribution: Some(NumericDistribution {
            kll: Kll {
                buckets: equal_width_buckets(values.clone(), min, max),
                sketch: KllSketch {
                    parameters: KllParameters { c: KLL_C, k: KLL_K as f64 },
                    data: kll_levels(values, m.count, KLL_K),
                },
            },
        }),
    })
}

/// The statistics of a categorical column's partial state: categories by count, most frequent
/// first, ties by value.
pub fn string_statistics(state: &CategoricalPartial) -> StringStatistics {
    let mut buckets: Vec<CategoryBucket> =
        state.counts.iter().map(|(value, &count)| CategoryBucket { value: value.clone(), count }).collect();
    buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    StringStatistics {
        common: Common { num_present: state.total - state.nulls, num_missing: state.nulls },
        distinct_count: buckets.len() as f64,
        distribution: CategoricalDistribution { categorical: Categorical { buckets } },
    }
}

/// The domain of a string feature (its categories, most frequent first) when it has few
/// categories and few of them seen once; `None` otherwise (a free-text or identifier-like column,
/// whose every new value would be "unknown").
fn domains(buckets: &[CategoryBucket]) -> Option<Vec<String>> {
    if buckets.is_empty() || buckets.len() > DOMAIN_MAX_DISTINCT {
        return None;
    }
    let singletons = buckets.iter().filter(|b| b.count == 1).count();
    (singletons as f64 / buckets.len() as f64 <= DOMAIN_MAX_SINGLETON_SHARE)
        .then(|| buckets.iter().map(|b| b.value.clone()).collect())
}

#[cfg(test)]
mod tests;
