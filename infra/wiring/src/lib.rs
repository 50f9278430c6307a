//! The composition root: builds the adapters that validated [`Settings`] name, once per process (cold
//! start), shared, and a [`Checker`] over them. The CLI and the check functions wire through here.

use std::path::PathBuf;
use std::sync::Arc;

use aws_config::SdkConfig;

use deltaone_app::check::Checker;
use deltaone_app::deadletter::DeadLetters;
use deltaone_app::env;
use deltaone_app::notify::Notifier;
use deltaone_app::objects::ObjectStore;
use deltaone_app::registry::{Registry, RegistryError, SnapshotRegistry};
use deltaone_app::settings::{RegistrySource, Settings, StoreTarget};
use deltaone_app::startup::StartupError;
use deltaone_app::store::VerdictStore;
use deltaone_aws::aws_sdk_dynamodb;
use deltaone_aws::aws_sdk_sns;
use deltaone_aws::aws_sdk_sqs;
use deltaone_aws::s3::S3Objects;
use deltaone_aws::sns::SnsNotifier;
use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_mlflow::MlflowRegistry;
use deltaone_mlflow::client::{MlflowClient, MlflowError};

/// What the settings name but cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    MlflowClient(#[from] MlflowError),
    #[error("cannot read {}: {source}", path.display())]
    SnapshotUnreadable { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    SnapshotInvalid { path: PathBuf, source: RegistryError },
    #[error(
        "no registry is configured: set {} (--mlflow-uri) or {} (--registry-snapshot)",
        env::MLFLOW_TRACKING_URI,
        env::REGISTRY_SNAPSHOT
    )]
    NoRegistry,
    /// Deployed functions are built without the file store.
    #[error(
        "setting store_dir ({}={}): a verdict directory is for the deltaone command line; \
         deployed functions record in DynamoDB ({})",
        env::STORE_DIR,
        dir.display(),
        env::VERDICT_TABLE
    )]
    FileStoreNotBuilt { dir: PathBuf },
}

impl WiringError {
    /// The environment variable to fix.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::MlflowClient(_) | Self::NoRegistry => env::MLFLOW_TRACKING_URI,
            Self::SnapshotUnreadable { .. } | Self::SnapshotInvalid { .. } => env::REGISTRY_SNAPSHOT,
            Self::FileStoreNotBuilt { .. } => env::STORE_DIR,
        }
    }
}

/// A function stops at start-up naming the variable behind the failure.
impl From<WiringError> for StartupError {
    fn from(e: WiringError) -> Self {
        StartupError::new(e.variable(), e.to_string())
    }
}

/// The wired adapters. AWS clients share one SDK configuration, loaded on first use only, so that a
/// command that needs no AWS service (a dry run against MLflow) never looks for credentials or a region.
pub struct Wiring {
    pub settings: Settings,
    aws: tokio::sync::OnceCell<SdkConfig>,
    /// One registry client per process: each HTTPS client loads the root certificates.
    registry: std::sync::OnceLock<Arc<dyn Registry>>,
}

impl Wiring {
    pub fn new(settings: Settings) -> Self {
        Self { settings, aws: tokio::sync::OnceCell::new(), registry: std::sync::OnceLock::new() }
    }

    pub async fn aws(&self) -> &SdkConfig {
        self.aws.get_or_init(|| deltaone_aws::sdk_config(self.settings.aws_endpoint_url.as_deref())).await
    }

    pub fn registry(&self) -> Result<Arc<dyn Registry>, WiringError> {
        if let Some(registry) = self.registry.get() {
            return Ok(registry.clone());
        }
        let registry = self.build_registry()?;
        Ok(self.registry.get_or_init(|| registry).clone())
    }

    fn build_registry(&self) -> Result<Arc<dyn Registry>, WiringError> {
        match &self.settings.registry {
            Some(RegistrySource::Mlflow(config)) => {
                let client = MlflowClient::new(config.clone())?;
                Ok(Arc::new(MlflowRegistry::new(client)))
            }
            Some(RegistrySource::Snapshot(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| WiringError::SnapshotUnreadable { path: path.clone(), source })?;
                let registry = SnapshotRegistry::from_json(&text)
                    .map_err(|source| WiringError::SnapshotInvalid { path: path.clone(), source })?;
                Ok(Arc::new(registry))
            }
            None => Err(WiringError::NoRegistry),
        }
    }

