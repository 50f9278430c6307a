//! The model registry port: what a DeltaOne check reads from and writes back to a registry.
//!
//! Two adapters: `MlflowRegistry` (a real MLflow server over REST, in `deltaone-mlflow`) and
//! [`SnapshotRegistry`] (a JSON file in the shapes MLflow's REST API returns — the embedded default
//! and the in-memory twin).

use std::collections::BTreeMap;

use async_trait::async_trait;
use deltaone::{Metrics, Tags, VersionFacts, VersionNumber, tags};
use serde::{Deserialize, Serialize};

pub mod snapshot;

pub use snapshot::{Snapshot, SnapshotRegistry};

/// A registry failure, with whether retrying may help.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("model {0:?} is not in the registry")]
    UnknownModel(String),
    #[error("model {model:?} has no version {version}")]
    UnknownVersion { model: String, version: VersionNumber },
    /// The registry has no such thing (a model, a version, a run, an alias).
    #[error("{0}")]
    NotFound(String),
    /// The registry did not answer, or answered with trouble of its own (overload, a server error, a
    /// timeout): trying again later may work.
    #[error("{0}")]
    Unavailable(String),
    /// A concurrent write lost a race inside the registry: trying again works.
    #[error("{0}")]
    Conflict(String),
    /// The registry refused the request or answered what its API does not document: retrying the
    /// same request gives the same answer.
    #[error("{0}")]
    Rejected(String),
    #[error("registry snapshot: {0}")]
    Snapshot(String),
}

impl RegistryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Conflict(_))
    }
}

/// What DeltaOne writes back to a version after a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBack {
    pub model: String,
    pub version: VersionNumber,
    pub run_id: Option<String>,
    pub achieved: bool,
    /// Delta in percentage points, as a decimal string.
    pub delta_pp: String,
    pub baseline_version: VersionNumber,
    pub checked_at: String,
}

impl WriteBack {
    /// The version tags, in the order they are written.
    pub fn tags(&self) -> [(&'static str, String); 4] {
        [
            (tags::DELTAONE_ACHIEVED, self.achieved.to_string()),
            (tags::DELTA_VALUE, self.delta_pp.clone()),
            (tags::DELTAONE_BASELINE_VERSION, self.baseline_version.to_string()),
            (tags::DELTAONE_CHECKED_AT, self.checked_at.clone()),
        ]
    }

    /// The run metrics (only when the version has a run).
    pub fn metrics(&self) -> Option<(&str, [(&'static str, f64); 2])> {
        let delta: f64 = self.delta_pp.parse().unwrap_or(f64::NAN);
        let achieved = if self.achieved { 1.0 } else { 0.0 };
        self.run_id.as_deref().map(|run| (run, [(tags::DELTAONE_ACHIEVED, achieved), (tags::DELTA_VALUE, delta)]))
    }
}

/// A version, and when the registry created it (milliseconds since the epoch, when it says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedVersion {
    pub version: VersionNumber,
    pub created_ms: Option<i64>,
}

/// The narrow registry interface a DeltaOne check needs.
#[async_trait]
pub trait Registry: Send + Sync {
    /// The versions of `model` that [`deltaone::select`] needs: the candidate (`requested`, or the
    /// newest), the newest `benchmark_value`-tagged version older than it, and the first version.
    /// An adapter may fill in the candidate's `run_metrics` when it can do so cheaply.
    /// `Err(UnknownModel)` when the model does not exist; an empty list when it has no versions.
    async fn versions_for_check(
        &self,
        model: &str,
        requested: Option<VersionNumber>,
    ) -> Result<Vec<VersionFacts>, RegistryError>;

    /// All versions of `model`, newest first.
    async fn all_versions(&self, model: &str) -> Result<Vec<VersionFacts>, RegistryError>;

    /// The first `limit` versions of `model` numbered above `after` (all, without `after`), oldest
    /// first. A registry numbers a model's versions in the order it creates them, so these are the
    /// versions created since `after` was. This default lists every version; adapters that can ask
    /// the server for exactly these do.
    async fn versions_after(
        &self,
        model: &str,
        after: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<CreatedVersion>, RegistryError> {
        let mut versions: Vec<VersionNumber> = self
            .all_versions(model)
            .await?
            .iter()
            .filter_map(|v| v.version)
            .filter(|v| after.is_none_or(|after| *v > after))
            .collect();
        versions.sort();
        Ok(versions.into_iter().take(limit).map(|version| CreatedVersion { version, created_ms: None }).collect())
    }

    async fn model_tags(&self, model: &str) -> Result<Tags, RegistryError>;

    async fn run_metrics(&self, run_id: &str) -> Result<Metrics, RegistryError>;

    async fn model_names(&self) -> Result<Vec<String>, RegistryError>;

    /// Writes the verdict's tags (and run metrics) to the candidate version. Idempotent.
    async fn write_back(&self, write: &WriteBack) -> Result<(), RegistryError>;

    /// Records evaluation metrics for a version: logged to its run, or set as version tags when it
    /// has no run (the rule reads either).
    async fn log_evaluation(
        &self,
        model: &str,
        version: VersionNumber,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), RegistryError>;

    /// The version behind `alias` (with its tags and run metrics), `None` when the alias is not set.
    async fn alias_version(&self, model: &str, alias: &str) -> Result<Option<VersionFacts>, RegistryError> {
        let _ = alias;
        Err(RegistryError::Snapshot(format!("this registry has no aliases: cannot read one of {model}")))
    }

    /// Points `alias` at `version`.
    async fn set_alias(&self, model: &str, alias: &str, version: VersionNumber) -> Result<(), RegistryError> {
        let _ = alias;
        Err(RegistryError::Snapshot(format!(
            "this registry is read-only: cannot move an alias to {model} version {version}"
        )))
    }

    /// Sets one version tag, e.g. `predictions_uri` after an evaluation read the version's
    /// predictions. Registries that cannot write say so.
    async fn set_version_tag(
        &self,
        model: &str,
        version: VersionNumber,
        key: &str,
        value: &str,
    ) -> Result<(), RegistryError> {
        let _ = (key, value);
        Err(RegistryError::Snapshot(format!("this registry is read-only: cannot tag {model} version {version}")))
    }
}
