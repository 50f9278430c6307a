//! The model registry port: what a DeltaOne check reads from and writes back to a registry.
//!
//! Two adapters: [`MlflowRegistry`] (a real MLflow server over REST) and [`SnapshotRegistry`] (a JSON
//! file in the shapes MLflow's REST API returns — the embedded default and a fast test double).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use deltaone::{Metrics, Tags, VersionFacts, VersionNumber, tags};
use serde::{Deserialize, Serialize};

use crate::mlflow::{
    MlflowClient, MlflowError, ModelVersionJson, RegisteredModelJson, RunJson, VersionOrder, filter_literal, tags_map,
};

/// A registry failure, with whether retrying may help.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("model {0:?} is not in the registry")]
    UnknownModel(String),
    #[error("model {model:?} has no version {version}")]
    UnknownVersion { model: String, version: VersionNumber },
    #[error(transparent)]
    Mlflow(#[from] MlflowError),
    #[error("registry snapshot: {0}")]
    Snapshot(String),
}

impl RegistryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Mlflow(e) if e.is_retryable())
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

/// MLflow as the registry.
pub struct MlflowRegistry {
    client: MlflowClient,
}

impl MlflowRegistry {
    pub fn new(client: MlflowClient) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &MlflowClient {
        &self.client
    }

    fn facts(versions: Vec<ModelVersionJson>) -> impl Iterator<Item = VersionFacts> {
        versions.into_iter().filter_map(|v| v.facts())
    }
}

