//! The registry snapshot: MLflow's REST shapes (registered models, model versions, runs) in one JSON
//! document — the embedded default, the CLI's `--registry-snapshot` and the in-memory twin of the
//! registry port. The shapes are shared with the MLflow adapter, which decodes the same JSON.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use deltaone::{Metrics, Tags, VersionFacts, VersionNumber};
use serde::{Deserialize, Serialize};

use super::{CreatedVersion, Registry, RegistryError, WriteBack};

/// The sample registry of `samples/`, compiled in: the demo's registry and the tests'.
pub const SAMPLE_REGISTRY: &str = include_str!("../../../../samples/registry/snapshot.json");

/// A registry tag as MLflow's JSON carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TagJson {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// `ModelVersion` as returned by `model-versions/search` and `model-versions/get`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelVersionJson {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<i64>,
}

impl ModelVersionJson {
    /// The facts the rule reads. A version whose number is not a positive integer is skipped.
    pub fn facts(&self) -> Option<VersionFacts> {
        let version: VersionNumber = self.version.parse().ok()?;
        Some(VersionFacts {
            version: Some(version),
            tags: tags_map(&self.tags),
            run_id: self.run_id.clone().filter(|r| !r.is_empty()),
            run_metrics: None,
        })
    }
}

/// `RegisteredModel` as returned by `registered-models/get` and `registered-models/search`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegisteredModelJson {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagJson>,
}

/// A run's metric as `runs/get` returns it. MLflow writes NaN and infinities as strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricJson {
    pub key: String,
    #[serde(with = "lenient_f64")]
    pub value: f64,
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub step: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfoJson {
    pub run_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunDataJson {
    #[serde(default)]
    pub metrics: Vec<MetricJson>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunJson {
    pub info: RunInfoJson,
    #[serde(default)]
    pub data: RunDataJson,
}

impl RunJson {
    /// Latest value of each metric (by step, then timestamp), as `runs/get` reports them.
    pub fn metrics(&self) -> Metrics {
        let mut latest: std::collections::BTreeMap<&str, &MetricJson> = std::collections::BTreeMap::new();
        for m in &self.data.metrics {
            let newer =
                latest.get(m.key.as_str()).is_none_or(|seen| (m.step, m.timestamp) >= (seen.step, seen.timestamp));
            if newer {
                latest.insert(&m.key, m);
            }
        }
        latest.into_iter().map(|(k, m)| (k.to_owned(), m.value)).collect()
    }
}

pub fn tags_map(tags: &[TagJson]) -> Tags {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

mod lenient_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() { s.serialize_f64(*x) } else { s.serialize_str(&x.to_string()) }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(x) => Ok(x),
            Raw::Text(t) => match t.as_str() {
                "NaN" | "nan" => Ok(f64::NAN),
                "Infinity" | "inf" => Ok(f64::INFINITY),
                "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                other => other.parse().map_err(serde::de::Error::custom),
            },
        }
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

    async fn versions_after(
        &self,
        model: &str,
        after: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<CreatedVersion>, RegistryError> {
        self.model(model)?;
        let mut versions: Vec<CreatedVersion> = self
            .snapshot
            .model_versions
            .iter()
            .filter(|v| v.name == model)
            .filter_map(|v| Some(CreatedVersion { version: v.version.parse().ok()?, created_ms: v.creation_timestamp }))
            .filter(|v| after.is_none_or(|after| v.version > after))
            .collect();
        versions.sort_by_key(|v| v.version);
        versions.truncate(limit);
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
