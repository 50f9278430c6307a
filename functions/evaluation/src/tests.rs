//! The handler over in-memory S3, the shipped registry snapshot, local verdict files, an in-memory
//! topic and dead-letter queue: no servers. The system tests (`tests/tests/evaluation.rs`) run it
//! against moto's S3, SQS, SNS and DynamoDB and a real MLflow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deltaone::{Metrics, Outcome, Policy, Tags, VersionFacts, VersionNumber};
use deltaone_app::deadletter::MemoryDeadLetters;
use deltaone_app::notify::MemoryNotifier;
use deltaone_app::objects::MemoryObjects;
use deltaone_app::registry::snapshot::SAMPLE_REGISTRY;
use deltaone_app::registry::{SnapshotRegistry, WriteBack};
use deltaone_app::store::VerdictStore;
use deltaone_app::store::file::FileVerdictStore;
use serde_json::{Value, json};

use super::*;

const BUCKET: &str = "deltaone-evaluations";
/// The sample upload's key, moved to fraud-detector's version 3 (the snapshot has versions 1–3;
/// version 2 is the tagged baseline at 0.87 accuracy).
const KEY: &str = "evaluations/fraud-detector/3/metrics 2026-11.json";
const MESSAGE_ID: &str = "059f36b4-87a3-44ab-83d2-661975830a7d";

/// The snapshot registry with what an evaluation logs kept, as MLflow keeps it on the version's
/// run: the run's metrics then include the artifact's (a snapshot alone is read-only).
struct EvaluatedRegistry {
    snapshot: SnapshotRegistry,
    logged: Mutex<BTreeMap<(String, VersionNumber), BTreeMap<String, f64>>>,
}

impl EvaluatedRegistry {
    fn logged(&self, model: &str, version: u64) -> Option<BTreeMap<String, f64>> {
        let key = (model.to_owned(), VersionNumber::new(version).unwrap());
        self.logged.lock().unwrap().get(&key).cloned()
    }
}

#[async_trait]
impl Registry for EvaluatedRegistry {
    async fn versions_for_check(
        &self,
        model: &str,
        requested: Option<VersionNumber>,
    ) -> Result<Vec<VersionFacts>, RegistryError> {
        self.snapshot.versions_for_check(model, requested).await
    }
    async fn all_versions(&self, model: &str) -> Result<Vec<VersionFacts>, RegistryError> {
        self.snapshot.all_versions(model).await
    }
    async fn model_tags(&self, model: &str) -> Result<Tags, RegistryError> {
        self.snapshot.model_tags(model).await
    }
    async fn run_metrics(&self, run_id: &str) -> Result<Metrics, RegistryError> {
        let mut metrics = self.snapshot.run_metrics(run_id).await?;
        let version = self.snapshot.snapshot().model_versions.iter().find(|v| v.run_id.as_deref() == Some(run_id));
        if let Some(logged) = version.and_then(|v| self.logged(&v.name, v.version.parse().ok()?)) {
            metrics.extend(logged);
        }
        Ok(metrics)
    }
    async fn model_names(&self) -> Result<Vec<String>, RegistryError> {
        self.snapshot.model_names().await
    }
    async fn write_back(&self, write: &WriteBack) -> Result<(), RegistryError> {
        self.snapshot.write_back(write).await
    }
    async fn log_evaluation(
        &self,
        model: &str,
        version: VersionNumber,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), RegistryError> {
        self.snapshot.all_versions(model).await?;
        let key = (model.to_owned(), version);
        self.logged.lock().unwrap().entry(key).or_default().extend(metrics.clone());
        Ok(())
    }
}

struct Rig {
    evaluation: Evaluation,
    objects: Arc<MemoryObjects>,
    registry: Arc<EvaluatedRegistry>,
    store: Arc<FileVerdictStore>,
    notifier: Arc<MemoryNotifier>,
    parked: Arc<MemoryDeadLetters>,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let objects = Arc::new(MemoryObjects::new());
    let snapshot = SnapshotRegistry::from_json(SAMPLE_REGISTRY).unwrap();
    let registry = Arc::new(EvaluatedRegistry { snapshot, logged: Mutex::default() });
    let store = Arc::new(FileVerdictStore::new(dir.path()));
    let notifier = Arc::new(MemoryNotifier::new());
    let parked = Arc::new(MemoryDeadLetters::new());
    let checker =
        Checker::new(registry.clone(), Some(store.clone()), Policy::default()).with_notifier(notifier.clone());
    let evaluation = Evaluation {
        objects: objects.clone(),
        registry: registry.clone(),
        checker,
        dead_letters: parked.clone(),
        template: KeyTemplate::default(),
        quarantine_prefix: "quarantine/".into(),
    };
    Rig { evaluation, objects, registry, store, notifier, parked, _dir: dir }
}

impl Rig {
    fn upload(&self, key: &str, bytes: &[u8]) {
        self.objects.insert(BUCKET, key, bytes.to_vec(), BTreeMap::new());
    }

    async fn record(&self, model: &str, version: u64) -> Option<deltaone_app::store::VerdictRecord> {
        self.store.get(model, VersionNumber::new(version).unwrap()).await.unwrap()
    }
}

/// The sample SQS event (S3 → SQS), its key moved from `…/4/` to `key`'s model and version.
fn via_sqs(key: &str) -> Value {
    let sample = include_str!("../../../samples/events/s3-put-via-sqs.json");
    let encoded = key.replace(' ', "+");
    serde_json::from_str(&sample.replace("evaluations/fraud-detector/4/metrics+2026-11.json", &encoded)).unwrap()
}

