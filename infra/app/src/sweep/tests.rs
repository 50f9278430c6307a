//! The sweep over the shipped registry snapshot (fraud-detector: versions 1, 2, 3 created a day
//! apart, none with a verdict), local verdict files and in-memory watermarks and dead letters. The
//! system test (`tests/tests/registry_sweep.rs`) runs it against MLflow and DynamoDB.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use deltaone::{Metrics, Policy, Tags, VersionFacts};

use super::*;
use crate::deadletter::MemoryDeadLetters;
use crate::registry::snapshot::SAMPLE_REGISTRY;
use crate::registry::{SnapshotRegistry, WriteBack};
use crate::store::file::FileVerdictStore;

const MODEL: &str = "fraud-detector";
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Version 3's creation time in the snapshot; versions 1 and 2 are one and two days older.
const V3_CREATED: i64 = 1_767_484_800_000;

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

/// The snapshot, optionally failing version checks while `down` is set, and listing versions
/// the registry no longer has (`ghosts`).
struct Flaky {
    inner: SnapshotRegistry,
    down_for: Option<VersionNumber>,
    down: AtomicBool,
    ghosts: Vec<VersionNumber>,
}

#[async_trait]
impl Registry for Flaky {
    async fn versions_for_check(
        &self,
        model: &str,
        requested: Option<VersionNumber>,
    ) -> Result<Vec<VersionFacts>, RegistryError> {
        if self.down.load(Ordering::SeqCst) && requested == self.down_for {
            return Err(RegistryError::Unavailable("MLflow answered 503".into()));
        }
        self.inner.versions_for_check(model, requested).await
    }
    async fn versions_after(
        &self,
        model: &str,
        after: Option<VersionNumber>,
        limit: usize,
    ) -> Result<Vec<CreatedVersion>, RegistryError> {
        let mut listed = self.inner.versions_after(model, after, limit).await?;
        let ghosts = self.ghosts.iter().filter(|g| after.is_none_or(|a| **g > a));
        listed.extend(ghosts.map(|&version| CreatedVersion { version, created_ms: Some(V3_CREATED) }));
        listed.sort_by_key(|c| c.version);
        Ok(listed)
    }
    async fn all_versions(&self, model: &str) -> Result<Vec<VersionFacts>, RegistryError> {
        self.inner.all_versions(model).await
    }
    async fn model_tags(&self, model: &str) -> Result<Tags, RegistryError> {
        self.inner.model_tags(model).await
    }
    async fn run_metrics(&self, run_id: &str) -> Result<Metrics, RegistryError> {
        self.inner.run_metrics(run_id).await
    }
    async fn model_names(&self) -> Result<Vec<String>, RegistryError> {
        self.inner.model_names().await
    }
    async fn write_back(&self, write: &WriteBack) -> Result<(), RegistryError> {
        self.inner.write_back(write).await
    }
    async fn log_evaluation(
        &self,
        model: &str,
        version: VersionNumber,
        metrics: &BTreeMap<String, f64>,
    ) -> Result<(), RegistryError> {
        self.inner.log_evaluation(model, version, metrics).await
    }
}

struct Rig {
    sweep: Sweep,
    registry: Arc<Flaky>,
    store: Arc<FileVerdictStore>,
    watermarks: Arc<MemoryWatermarks>,
    dead_letters: Arc<MemoryDeadLetters>,
    _dir: tempfile::TempDir,
}

fn rig_with(registry: Flaky, settings: SweepSettings) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let registry = Arc::new(registry);
    let store = Arc::new(FileVerdictStore::new(dir.path()));
    let watermarks = Arc::new(MemoryWatermarks::new());
    let dead_letters = Arc::new(MemoryDeadLetters::new());
    let checker = Checker::new(registry.clone(), Some(store.clone()), Policy::default());
    let sweep = Sweep {
        registry: registry.clone(),
        store: store.clone(),
        checker,
        watermarks: watermarks.clone(),
        dead_letters: Some(dead_letters.clone()),
        settings,
        source: "registry-sweep".into(),
    };
    Rig { sweep, registry, store, watermarks, dead_letters, _dir: dir }
}

