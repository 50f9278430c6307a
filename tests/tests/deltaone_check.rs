//! The DeltaOne check against a real MLflow server and DynamoDB (moto), through the same adapters
//! the CLI and the functions use.

use std::str::FromStr;
use std::sync::Arc;

use deltaone::{BaselineSource, Outcome, Policy, Scale, VersionNumber};
use deltaone_app::check::{CheckRequest, Checker, Stored};
use deltaone_app::registry::{Registry, RegistryError};
use deltaone_app::store::VerdictStore;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_mlflow::MlflowRegistry;
use deltaone_system_tests::{NewVersion, Stack, deltaone_binary, unique};
use futures::StreamExt;
use rust_decimal::Decimal;

struct World {
    stack: Stack,
    checker: Checker,
    store: Arc<DynamoVerdictStore>,
}

async fn world() -> World {
    world_with(Policy::default()).await
}

async fn world_with(policy: Policy) -> World {
    let stack = Stack::get();
    let store = Arc::new(DynamoVerdictStore::new(stack.dynamodb().await, unique("verdicts")));
    store.create_table_if_missing().await.expect("create table in moto");
    let registry = Arc::new(MlflowRegistry::new(stack.mlflow_client()));
    let checker = Checker::new(registry, Some(store.clone()), policy);
    World { stack, checker, store }
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn tagged_baseline(value: &str) -> NewVersion {
    NewVersion::tagged(&[("benchmark_value", value), ("benchmark_metric", "accuracy")])
}

fn run(accuracy: f64) -> NewVersion {
    NewVersion::with_run(&[("accuracy", accuracy)])
}

async fn check(world: &World, model: &str, version: Option<u64>) -> deltaone_app::check::CheckReport {
    let request = CheckRequest { model: model.to_owned(), version: version.map(v), dry_run: false };
    world.checker.check(&request).await.expect("check runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_and_a_half_points_is_recorded_tagged_and_logged() {
    let w = world().await;
    let model = unique("plus-1-5");
    let runs = w
        .stack
        .mlflow()
        .create_model_with_versions(&model, &[], &[run(0.85), tagged_baseline("0.9"), run(0.915)])
        .await;

    let report = check(&w, &model, None).await;
    let verdict = &report.verdict;
    assert_eq!(verdict.outcome, Outcome::Achieved, "{}", verdict.reason);
    assert_eq!(verdict.delta_pp, Some(dec("1.5")));
    assert_eq!((verdict.candidate_version, verdict.baseline_version), (Some(v(3)), Some(v(2))));
    assert_eq!(report.stored, Stored::New);
    assert!(report.wrote_back);

    let tags = w.stack.mlflow().version_tags(&model, 3).await;
    assert_eq!(tags["deltaone_achieved"], "true");
    assert_eq!(tags["delta_value"], "1.5");
    assert_eq!(tags["deltaone_baseline_version"], "2");
    assert_eq!(tags["deltaone_checked_at"], report.checked_at);
    let metrics = w.stack.mlflow().run_metrics(runs[2].as_deref().unwrap()).await;
    assert_eq!(metrics["deltaone_achieved"], 1.0);
    assert_eq!(metrics["delta_value"], 1.5);

    let stored = w.store.get(&model, v(3)).await.unwrap().expect("one record");
    assert_eq!(stored.verdict, report.verdict);
    assert!(stored.written_back);
}

#[tokio::test(flavor = "multi_thread")]
async fn point_nine_nine_is_not_achieved_and_tagged_false() {
    let w = world().await;
    let model = unique("plus-0-99");
    w.stack.mlflow().create_model_with_versions(&model, &[], &[tagged_baseline("0.9"), run(0.9099)]).await;
    let report = check(&w, &model, None).await;
    assert_eq!(report.verdict.outcome, Outcome::NotAchieved, "{}", report.verdict.reason);
    assert_eq!(report.verdict.delta_pp, Some(dec("0.99")));
    let tags = w.stack.mlflow().version_tags(&model, 2).await;
    assert_eq!(tags["deltaone_achieved"], "false");
    assert_eq!(tags["delta_value"], "0.99");
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_one_point_at_two_decimals_counts() {
    let w = world().await;
    let model = unique("exact-1-00");
    // 0.88 - 0.87 in binary floating point is 0.010000000000000009; 0.57 - 0.56 is 0.0099999999999999.
    w.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[],
            &[tagged_baseline("0.87"), run(0.88), tagged_baseline("0.56"), run(0.57)],
        )
        .await;
    for (candidate, baseline) in [(2, 1), (4, 3)] {
        let report = check(&w, &model, Some(candidate)).await;
        assert_eq!(report.verdict.baseline_version, Some(v(baseline)));
        assert_eq!(report.verdict.outcome, Outcome::Achieved, "{}", report.verdict.reason);
        assert_eq!(report.verdict.delta_pp, Some(dec("1")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn negative_delta_is_not_achieved() {
    let w = world().await;
    let model = unique("negative");
    w.stack.mlflow().create_model_with_versions(&model, &[], &[tagged_baseline("0.9"), run(0.8)]).await;
    let report = check(&w, &model, None).await;
    assert_eq!(report.verdict.outcome, Outcome::NotAchieved);
    assert_eq!(report.verdict.delta_pp, Some(dec("-10")));
    assert_eq!(w.stack.mlflow().version_tags(&model, 2).await["delta_value"], "-10");
}

#[tokio::test(flavor = "multi_thread")]
async fn single_version_has_no_baseline_and_no_tags_are_written() {
    let w = world().await;
    let model = unique("no-baseline");
    w.stack.mlflow().create_model_with_versions(&model, &[("benchmark_metric", "accuracy")], &[run(0.9)]).await;
    let report = check(&w, &model, None).await;
    assert_eq!(report.verdict.outcome, Outcome::NoBaseline);
    assert!(!report.wrote_back);
    assert!(!w.stack.mlflow().version_tags(&model, 1).await.contains_key("deltaone_achieved"));
    assert_eq!(w.store.get(&model, v(1)).await.unwrap().unwrap().verdict.outcome, Outcome::NoBaseline);
}

#[tokio::test(flavor = "multi_thread")]
async fn baseline_is_older_than_the_candidate_even_when_a_newer_version_is_tagged() {
    let w = world().await;
    let model = unique("older-baseline");
    w.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[],
            &[tagged_baseline("0.80"), tagged_baseline("0.85"), run(0.87), tagged_baseline("0.95"), run(0.96)],
        )
        .await;
    let report = check(&w, &model, Some(3)).await;
    assert_eq!(report.verdict.baseline_version, Some(v(2)), "{}", report.verdict.reason);
    assert_eq!(report.verdict.delta_pp, Some(dec("2")));
    assert_eq!(report.verdict.outcome, Outcome::Achieved);
}

#[tokio::test(flavor = "multi_thread")]
async fn untagged_history_falls_back_to_the_first_version() {
    let w = world().await;
    let model = unique("fallback");
    w.stack
        .mlflow()
        .create_model_with_versions(&model, &[("benchmark_metric", "accuracy")], &[run(0.7), run(0.75), run(0.72)])
        .await;
    let report = check(&w, &model, None).await;
    assert_eq!(report.verdict.baseline_source, Some(BaselineSource::FirstVersion));
    assert_eq!(report.verdict.baseline_version, Some(v(1)));
    assert_eq!(report.verdict.delta_pp, Some(dec("2")));
    assert!(report.verdict.reason.contains("first version 1 is the baseline"), "{}", report.verdict.reason);
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_a_thousand_versions_are_paged_and_checked() {
    let w = world().await;
    let model = unique("many-versions");
    let fixtures = w.stack.mlflow();
    fixtures.create_model(&model, &[]).await;
    let experiment = fixtures.create_experiment(&format!("{model}-runs")).await;
    // Version 3 is the baseline, then 1,046 untagged versions, then the candidate (1,050).
    for version in 1..=3u64 {
        let new = if version == 3 { tagged_baseline("0.9") } else { NewVersion::default() };
        fixtures.create_version(&model, &experiment, &new).await;
    }
    let untagged: Vec<_> = (4..=1049u64)
        .map(|_| {
            let fixtures = fixtures.clone();
            let (model, experiment) = (model.clone(), experiment.clone());
            async move { fixtures.create_version(&model, &experiment, &NewVersion::default()).await }
        })
        .collect();
    futures::stream::iter(untagged).buffer_unordered(4).collect::<Vec<_>>().await;
    fixtures.create_version(&model, &experiment, &run(0.925)).await;

    let report = check(&w, &model, None).await;
    assert_eq!(report.verdict.candidate_version, Some(v(1050)));
    assert_eq!(report.verdict.baseline_version, Some(v(3)));
    assert_eq!(report.verdict.delta_pp, Some(dec("2.5")));

    // Listing every version goes through next_page_token (page size 200 in the harness).
    let registry = MlflowRegistry::new(w.stack.mlflow_client());
    let all = registry.all_versions(&model).await.unwrap();
    let numbers: Vec<u64> = all.iter().map(|f| f.number().get()).collect();
    assert_eq!(numbers, (1..=1050).rev().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn lower_is_better_metric() {
    let w = world().await;
    let model = unique("lower");
    let baseline = NewVersion::tagged(&[("benchmark_value", "0.312")]);
    let candidate = NewVersion::with_run(&[("log_loss", 0.297)]);
    w.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[("benchmark_metric", "log_loss"), ("benchmark_direction", "lower")],
            &[baseline, candidate],
        )
        .await;
    let report = check(&w, &model, None).await;
    assert_eq!(report.verdict.outcome, Outcome::Achieved, "{}", report.verdict.reason);
    assert_eq!(report.verdict.delta_pp, Some(dec("1.5")));
}

#[tokio::test(flavor = "multi_thread")]
async fn nan_and_non_numeric_values_are_typed_verdicts() {
    let w = world().await;
    let fixtures = w.stack.mlflow();

    let nan_tag = unique("nan-tag");
    fixtures.create_model_with_versions(&nan_tag, &[], &[tagged_baseline("NaN"), run(0.9)]).await;
    let report = check(&w, &nan_tag, None).await;
    assert_eq!(report.verdict.outcome, Outcome::NonFiniteValue);
    assert!(report.verdict.reason.contains("NaN is not a finite number"), "{}", report.verdict.reason);

    let words = unique("word-tag");
    let candidate = NewVersion::tagged(&[("accuracy", "ninety")]);
    fixtures.create_model_with_versions(&words, &[], &[tagged_baseline("0.9"), candidate]).await;
    let report = check(&w, &words, None).await;
    assert_eq!(report.verdict.outcome, Outcome::NonFiniteValue);
    assert!(report.verdict.reason.contains("\"ninety\" is not a number"), "{}", report.verdict.reason);

    // MLflow stores a NaN metric and returns it as the string "NaN".
    let nan_metric = unique("nan-metric");
    fixtures.create_model_with_versions(&nan_metric, &[], &[tagged_baseline("0.9"), run(f64::NAN)]).await;
    let report = check(&w, &nan_metric, None).await;
    assert_eq!(report.verdict.outcome, Outcome::NonFiniteValue, "{}", report.verdict.reason);
    assert!(!fixtures.version_tags(&nan_metric, 2).await.contains_key("delta_value"));
}

#[tokio::test(flavor = "multi_thread")]
async fn percent_scale_from_tag_and_inferred() {
    let w = world().await;
    let fixtures = w.stack.mlflow();
    let inferred = unique("percent");
    let base = NewVersion::tagged(&[("benchmark_value", "91.5"), ("benchmark_metric", "accuracy")]);
    fixtures.create_model_with_versions(&inferred, &[], &[base, run(92.75)]).await;
    let report = check(&w, &inferred, None).await;
    assert_eq!(report.verdict.scale, Some(Scale::Percent));
    assert_eq!(report.verdict.delta_pp, Some(dec("1.25")));
    assert_eq!(report.verdict.outcome, Outcome::Achieved);

    let tagged = unique("percent-tag");
    fixtures
        .create_model_with_versions(&tagged, &[("benchmark_scale", "percent")], &[tagged_baseline("0.5"), run(0.9)])
        .await;
    let report = check(&w, &tagged, None).await;
    assert_eq!(report.verdict.scale, Some(Scale::Percent));
    assert_eq!(report.verdict.outcome, Outcome::NotAchieved);

    let mixed = unique("mixed-scale");
    fixtures.create_model_with_versions(&mixed, &[], &[tagged_baseline("0.9"), run(91.0)]).await;
    assert_eq!(check(&w, &mixed, None).await.verdict.outcome, Outcome::ScaleMismatch);
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_checks_make_exactly_one_record() {
    let w = world().await;
    let model = unique("concurrent");
    w.stack.mlflow().create_model_with_versions(&model, &[], &[tagged_baseline("0.9"), run(0.92)]).await;
    let request = CheckRequest { model: model.clone(), version: None, dry_run: false };
    let reports = futures::future::join_all((0..20).map(|_| {
        let checker = w.checker.clone();
        let request = request.clone();
        tokio::spawn(async move { checker.check(&request).await })
    }))
    .await;
    let reports: Vec<_> = reports.into_iter().map(|r| r.expect("task").expect("check")).collect();
    assert_eq!(reports.iter().filter(|r| r.stored == Stored::New).count(), 1);
    assert!(reports.iter().all(|r| r.verdict == reports[0].verdict && r.checked_at == reports[0].checked_at));

    let items = w
        .stack
        .dynamodb()
        .await
        .query()
        .table_name(w.store.table())
        .key_condition_expression("#m = :m")
        .expression_attribute_names("#m", "model")
        .expression_attribute_values(":m", aws_sdk_dynamodb::types::AttributeValue::S(model.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(items.count(), 1);
    // The tag agrees with the one record, whichever check wrote it.
    assert_eq!(w.stack.mlflow().version_tags(&model, 2).await["deltaone_checked_at"], reports[0].checked_at);
}

#[tokio::test(flavor = "multi_thread")]
async fn history_is_newest_first() {
    let w = world().await;
    let model = unique("history");
    w.stack
        .mlflow()
        .create_model_with_versions(&model, &[], &[tagged_baseline("0.8"), run(0.81), run(0.85), run(0.95)])
        .await;
    for version in [3, 2, 4] {
        check(&w, &model, Some(version)).await;
    }
    let history = w.store.history(&model, 10).await.unwrap();
    let versions: Vec<u64> = history.iter().map(|r| r.version.get()).collect();
    assert_eq!(versions, [4, 3, 2]);
    assert_eq!(w.store.history(&model, 2).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_model_and_unknown_version() {
    let w = world().await;
    let request = CheckRequest { model: unique("missing"), version: None, dry_run: false };
    let err = w.checker.check(&request).await.unwrap_err();
    assert!(matches!(err, deltaone_app::check::CheckError::Registry(RegistryError::UnknownModel(_))), "{err}");
    assert!(!err.is_retryable());

    let model = unique("known");
    w.stack.mlflow().create_model_with_versions(&model, &[], &[run(0.9)]).await;
    let report = check(&w, &model, Some(9)).await;
    assert_eq!(report.verdict.outcome, Outcome::NoCandidate);
    assert_eq!(report.stored, Stored::NotStored);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_mlflow_is_a_retryable_error() {
    let stack = Stack::get();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = deltaone_mlflow::MlflowConfig::new(format!("http://127.0.0.1:{port}"));
    config.retries = 1;
    let registry = Arc::new(MlflowRegistry::new(deltaone_mlflow::client::MlflowClient::new(config).unwrap()));
    let store = Arc::new(DynamoVerdictStore::new(stack.dynamodb().await, unique("unused")));
    let checker = Checker::new(registry, Some(store), Policy::default());
    let err = checker.check(&CheckRequest { model: "m".into(), version: None, dry_run: false }).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("cannot reach MLflow"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_checks_records_and_reports_status() {
    let w = world().await;
    let model = unique("cli");
    w.stack.mlflow().create_model_with_versions(&model, &[], &[tagged_baseline("0.9"), run(0.915)]).await;
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(deltaone_binary())
            .args(args)
            .env("MLFLOW_TRACKING_URI", &w.stack.mlflow_url)
            .env("AWS_ENDPOINT_URL", &w.stack.moto_url)
            .env("DELTAONE_VERDICT_TABLE", w.store.table())
            .output()
            .expect("deltaone runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let (code, out, err) = cli(&["check", &model, "--dry-run", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (json["outcome"].as_str(), json["delta_pp"].as_str(), json["stored"].as_str()),
        (Some("achieved"), Some("1.5"), Some("dry_run"))
    );
    assert!(w.store.get(&model, v(2)).await.unwrap().is_none(), "dry run records nothing");

    let (code, out, err) = cli(&["check", &model]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("DeltaOne achieved (+1.5 pp vs v1 on accuracy"), "{out}");
    let (_, out, _) = cli(&["check", &model]);
    assert!(out.contains("already recorded"), "{out}");

    let (code, out, _) = cli(&["status", &model, "--json"]);
    assert_eq!(code, Some(0));
    let records: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(records.as_array().unwrap().len(), 1);

    let (code, _, err) = cli(&["check", &unique("nope")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is not in the registry"), "{err}");

    let (code, _, err) = cli(&["check", &model, "--threshold-pp=-2"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("DELTAONE_THRESHOLD_PP"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_batch_checks_a_models_file_with_bounded_concurrency() {
    let w = world().await;
    let fixtures = w.stack.mlflow();
    let good = unique("batch-good");
    let flat = unique("batch-flat");
    fixtures.create_model_with_versions(&good, &[], &[tagged_baseline("0.9"), run(0.95)]).await;
    fixtures.create_model_with_versions(&flat, &[], &[tagged_baseline("0.9"), run(0.9)]).await;
    let missing = unique("batch-missing");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("models.txt");
    std::fs::write(&file, format!("# models to check\n{good}\n{flat}  # flat one\n\n{missing}\n")).unwrap();

    let output = std::process::Command::new(deltaone_binary())
        .args(["check", "--models-file", file.to_str().unwrap(), "--concurrency", "2", "--json"])
        .env("MLFLOW_TRACKING_URI", &w.stack.mlflow_url)
        .env("AWS_ENDPOINT_URL", &w.stack.moto_url)
        .env("DELTAONE_VERDICT_TABLE", w.store.table())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "one model is missing");
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let find =
        |name: &str| lines.iter().find(|l| l["model"] == name).unwrap_or_else(|| panic!("{name} in {lines:?}")).clone();
    assert_eq!(find(&good)["outcome"], "achieved");
    assert_eq!(find(&flat)["outcome"], "not_achieved");
    assert!(find(&missing)["error"].as_str().unwrap().contains("not in the registry"));
    assert_eq!(find(&missing)["retryable"], false);
}

#[test]
fn demo_prints_achieved_not_achieved_and_no_baseline_verdicts() {
    let output = std::process::Command::new(deltaone_binary()).arg("demo").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "fraud-detector v3: DeltaOne achieved (+1 pp vs v2 on accuracy",
        "churn-predictor v2: not a DeltaOne (+0.74 pp",
        "recsys-ranker v1: no baseline",
        "credit-risk v3: DeltaOne achieved (+1.5 pp",
        "search-ctr v2: DeltaOne achieved (+1.1 pp",
        "pricing-model v2: non finite value",
        "dataset: 3 of 6 columns drifted",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let channel = out.lines().find(|l| l.trim_start().starts_with("channel")).expect("a channel row");
    assert!(channel.contains(" DRIFT (severe) ") && channel.contains("Jensen-Shannon"), "verdict and why: {channel}");
    let report = out.lines().find_map(|l| l.strip_prefix("Report: ")).expect("report path printed");
    let html = std::fs::read_to_string(report).unwrap();
    assert!(html.contains("<svg") && html.contains("amount"), "a self-contained report with histograms");
}

#[test]
fn check_all_dry_run_over_a_snapshot_checks_every_model() {
    let snapshot = concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/registry/snapshot.json");
    let output = std::process::Command::new(deltaone_binary())
        .args(["--registry-snapshot", snapshot, "check", "--all", "--dry-run", "--json", "--concurrency", "3"])
        .env_remove("MLFLOW_TRACKING_URI")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|l| l["stored"] == "dry_run"));
    let achieved = lines.iter().filter(|l| l["outcome"] == "achieved").count();
    assert_eq!(achieved, 3);
}

#[test]
fn help_teaches_the_rule_and_every_setting_names_its_variable() {
    let output = std::process::Command::new(deltaone_binary()).args(["help", "check"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in ["--dry-run", "--models-file", "MLFLOW_TRACKING_URI", "DELTAONE_THRESHOLD_PP", "benchmark_value"] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_attests_verdicts_and_verify_detects_tampering() {
    let w = world().await;
    let model = unique("attested");
    w.stack.mlflow().create_model_with_versions(&model, &[], &[tagged_baseline("0.9"), run(0.915)]).await;
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        std::process::Command::new(deltaone_binary())
            .args(args)
            .env("MLFLOW_TRACKING_URI", &w.stack.mlflow_url)
            .env("DELTAONE_STORE_DIR", dir.path())
            .env("DELTAONE_ATTESTATION_KEY", seed)
            .output()
            .expect("deltaone runs")
    };
    assert!(cli(&["check", &model]).status.success());
    let public = String::from_utf8(cli(&["attestation", "public-key"]).stdout).unwrap();
    let public_key =
        public.lines().find_map(|l| l.strip_prefix("public_key: ")).expect("public key printed").to_owned();

    let status = cli(&["status", &model, "--json"]);
    let records: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let record = &records[0];
    let file = dir.path().join("record.json");
    std::fs::write(&file, record.to_string()).unwrap();
    let ok = cli(&["verify", file.to_str().unwrap(), "--public-key", &public_key]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success() && out.starts_with("valid:") && out.contains("+1.5 pp"), "{out}");

    let audit = cli(&["audit", &model, "--public-key", &public_key]);
    let out = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success() && out.starts_with("chain holds: 1 attested"), "{out}");

    let mut tampered = record.clone();
    tampered["attestation"]["statement"]["delta_pp"] = serde_json::json!("2.5");
    std::fs::write(&file, tampered.to_string()).unwrap();
    let bad = cli(&["verify", file.to_str().unwrap(), "--public-key", &public_key]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).starts_with("invalid:"));

    let other_key = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let stranger = std::process::Command::new(deltaone_binary())
        .args(["verify", "-", "--public-key", other_key])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(record.to_string().as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(stranger.status.code(), Some(1), "a statement signed by another key is not trusted");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_attested_verdicts_form_one_chain_and_tampering_breaks_the_audit() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use deltaone_app::audit::{AuditError, audit};

    let key = Arc::new(deltaone::attestation::signing_key_from_seed(&[9; 32]).unwrap());
    let mut w = world().await;
    // Chain links are conditional transactions; moto's threaded server does not isolate them from
    // concurrent requests (DynamoDB does), so this test has a server that takes one at a time.
    let moto = deltaone_system_tests::PrivateMoto::start(true).await;
    let db = aws_sdk_dynamodb::Client::new(&moto.config().await);
    w.store = Arc::new(DynamoVerdictStore::new(db.clone(), unique("verdicts")));
    w.store.create_table_if_missing().await.expect("create table in moto");
    let registry = Arc::new(MlflowRegistry::new(w.stack.mlflow_client()));
    w.checker = Checker::new(registry, Some(w.store.clone()), Policy::default()).with_signing_key(key.clone());
    let model = unique("chain");
    let versions = [tagged_baseline("0.8"), run(0.81), run(0.83), run(0.85), run(0.9), run(0.95)];
    w.stack.mlflow().create_model_with_versions(&model, &[], &versions).await;

    // Versions 2..=6 checked at once: each statement must still link to exactly one predecessor.
    let checks = (2..=6).map(|version| {
        let checker = w.checker.clone();
        let request = CheckRequest { model: model.clone(), version: Some(v(version)), dry_run: false };
        tokio::spawn(async move { checker.check(&request).await })
    });
    for result in futures::future::join_all(checks).await {
        result.unwrap().unwrap();
    }
    let trusted = key.verifying_key();
    let report = audit(w.store.as_ref(), &model, Some(&trusted)).await.unwrap();
    assert_eq!((report.records, report.attested), (5, 5));

    let item_key = |version: &str| {
        std::collections::HashMap::from([
            ("model".to_owned(), AttributeValue::S(model.clone())),
            ("version".to_owned(), AttributeValue::N(version.to_owned())),
        ])
    };
    let get_record = |version: &'static str| {
        let db = db.clone();
        let key = item_key(version);
        let table = w.store.table().to_owned();
        async move { db.get_item().table_name(table).set_key(Some(key)).send().await.unwrap().item.unwrap() }
    };

    // Edit one record's delta inside its signed statement: the signature no longer holds.
    let original = get_record("4").await;
    let mut edited = original.clone();
    let json = original["record"].as_s().unwrap().replace("\"delta_pp\":\"5\"", "\"delta_pp\":\"9\"");
    assert_ne!(json, *original["record"].as_s().unwrap(), "the record carries delta 5 pp");
    edited.insert("record".into(), AttributeValue::S(json));
    db.put_item().table_name(w.store.table()).set_item(Some(edited)).send().await.unwrap();
    let err = audit(w.store.as_ref(), &model, Some(&trusted)).await.unwrap_err();
    assert!(matches!(err, AuditError::Broken(_) | AuditError::Unlinked(_)), "{err}");
    db.put_item().table_name(w.store.table()).set_item(Some(original.clone())).send().await.unwrap();
    audit(w.store.as_ref(), &model, Some(&trusted)).await.unwrap();

    // Remove one record: whichever it is, the audit names what broke.
    db.delete_item().table_name(w.store.table()).set_key(Some(item_key("4"))).send().await.unwrap();
    let err = audit(w.store.as_ref(), &model, Some(&trusted)).await.unwrap_err();
    assert!(matches!(err, AuditError::Unlinked(_) | AuditError::HeadMismatch { .. }), "{err}");
}
