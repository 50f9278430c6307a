//! Confidence intervals and guardrails against a real MLflow server (and DynamoDB in moto): each
//! version names its predictions file in a `predictions_uri` tag, as the evaluation function leaves
//! it, and the check pairs the two files by row id.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch};
use deltaone::confidence::Method;
use deltaone::{ConfidenceStatus, GuardrailStatus, Outcome, Policy};
use deltaone_app::check::{CheckRequest, Checker, Stored};
use deltaone_app::paired::PREDICTIONS_URI;
use deltaone_app::store::VerdictStore;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_mlflow::MlflowRegistry;
use deltaone_predictions::paired::PredictionsReader;
use deltaone_system_tests::{NewVersion, Stack, unique};
use parquet::arrow::ArrowWriter;
use rust_decimal::Decimal;

/// Writes one version's hard predictions on `rows` rows: right where `right(row id)`. The candidate's
/// file lists the rows in reverse, so pairing has to go by row id.
fn predictions_file(dir: &std::path::Path, name: &str, rows: usize, right: impl Fn(usize) -> bool) -> String {
    let ids: Vec<i64> =
        if name.starts_with("cand") { (0..rows as i64).rev().collect() } else { (0..rows as i64).collect() };
    let labels: Vec<bool> = ids.iter().map(|&id| id % 3 == 0).collect();
    let predicted: Vec<bool> =
        ids.iter().zip(&labels).map(|(&id, &label)| if right(id as usize) { label } else { !label }).collect();
    let batch = RecordBatch::try_from_iter([
        ("row_id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("label", Arc::new(BooleanArray::from(labels)) as ArrayRef),
        ("prediction", Arc::new(BooleanArray::from(predicted)) as ArrayRef),
    ])
    .unwrap();
    let path = dir.join(name);
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path.to_str().unwrap().to_owned()
}

struct Case {
    _dir: tempfile::TempDir,
    model: String,
    checker: Checker,
    store: Arc<DynamoVerdictStore>,
}

/// A model whose baseline (version 1) gets 80 % of `rows` right and whose candidate (version 2)
/// gets 81.2 % right: +1.2 pp on the same rows. The baseline has a `latency_ms` tag of 100;
/// `candidate_metrics` go to the candidate's run beside its accuracy.
async fn plus_1_2_pp(
    rows: usize,
    policy: Policy,
    model_tags: &[(&str, &str)],
    candidate_metrics: &[(&str, f64)],
) -> Case {
    let stack = Stack::get();
    let dir = tempfile::tempdir().unwrap();
    let base_right = rows * 80 / 100;
    let cand_right = rows * 812 / 1000;
    // The candidate fixes rows [base_right, cand_right + k) and breaks [0, k): discordant both ways,
    // as real models are (500 rows: 18 fixed, 12 broken; 200,000 rows: 7,200 and 4,800).
    let k = (cand_right - base_right) * 2;
    let base = predictions_file(dir.path(), "base.parquet", rows, |i| i < base_right);
    let cand = predictions_file(dir.path(), "cand.parquet", rows, |i| i >= k && i < cand_right + k);
    let model = unique(&format!("confidence-{rows}"));
    let baseline = NewVersion::tagged(&[
        ("benchmark_value", "0.8"),
        ("benchmark_metric", "accuracy"),
        ("latency_ms", "100"),
        (PREDICTIONS_URI, &base),
    ]);
    let mut metrics = vec![("accuracy", 0.812)];
    metrics.extend_from_slice(candidate_metrics);
    let candidate = NewVersion::with_run(&metrics).tag(PREDICTIONS_URI, &cand);
    stack.mlflow().create_model_with_versions(&model, model_tags, &[baseline, candidate]).await;
    let store = Arc::new(DynamoVerdictStore::new(stack.dynamodb().await, unique("verdicts")));
    store.create_table_if_missing().await.expect("create table in moto");
    // Predictions files are read from the local paths the versions' tags name, as the CLI's wiring does.
    let checker = Checker::new(Arc::new(MlflowRegistry::new(stack.mlflow_client())), Some(store.clone()), policy)
        .with_predictions(Arc::new(PredictionsReader::new(None)));
    Case { _dir: dir, model, checker, store }
}

fn require_confidence() -> Policy {
    Policy::default().requiring_confidence(true)
}

async fn check(case: &Case) -> deltaone_app::check::CheckReport {
    let request = CheckRequest { model: case.model.clone(), version: None, dry_run: false };
    case.checker.check(&request).await.expect("check runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn plus_1_2_pp_on_500_rows_is_not_significant_under_require_confidence() {
    let case = plus_1_2_pp(500, require_confidence(), &[], &[]).await;
    let report = check(&case).await;
    let verdict = &report.verdict;
    assert_eq!(verdict.delta_pp, Some("1.2".parse::<Decimal>().unwrap()));
    assert_eq!(verdict.outcome, Outcome::NotAchieved, "{}", verdict.reason);
    assert!(verdict.reason.contains("achieved on the point estimate; not significant at 95 %"), "{}", verdict.reason);
    let c = verdict.confidence.as_ref().expect("an interval");
    assert_eq!((c.status, c.method, c.rows), (ConfidenceStatus::Computed, Some(Method::McnemarExact), Some(500)));
    assert_eq!(c.estimate_pp, Some("1.2".parse().unwrap()));
    assert!(c.lower_pp.unwrap() < Decimal::ONE, "{c:?}");
    // Recorded and written back as not achieved, with the interval in the record.
    assert_eq!(report.stored, Stored::New);
    let record = case.store.get(&case.model, verdict.candidate_version.unwrap()).await.unwrap().unwrap();
    assert_eq!(record.verdict.confidence, verdict.confidence);
    let tags = Stack::get().mlflow().version_tags(&case.model, 2).await;
    assert_eq!(tags["deltaone_achieved"], "false");

    // The same set without the policy: achieved on the point estimate, and the reason says how sure.
    let relaxed = plus_1_2_pp(500, Policy::default(), &[], &[]).await;
    let report = check(&relaxed).await;
    assert_eq!(report.verdict.outcome, Outcome::Achieved, "{}", report.verdict.reason);
    assert!(report.verdict.reason.contains("not significant at 95 %"), "{}", report.verdict.reason);
}

#[tokio::test(flavor = "multi_thread")]
async fn plus_1_2_pp_on_200000_rows_is_achieved_under_require_confidence() {
    let case = plus_1_2_pp(200_000, require_confidence(), &[], &[]).await;
    let report = check(&case).await;
    let verdict = &report.verdict;
    assert_eq!(verdict.outcome, Outcome::Achieved, "{}", verdict.reason);
    let c = verdict.confidence.as_ref().expect("an interval");
    assert_eq!((c.rows, c.significant), (Some(200_000), Some(true)));
    assert!(c.lower_pp.unwrap() >= Decimal::ONE && c.upper_pp.unwrap() > "1.2".parse().unwrap(), "{c:?}");
    let tags = Stack::get().mlflow().version_tags(&case.model, 2).await;
    assert_eq!(tags["deltaone_achieved"], "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guardrail_regression_blocks_an_otherwise_achieved_candidate() {
    let guardrails = r#"[{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10}]"#;
    let tags = [("benchmark_guardrails", guardrails)];
    // Significant on 200,000 rows, but 30 % slower than the baseline.
    let case = plus_1_2_pp(200_000, require_confidence(), &tags, &[("latency_ms", 130.0)]).await;
    let verdict = check(&case).await.verdict;
    assert_eq!(verdict.confidence.as_ref().unwrap().significant, Some(true));
    assert_eq!(verdict.outcome, Outcome::NotAchieved, "{}", verdict.reason);
    assert_eq!(verdict.guardrails.len(), 1);
    let g = &verdict.guardrails[0];
    assert_eq!((g.status, g.regression), (GuardrailStatus::Regressed, Some("30".parse().unwrap())));
    assert!(verdict.reason.contains("latency_ms regressed"), "{}", verdict.reason);

    // Within the allowance it passes, and the same candidate is achieved.
    let case = plus_1_2_pp(200_000, require_confidence(), &tags, &[("latency_ms", 104.0)]).await;
    let verdict = check(&case).await.verdict;
    assert_eq!(verdict.outcome, Outcome::Achieved, "{}", verdict.reason);
    assert_eq!(verdict.guardrails[0].status, GuardrailStatus::Passed);

    // Without the candidate's latency the guardrail is missing: its own outcome, not a guess.
    let case = plus_1_2_pp(500, Policy::default(), &tags, &[]).await;
    let verdict = check(&case).await.verdict;
    assert_eq!(verdict.outcome, Outcome::MetricMissing, "{}", verdict.reason);
    assert_eq!(verdict.guardrails[0].status, GuardrailStatus::Missing);
}