#[async_trait]
impl Registry for MlflowRegistry {
    async fn versions_for_check(
        &self,
        model: &str,
        requested: Option<VersionNumber>,
    ) -> Result<Vec<VersionFacts>, RegistryError> {
        let name = format!("name = {}", filter_literal(model));
        let candidate_filter = match requested {
            Some(v) => format!("{name} AND version_number = {v}"),
            None => name.clone(),
        };
        let candidate = self.client.search_versions(&candidate_filter, VersionOrder::NewestFirst, 1).await?;
        let Some(candidate) = Self::facts(candidate).next() else {
            // No version: tell an unknown model from one without (that) version.
            return match self.client.model(model).await {
                Ok(_) => Ok(Vec::new()),
                Err(MlflowError::NotFound { .. }) => Err(RegistryError::UnknownModel(model.to_owned())),
                Err(e) => Err(e.into()),
            };
        };
        let below = candidate.number();
        // `IS NOT NULL` is a server error in MLflow; `LIKE '%'` matches every tagged version.
        let tagged_filter = format!("{name} AND version_number < {below} AND tags.{} LIKE '%'", tags::BENCHMARK_VALUE);
        // The candidate's run is needed whatever the baseline: fetch it in the same round.
        let run = async {
            match candidate.run_id.as_deref() {
                Some(run_id) => match self.client.run(run_id).await {
                    Ok(run) => Ok(Some(run.metrics())),
                    Err(MlflowError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                },
                None => Ok(None),
            }
        };
        let (tagged, first, run_metrics) = futures::try_join!(
            self.client.search_versions(&tagged_filter, VersionOrder::NewestFirst, 1),
            self.client.search_versions(&name, VersionOrder::OldestFirst, 1),
            run,
        )?;
        let candidate = VersionFacts { run_metrics, ..candidate };
        Ok(std::iter::once(candidate).chain(Self::facts(tagged)).chain(Self::facts(first)).collect())
    }

    async fn all_versions(&self, model: &str) -> Result<Vec<VersionFacts>, RegistryError> {
        let filter = format!("name = {}", filter_literal(model));
        let versions = self.client.search_all_versions(&filter, VersionOrder::NewestFirst).await?;
        Ok(Self::facts(versions).collect())
    }

    async fn model_tags(&self, model: &str) -> Result<Tags, RegistryError> {
        match self.client.model(model).await {
            Ok(m) => Ok(tags_map(&m.tags)),
            Err(MlflowError::NotFound { .. }) => Err(RegistryError::UnknownModel(model.to_owned())),
            Err(e) => Err(e.into()),
        }
    }

    async fn run_metrics(&self, run_id: &str) -> Result<Metrics, RegistryError> {
        Ok(self.client.run(run_id).await?.metrics())
    }

    async fn model_names(&self) -> Result<Vec<String>, RegistryError> {
        Ok(self.client.model_names().await?)
    }

    async fn write_back(&self, write: &WriteBack) -> Result<(), RegistryError> {
        let tag_writes = write.tags().into_iter().map(|(key, value)| async move {
            self.client.set_version_tag(&write.model, write.version, key, &value).await
        });
        futures::future::try_join_all(tag_writes).await?;
        if let Some((run, metrics)) = write.metrics() {
            let metrics: Vec<(String, f64)> = metrics.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            self.client.log_batch(run, &metrics).await?;
        }
        Ok(())
    }

    async fn set_version_tag(
        &self,
        model: &str,
        version: VersionNumber,
        key: &str,
        value: &str,
    ) -> Result<(), RegistryError> {
        Ok(self.client.set_version_tag(model, version, key, value).await?)
    }

    async fn alias_version(&self, model: &str, alias: &str) -> Result<Option<VersionFacts>, RegistryError> {
        let Some(found) = self.client.alias_version(model, alias).await? else { return Ok(None) };
        let Some(mut facts) = found.facts() else { return Ok(None) };
        if let Some(run_id) = facts.run_id.clone().filter(|r| !r.is_empty()) {
            facts.run_metrics = match self.client.run(&run_id).await {
                Ok(run) => Some(run.metrics()),
                Err(MlflowError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            };
        }
        Ok(Some(facts))
    }

    async fn set_alias(&self, model: &str, alias: &str, version: VersionNumber) -> Result<(), RegistryError> {
        Ok(self.client.set_alias(model, alias, version).await?)
    }

    async fn log_evaluation(
        &self,
        model: &str,
        version: VersionNumber,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), RegistryError> {
        let found = match self.client.version(model, version).await {
            Ok(v) => v,
            Err(MlflowError::NotFound { .. }) => {
                return match self.client.model(model).await {
                    Ok(_) => Err(RegistryError::UnknownVersion { model: model.to_owned(), version }),
                    Err(MlflowError::NotFound { .. }) => Err(RegistryError::UnknownModel(model.to_owned())),
                    Err(e) => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        match found.run_id.filter(|r| !r.is_empty()) {
            Some(run) => {
                let metrics: Vec<(String, f64)> = metrics.iter().map(|(k, v)| (k.clone(), *v)).collect();
                self.client.log_batch(&run, &metrics).await?;
            }
            None => {
                let writes = metrics
                    .iter()
                    .map(|(k, v)| async move { self.client.set_version_tag(model, version, k, &v.to_string()).await });
                futures::future::try_join_all(writes).await?;
            }
        }
        Ok(())
    }
}

/// A registry snapshot: MLflow's REST shapes in one JSON document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub registered_models: Vec<RegisteredModelJson>,
    #[serde(default)]
    pub model_versions: Vec<ModelVersionJson>,
    #[serde(default)]
    pub runs: Vec<RunJson>,
}

/// A registry read from a [`Snapshot`]; write-backs are kept in memory and can be inspected.
pub struct SnapshotRegistry {
    snapshot: Snapshot,
    written: Mutex<Vec<WriteBack>>,
}

impl SnapshotRegistry {
    pub fn new(snapshot: Snapshot) -> Self {
        Self { snapshot, written: Mutex::new(Vec::new()) }
    }

    pub fn from_json(json: &str) -> Result<Self, RegistryError> {
        serde_json::from_str(json)
            .map(Self::new)
            .map_err(|e| RegistryError::Snapshot(format!("not a registry snapshot: {e}")))
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The write-backs made so far, in order.
    pub fn written(&self) -> Vec<WriteBack> {
        self.written.lock().expect("write-back log poisoned").clone()
    }

    fn model(&self, name: &str) -> Result<&RegisteredModelJson, RegistryError> {
        self.snapshot
            .registered_models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| RegistryError::UnknownModel(name.to_owned()))
    }
}

#[async_trait]
impl Registry for SnapshotRegistry {
    async fn versions_for_check(
        &self,
        model: &str,
        _requested: Option<VersionNumber>,
    ) -> Result<Vec<VersionFacts>, RegistryError> {
        // A snapshot is small: hand over every version and let the rule choose.
        self.all_versions(model).await
    }

    async fn all_versions(&self, model: &str) -> Result<Vec<VersionFacts>, RegistryError> {
        self.model(model)?;
        let mut versions: Vec<VersionFacts> =
            self.snapshot.model_versions.iter().filter(|v| v.name == model).filter_map(|v| v.facts()).collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(versions)
    }

    async fn model_tags(&self, model: &str) -> Result<Tags, RegistryError> {
        Ok(tags_map(&self.model(model)?.tags))
    }

    async fn run_metrics(&self, run_id: &str) -> Result<Metrics, RegistryError> {
        let runs: BTreeMap<&str, &RunJson> = self.snapshot.runs.iter().map(|r| (r.info.run_id.as_str(), r)).collect();
        runs.get(run_id)
            .map(|r| r.metrics())
            .ok_or_else(|| RegistryError::Snapshot(format!("run {run_id:?} is referenced but not in the snapshot")))
    }

    async fn model_names(&self) -> Result<Vec<String>, RegistryError> {
        Ok(self.snapshot.registered_models.iter().map(|m| m.name.clone()).collect())
    }

    async fn write_back(&self, write: &WriteBack) -> Result<(), RegistryError> {
        self.written.lock().expect("write-back log poisoned").push(write.clone());
        Ok(())
    }

    async fn log_evaluation(
        &self,
        model: &str,
        version: VersionNumber,
        _metrics: &BTreeMap<String, f64>,
    ) -> Result<(), RegistryError> {
        self.model(model)?;
        Err(RegistryError::Snapshot(format!(
            "a snapshot is read-only: cannot log metrics for {model} version {version}"
        )))
    }
}