/// The sample S3 event as S3 invokes a function directly.
fn direct(key: &str) -> Value {
    let sample = include_str!("../../../samples/events/s3-put.json");
    let encoded = key.replace(' ', "+");
    serde_json::from_str(&sample.replace("evaluations/fraud-detector/4/metrics+2026-11.json", &encoded)).unwrap()
}

const METRICS: &[u8] = include_bytes!("../../../samples/events/metrics.json");

#[tokio::test]
async fn an_uploaded_artifact_is_logged_checked_recorded_once_and_announced() {
    let rig = rig();
    rig.upload(KEY, METRICS);
    let response = rig.evaluation.handle(via_sqs(KEY)).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));

    let logged = rig.registry.logged("fraud-detector", 3).expect("metrics logged to the version's run");
    assert_eq!((logged["accuracy"], logged["f1"]), (0.915, 0.9));
    // The verdict compares the artifact's accuracy, not the run's earlier 0.88, with the baseline's 0.87.
    let record = rig.record("fraud-detector", 3).await.expect("verdict recorded");
    assert_eq!(record.verdict.outcome, Outcome::Achieved);
    assert_eq!(record.verdict.delta_pp.unwrap().to_string(), "4.5");
    assert!(record.written_back && record.notified, "{record:?}");
    let written = rig.registry.snapshot.written();
    assert_eq!(written.len(), 1);
    assert!(written[0].achieved);

    let published = rig.notifier.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].attributes["event_type"], "deltaone.achieved");
    assert_eq!(published[0].attributes["model_name"], "fraud-detector");
    assert!(rig.parked.parked().is_empty());
}

#[tokio::test]
async fn the_same_delivery_twice_is_checked_and_announced_once() {
    let rig = rig();
    rig.upload(KEY, METRICS);
    for _ in 0..2 {
        let response = rig.evaluation.handle(via_sqs(KEY)).await.unwrap();
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    assert_eq!(rig.store.history("fraud-detector", 10).await.unwrap().len(), 1);
    assert_eq!(rig.notifier.published().len(), 1, "exactly one notice");
    assert_eq!(rig.registry.snapshot.written().len(), 1, "written back once");
}

#[tokio::test]
async fn a_corrupt_artifact_is_quarantined_and_parked_with_the_reason() {
    let rig = rig();
    let bad = b"{\"metrics\": {\"accuracy\": \"high\"}";
    rig.upload(KEY, bad);
    let response = rig.evaluation.handle(via_sqs(KEY)).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}), "a permanent failure is not retried");

    let quarantined = format!("quarantine/{KEY}");
    assert_eq!(rig.objects.bytes(BUCKET, &quarantined).as_deref(), Some(&bad[..]));
    let reason: Value =
        serde_json::from_slice(&rig.objects.bytes(BUCKET, &format!("{quarantined}.reason.json")).unwrap()).unwrap();
    assert_eq!(reason["source"]["key"], KEY);
    assert_eq!(reason["function"], FUNCTION);

    let letters = rig.parked.parked();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].source.as_str(), letters[0].error_type.as_str()), (FUNCTION, "InvalidArtifact"));
    assert_eq!(letters[0].reason, reason["reason"].as_str().unwrap());
    assert_eq!(letters[0].original["messageId"], MESSAGE_ID, "the SQS record is kept whole");
    assert!(rig.record("fraud-detector", 3).await.is_none());
    assert!(rig.notifier.published().is_empty());
}

#[tokio::test]
async fn unknown_models_and_malformed_events_are_parked_not_lost() {
    let rig = rig();
    let unknown = "evaluations/no-such-model/1/metrics.json";
    rig.upload(unknown, METRICS);
    let response = rig.evaluation.handle(via_sqs(unknown)).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    let response = rig.evaluation.handle(json!({"hello": "world"})).await.unwrap();
    assert_eq!(response, json!({"parked": 1}));

    let letters = rig.parked.parked();
    let types: Vec<&str> = letters.iter().map(|l| l.error_type.as_str()).collect();
    assert_eq!(types, ["UnknownModelVersion", "MalformedEvent"]);
    assert!(letters[0].reason.contains("no-such-model"), "{}", letters[0].reason);
    assert_eq!(letters[1].original, json!({"hello": "world"}));
}

#[tokio::test]
async fn a_storage_outage_is_a_batch_item_failure_and_succeeds_once_it_passes() {
    let rig = rig();
    rig.upload(KEY, METRICS);
    rig.objects.set_down(true);
    let response = rig.evaluation.handle(via_sqs(KEY)).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": MESSAGE_ID}]}), "SQS will redeliver it");
    assert!(rig.parked.parked().is_empty(), "not parked: it may pass");
    assert!(rig.record("fraud-detector", 3).await.is_none());

    rig.objects.set_down(false);
    let response = rig.evaluation.handle(via_sqs(KEY)).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert!(rig.record("fraud-detector", 3).await.is_some());
    assert_eq!(rig.notifier.published().len(), 1);
}

#[tokio::test]
async fn a_storage_outage_on_a_direct_s3_event_is_a_retryable_error() {
    let rig = rig();
    rig.upload(KEY, METRICS);
    rig.objects.set_down(true);
    let error = rig.evaluation.handle(direct(KEY)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(lambda_runtime::Diagnostic::from(error).error_type, "Retryable");
    assert!(rig.parked.parked().is_empty());

    rig.objects.set_down(false);
    let response = rig.evaluation.handle(direct(KEY)).await.unwrap();
    assert_eq!(response, json!({"evaluated": 1, "parked": 0}));
}
