//! The handler on the shipped registry snapshot with local verdict files and in-memory watermarks and
//! dead letters: no servers. The system test (`tests/tests/registry_sweep.rs`) runs it against MLflow
//! (a webhook delivery dropped on purpose), DynamoDB and SNS.

use std::collections::HashMap;

use deltaone::Policy;
use deltaone_app::check::Checker;
use deltaone_app::deadletter::MemoryDeadLetters;
use deltaone_app::registry::SnapshotRegistry;
use deltaone_app::registry::snapshot::SAMPLE_REGISTRY;
use deltaone_app::store::file::FileVerdictStore;
use deltaone_app::sweep::MemoryWatermarks;

use super::*;

/// A day after the snapshot's newest version was created.
const NOW_MS: i64 = 1_767_484_800_000 + 24 * 3600 * 1000;

fn function(models: Option<Vec<String>>, dir: &std::path::Path) -> RegistrySweep {
    let registry = Arc::new(SnapshotRegistry::from_json(SAMPLE_REGISTRY).unwrap());
    let store = Arc::new(FileVerdictStore::new(dir));
    let settings = SweepSettings { models, lookback: Duration::from_secs(30 * 24 * 3600), ..Default::default() };
    let sweep = Sweep {
        registry: registry.clone(),
        store: store.clone(),
        checker: Checker::new(registry, Some(store), Policy::default()),
        watermarks: Arc::new(MemoryWatermarks::new()),
        dead_letters: Some(Arc::new(MemoryDeadLetters::new())),
        settings,
        source: FUNCTION.into(),
    };
    RegistrySweep { sweep, clock: Arc::new(|| NOW_MS) }
}

#[tokio::test]
async fn a_scheduled_event_sweeps_and_answers_the_report_and_a_second_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let function = function(Some(vec!["fraud-detector".into(), "churn-predictor".into()]), dir.path());
    let event = serde_json::json!({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}});
    let first = function.handle(event.clone()).await.unwrap();
    let reconciled: Vec<_> = first["models"].as_array().unwrap().iter().map(|m| m["reconciled"].clone()).collect();
    assert_eq!(reconciled, [3, 2], "{first}");
    assert_eq!(first["models"][0]["watermark_after"], "3");

    let second = function.handle(event).await.unwrap();
    let examined: Vec<_> = second["models"].as_array().unwrap().iter().map(|m| m["examined"].clone()).collect();
    assert_eq!(examined, [0, 0], "{second}");
}

#[tokio::test]
async fn a_model_whose_sweep_stopped_fails_the_run_naming_it_after_the_others_ran() {
    let dir = tempfile::tempdir().unwrap();
    let function = function(Some(vec!["gone-model".into(), "fraud-detector".into()]), dir.path());
    let e = function.handle(Value::Null).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "the sweep of 1 model(s) stopped early (gone-model); settled versions are kept, the next sweep resumes"
    );
    assert_eq!(Diagnostic::from(e).error_type, "SweepStopped");
    let store = FileVerdictStore::new(dir.path());
    use deltaone_app::store::VerdictStore;
    assert_eq!(store.history("fraud-detector", 10).await.unwrap().len(), 3, "the other model was swept");
}

#[test]
fn the_metrics_line_is_valid_emf_with_the_reconciled_count() {
    let mut report = SweepReport::default();
    report.models.push(deltaone_app::sweep::ModelSweep {
        model: "m".into(),
        reconciled: 2,
        parked: 1,
        ..Default::default()
    });
    let line = metrics(&report, Duration::from_millis(40)).line(NOW_MS);
    assert_eq!(emf::validate(&line), Ok(()));
    let value: Value = serde_json::from_str(&line).unwrap();
    assert_eq!((value["ReconciledVersions"].as_f64(), value["ParkedVersions"].as_f64()), (Some(2.0), Some(1.0)));
    assert_eq!((value["Function"].as_str(), value["SweepDuration"].as_f64()), (Some(FUNCTION), Some(40.0)));
}

#[test]
fn settings_come_from_the_environment_and_a_bad_one_is_named() {
    let vars = |pairs: &[(&str, &str)]| {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |name: &str| map.get(name).cloned()
    };
    assert_eq!(settings_from(vars(&[])).unwrap(), SweepSettings::default());
    let set = settings_from(vars(&[
        (env::SWEEP_MODELS, " a, b ,,"),
        (env::SWEEP_SETTLE_SECS, "30"),
        (env::SWEEP_LOOKBACK_HOURS, "48"),
        (env::SWEEP_MAX_CHECKS, "7"),
    ]))
    .unwrap();
    assert_eq!(set.models, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(
        (set.settle, set.lookback, set.max_checks),
        (Duration::from_secs(30), Duration::from_secs(48 * 3600), 7)
    );

    let line = |pairs: &[(&str, &str)]| deltaone_app::startup::line(FUNCTION, &settings_from(vars(pairs)).unwrap_err());
    assert_eq!(
        line(&[(env::SWEEP_SETTLE_SECS, "soon")]),
        "registry-sweep cannot start: DELTAONE_SWEEP_SETTLE_SECS: \"soon\" is not a whole number in 0..=86400"
    );
    assert_eq!(
        line(&[(env::SWEEP_MAX_CHECKS, "0")]),
        "registry-sweep cannot start: DELTAONE_SWEEP_MAX_CHECKS: 0 checks a sweep would never settle anything"
    );
    assert_eq!(
        line(&[(env::SWEEP_MODELS, ", ,")]),
        "registry-sweep cannot start: DELTAONE_SWEEP_MODELS: \", ,\" names no model"
    );
}

#[tokio::test]
async fn a_missing_verdict_table_stops_the_start_with_one_line_naming_it() {
    // SAFETY: the test reads the environment only through `from_env`, after this change.
    unsafe {
        std::env::remove_var(env::VERDICT_TABLE);
    }
    let Err(e) = from_env().await else { panic!("started without its required setting") };
    assert_eq!(
        deltaone_app::startup::line(FUNCTION, &e),
        "registry-sweep cannot start: DELTAONE_VERDICT_TABLE: is not set: the sweep finds versions without a verdict there"
    );
}
