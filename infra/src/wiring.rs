//! Builds the adapters that validated [`Settings`] name: once per process (cold start), shared.

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::check::Checker;
use crate::config::{RegistrySource, Settings, StoreTarget};
use crate::deadletter::{DeadLetters, SqsDeadLetters};
use crate::mlflow::MlflowClient;
use crate::notify::{Notifier, SnsNotifier};
use crate::objects::{ObjectStore, S3Objects};
use crate::registry::{MlflowRegistry, Registry, SnapshotRegistry};
use crate::store::VerdictStore;
use crate::store::dynamo::DynamoVerdictStore;
use crate::store::file::FileVerdictStore;

/// The wired adapters. AWS clients share one SDK configuration.
pub struct Wiring {
    pub settings: Settings,
    pub aws: SdkConfig,
}

impl Wiring {
    pub async fn new(settings: Settings) -> Self {
        let aws = crate::aws::sdk_config(settings.aws_endpoint_url.as_deref()).await;
        Self { settings, aws }
    }

    pub fn registry(&self) -> Result<Arc<dyn Registry>, String> {
        match &self.settings.registry {
            Some(RegistrySource::Mlflow(config)) => {
                let client = MlflowClient::new(config.clone()).map_err(|e| e.to_string())?;
                Ok(Arc::new(MlflowRegistry::new(client)))
            }
            Some(RegistrySource::Snapshot(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let registry = SnapshotRegistry::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(Arc::new(registry))
            }
            None => Err("no registry is configured: set MLFLOW_TRACKING_URI (--mlflow-uri) or \
                         DELTAONE_REGISTRY_SNAPSHOT (--registry-snapshot)"
                .into()),
        }
    }

    pub fn store(&self) -> Option<Arc<dyn VerdictStore>> {
        match &self.settings.store {
            Some(StoreTarget::Dynamo { table }) => {
                Some(Arc::new(DynamoVerdictStore::new(aws_sdk_dynamodb::Client::new(&self.aws), table)))
            }
            Some(StoreTarget::Files { dir }) => Some(Arc::new(FileVerdictStore::new(dir))),
            None => None,
        }
    }

    pub fn notifier(&self) -> Option<Arc<dyn Notifier>> {
        let topic = self.settings.topic_arn.as_ref()?;
        Some(Arc::new(SnsNotifier::new(aws_sdk_sns::Client::new(&self.aws), topic)))
    }

    pub fn dead_letters(&self) -> Option<Arc<dyn DeadLetters>> {
        let url = self.settings.dead_letter_queue_url.as_ref()?;
        Some(Arc::new(SqsDeadLetters::new(aws_sdk_sqs::Client::new(&self.aws), url)))
    }

    pub fn objects(&self) -> Arc<dyn ObjectStore> {
        Arc::new(S3Objects::new(S3Objects::client(&self.aws, self.settings.aws_endpoint_url.is_some())))
    }

    /// A checker with the configured registry, store and (if any) notifier.
    pub fn checker(&self) -> Result<Checker, String> {
        let checker = Checker::new(self.registry()?, self.store(), self.settings.policy.clone());
        Ok(match self.notifier() {
            Some(n) => checker.with_notifier(n),
            None => checker,
        })
    }
}