fn snapshot() -> Flaky {
    Flaky {
        inner: SnapshotRegistry::from_json(SAMPLE_REGISTRY).unwrap(),
        down_for: None,
        down: AtomicBool::new(false),
        ghosts: Vec::new(),
    }
}

fn settings() -> SweepSettings {
    SweepSettings {
        models: Some(vec![MODEL.into()]),
        lookback: Duration::from_secs(30 * 24 * 3600),
        ..Default::default()
    }
}

fn rig() -> Rig {
    rig_with(snapshot(), settings())
}

async fn sweep_at(rig: &Rig, now_ms: i64) -> ModelSweep {
    let report = rig.sweep.run(now_ms).await.unwrap();
    assert_eq!(report.models.len(), 1, "{report:?}");
    report.models.into_iter().next().unwrap()
}

async fn verdicts(rig: &Rig) -> Vec<u64> {
    let mut found = Vec::new();
    for n in 1..=5 {
        if rig.store.get(MODEL, v(n)).await.unwrap().is_some() {
            found.push(n);
        }
    }
    found
}

#[tokio::test]
async fn every_version_without_a_verdict_is_checked_once_and_a_second_sweep_finds_nothing() {
    let rig = rig();
    let first = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((first.examined, first.reconciled, first.had_verdict), (3, 3, 0), "{first:?}");
    assert_eq!((first.watermark_before, first.watermark_after), (None, Some(v(3))));
    assert_eq!(verdicts(&rig).await, [1, 2, 3]);
    assert_eq!(rig.watermarks.get(MODEL).await.unwrap(), Some(v(3)));
    let written = rig.registry.inner.written().len();

    let second = sweep_at(&rig, V3_CREATED + 2 * DAY_MS).await;
    assert_eq!((second.examined, second.reconciled), (0, 0), "{second:?}");
    assert_eq!(second.watermark_after, Some(v(3)));
    assert_eq!(rig.registry.inner.written().len(), written, "nothing checked twice");
}

#[tokio::test]
async fn versions_whose_event_was_not_lost_are_counted_not_checked_again() {
    let rig = rig();
    let request = CheckRequest { model: MODEL.into(), version: Some(v(2)), dry_run: false };
    let checked_at = rig.sweep.checker.check(&request).await.unwrap().checked_at;
    let swept = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((swept.had_verdict, swept.reconciled), (1, 2), "{swept:?}");
    let record = rig.store.get(MODEL, v(2)).await.unwrap().unwrap();
    assert_eq!(record.checked_at, checked_at, "version 2 keeps the verdict of its own check");
}

#[tokio::test]
async fn a_version_younger_than_the_settle_time_is_left_to_its_event_until_a_later_sweep() {
    let rig = rig();
    // One minute after version 3 was created: its webhook is probably on its way.
    let early = sweep_at(&rig, V3_CREATED + 60_000).await;
    assert_eq!((early.reconciled, early.deferred), (2, 1), "{early:?}");
    assert_eq!(early.watermark_after, Some(v(2)));
    assert_eq!(verdicts(&rig).await, [1, 2]);

    let later = sweep_at(&rig, V3_CREATED + 10 * 60_000).await;
    assert_eq!((later.reconciled, later.deferred, later.watermark_after), (1, 0, Some(v(3))), "{later:?}");
}

#[tokio::test]
async fn a_first_sweep_passes_over_versions_older_than_the_lookback() {
    let settings = SweepSettings { lookback: Duration::from_secs(12 * 3600), ..settings() };
    let rig = rig_with(snapshot(), settings);
    let swept = sweep_at(&rig, V3_CREATED + 3_600_000).await;
    assert_eq!((swept.before_lookback, swept.reconciled), (2, 1), "{swept:?}");
    assert_eq!(swept.watermark_after, Some(v(3)));
    assert_eq!(verdicts(&rig).await, [3]);
}