    /// The configured verdict store; an error when it is a directory and this build has no file store
    /// (deployed functions record in DynamoDB only).
    pub async fn store(&self) -> Result<Option<Arc<dyn VerdictStore>>, WiringError> {
        match &self.settings.store {
            Some(StoreTarget::Dynamo { table }) => {
                Ok(Some(Arc::new(DynamoVerdictStore::new(aws_sdk_dynamodb::Client::new(self.aws().await), table))))
            }
            #[cfg(feature = "files")]
            Some(StoreTarget::Files { dir }) => {
                Ok(Some(Arc::new(deltaone_app::store::file::FileVerdictStore::new(dir))))
            }
            #[cfg(not(feature = "files"))]
            Some(StoreTarget::Files { dir }) => Err(WiringError::FileStoreNotBuilt { dir: dir.clone() }),
            None => Ok(None),
        }
    }

    pub async fn notifier(&self) -> Option<Arc<dyn Notifier>> {
        let topic = self.settings.topic_arn.as_ref()?;
        let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(self.aws().await), topic);
        // Messages over SNS's limit go to DELTAONE_NOTIFICATION_BUCKET when it is set.
        Some(Arc::new(notifier.with_offload_from_env(self.objects().await)))
    }

    /// The contributor credits ledger, when DELTAONE_CREDITS_TABLE is set.
    pub async fn credits(&self) -> Option<Arc<dyn deltaone_app::credits::CreditLedger>> {
        let table = self.settings.credits_table.as_ref()?;
        Some(Arc::new(deltaone_aws::credits::DynamoCredits::new(
            aws_sdk_dynamodb::Client::new(self.aws().await),
            table,
        )))
    }

    pub async fn dead_letters(&self) -> Option<Arc<dyn DeadLetters>> {
        let url = self.settings.dead_letter_queue_url.as_ref()?;
        Some(Arc::new(SqsDeadLetters::new(aws_sdk_sqs::Client::new(self.aws().await), url)))
    }

    pub async fn objects(&self) -> Arc<dyn ObjectStore> {
        Arc::new(S3Objects::new(S3Objects::client(self.aws().await, self.settings.aws_endpoint_url.is_some())))
    }

    /// A checker with the configured registry, store and (if any) notifier.
    pub async fn checker(&self) -> Result<Checker, WiringError> {
        let mut checker = Checker::new(self.registry()?, self.store().await?, self.settings.policy.clone());
        if let Some(notifier) = self.notifier().await {
            checker = checker.with_notifier(notifier);
        }
        if let Some(key) = &self.settings.attestation_key {
            checker = checker.with_signing_key(key.0.clone());
        }
        if let Some(credits) = self.credits().await {
            checker = checker.with_credits(credits);
        }
        // Predictions files named by versions' predictions_uri tags are read from S3 (or locally).
        if let (Some(alias), Some(StoreTarget::Dynamo { table })) =
            (&self.settings.champion_alias, &self.settings.store)
        {
            let lock = deltaone_aws::promotion::DynamoPromotionLock::new(
                aws_sdk_dynamodb::Client::new(self.aws().await),
                table,
            );
            checker = checker.with_champion(alias.clone(), Arc::new(lock));
        }
        let s3 = deltaone_aws::s3::LazyS3Objects::new(self.settings.aws_endpoint_url.clone());
        checker = checker
            .with_predictions(Arc::new(deltaone_predictions::paired::PredictionsReader::new(Some(Arc::new(s3)))));
        Ok(checker)
    }

    /// A checker that only decides: registry, no store, no notifier, no AWS.
    pub fn deciding_checker(&self) -> Result<Checker, WiringError> {
        // Predictions files are read from local paths only: a dry run touches no AWS service.
        let checker = Checker::new(self.registry()?, None, self.settings.policy.clone())
            .with_predictions(Arc::new(deltaone_predictions::paired::PredictionsReader::new(None)));
        Ok(match &self.settings.champion_alias {
            Some(alias) => checker.with_champion(alias.clone(), Arc::new(deltaone_app::promotion::DecideOnly)),
            None => checker,
        })
    }
}
