//! MLflow as the registry port.

use std::collections::BTreeMap;

use async_trait::async_trait;
use deltaone::{Metrics, Tags, VersionFacts, VersionNumber};
use deltaone_app::registry::snapshot::{ModelVersionJson, tags_map};
use deltaone_app::registry::{CreatedVersion, Registry, RegistryError, WriteBack};

use crate::client::{MlflowClient, MlflowError, VersionOrder, filter_literal};

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
        let tagged_filter =
            format!("{name} AND version_number < {below} AND tags.{} LIKE '%'", deltaone::tags::BENCHMARK_VALUE);
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

    async fn versions_after(
        &self,
        model: &str,
        after: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<CreatedVersion>, RegistryError> {
        // MLflow's search grammar filters on version_number but not on creation_timestamp; a model's
        // version numbers rise in creation order, so "numbered above the last one seen" is "created
        // since" it, decided by the server.
        let mut filter = format!("name = {}", filter_literal(model));
        if let Some(after) = after {
            filter.push_str(&format!(" AND version_number > {after}"));
        }
        let limit = u32::try_from(limit).unwrap_or(u32::MAX).clamp(1, 1000);
        let versions = self.client.search_versions(&filter, VersionOrder::OldestFirst, limit).await?;
        if versions.is_empty() && after.is_none() {
            // Tell an unknown model from one without versions.
            match self.client.model(model).await {
                Ok(_) => {}
                Err(MlflowError::NotFound { .. }) => return Err(RegistryError::UnknownModel(model.to_owned())),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(versions
            .into_iter()
            .filter_map(|v| Some(CreatedVersion { version: v.version.parse().ok()?, created_ms: v.creation_timestamp }))
            .collect())
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