#[tokio::test]
async fn the_check_budget_defers_the_rest_to_the_next_sweep() {
    let rig = rig_with(snapshot(), SweepSettings { max_checks: 2, ..settings() });
    let first = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((first.reconciled, first.deferred, first.watermark_after), (2, 1, Some(v(2))), "{first:?}");
    let second = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((second.reconciled, second.watermark_after), (1, Some(v(3))), "{second:?}");
    assert_eq!(verdicts(&rig).await, [1, 2, 3]);
}

#[tokio::test]
async fn a_registry_failure_keeps_what_was_settled_and_the_next_sweep_resumes_there() {
    let registry = Flaky { down_for: Some(v(2)), down: AtomicBool::new(true), ..snapshot() };
    let rig = rig_with(registry, settings());
    let failed = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((failed.reconciled, failed.watermark_after), (1, Some(v(1))), "{failed:?}");
    let error = failed.error.expect("the failure is reported");
    assert!(error.contains("fraud-detector version 2") && error.contains("503"), "{error}");
    assert_eq!(verdicts(&rig).await, [1]);

    rig.registry.down.store(false, Ordering::SeqCst);
    let resumed = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((resumed.watermark_before, resumed.reconciled, resumed.error), (Some(v(1)), 2, None));
    assert_eq!(verdicts(&rig).await, [1, 2, 3]);
}

#[tokio::test]
async fn a_version_gone_from_the_registry_is_parked_with_the_reason_and_passed() {
    let registry = Flaky { ghosts: vec![v(4)], ..snapshot() };
    let rig = rig_with(registry, settings());
    let swept = sweep_at(&rig, V3_CREATED + DAY_MS).await;
    assert_eq!((swept.reconciled, swept.parked, swept.watermark_after), (3, 1, Some(v(4))), "{swept:?}");
    let parked = rig.dead_letters.parked();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].source, "registry-sweep");
    assert_eq!(parked[0].original, serde_json::json!({"model": MODEL, "version": "4"}));
    assert!(parked[0].reason.contains("version 4"), "{}", parked[0].reason);
}

#[tokio::test]
async fn an_unknown_model_is_reported_and_the_other_models_are_still_swept() {
    let settings = SweepSettings { models: Some(vec!["no-such-model".into(), MODEL.into()]), ..settings() };
    let rig = rig_with(snapshot(), settings);
    let report = rig.sweep.run(V3_CREATED + DAY_MS).await.unwrap();
    let failed: Vec<_> = report.failed().map(|m| m.model.as_str()).collect();
    assert_eq!(failed, ["no-such-model"]);
    assert_eq!(report.reconciled(), 3);
}

#[tokio::test]
async fn without_a_model_list_every_registered_model_is_swept() {
    let rig = rig_with(snapshot(), SweepSettings { models: None, ..settings() });
    let report = rig.sweep.run(V3_CREATED + DAY_MS).await.unwrap();
    let models: Vec<_> = report.models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(models.len(), 6, "{models:?}");
    assert_eq!(report.reconciled(), 13, "every version of the snapshot: {report:?}");
}

#[tokio::test]
async fn a_watermark_moves_only_from_where_the_mover_read_it() {
    let marks = MemoryWatermarks::new();
    assert!(marks.advance(MODEL, None, v(2)).await.unwrap());
    assert!(!marks.advance(MODEL, None, v(3)).await.unwrap(), "a second first sweep lost the race");
    assert!(!marks.advance(MODEL, Some(v(1)), v(3)).await.unwrap());
    assert!(marks.advance(MODEL, Some(v(2)), v(3)).await.unwrap());
    assert_eq!(marks.get(MODEL).await.unwrap(), Some(v(3)));
}
