//! DeltaOne's domain: the rule that decides whether a new model version beats its benchmarked
//! baseline by at least a threshold (one percentage point by default), and the verdict it produces.
//!
//! This crate is pure: no I/O, no async, no AWS or MLflow types. The app layer (`deltaone-app`) and
//! its adapters gather [`VersionFacts`] from a registry and hand them to [`select`] and [`judge`].

pub mod attestation;
pub mod classification;
pub mod confidence;
pub mod drift;
pub mod evidence;
pub mod guardrail;
pub mod message;
pub mod metric;
mod packed;
pub mod promotion;
pub mod rule;
pub mod sharding;
pub mod signature;
pub mod tags;
pub mod value;
pub mod verdict;
pub mod version;

pub use rule::{
    BaselineSource, Direction, Policy, Scale, Selection, VersionFacts, judge, select, select_with_baseline,
};
pub use value::{MetricValue, ValueError};
pub use verdict::{Confidence, ConfidenceStatus, GuardrailResult, GuardrailStatus, Outcome, Verdict};
pub use version::{VersionNumber, VersionParseError};

/// Tags by name, as the registry stores them (keys and values are strings).
pub type Tags = std::collections::BTreeMap<String, String>;

/// A run's metrics by name: the latest logged value of each.
pub type Metrics = std::collections::BTreeMap<String, f64>;
