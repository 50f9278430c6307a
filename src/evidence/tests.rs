use super::*;
use crate::confidence::{Method, Predictions};
use crate::rule::select;
use crate::{VersionFacts, VersionNumber, tags};

fn n(v: u64) -> VersionNumber {
    VersionNumber::new(v).unwrap()
}

fn baseline(value: &str, metric: &str) -> VersionFacts {
    VersionFacts::new(n(1)).with_tag(tags::BENCHMARK_VALUE, value).with_tag(tags::BENCHMARK_METRIC, metric)
}

fn candidate(metric: &str, value: f64) -> VersionFacts {
    VersionFacts::new(n(2)).with_metric(metric, value)
}

/// Paired hard predictions with the given cells: rows both models get right, candidate-only right,
/// baseline-only right, both wrong. Labels alternate so both classes are present.
fn paired(both_right: usize, wins: usize, losses: usize, both_wrong: usize) -> PairedRows {
    let mut labels = Vec::new();
    let (mut c, mut b) = (Vec::new(), Vec::new());
    for (count, c_right, b_right) in
        [(both_right, true, true), (wins, true, false), (losses, false, true), (both_wrong, false, false)]
    {
        for _ in 0..count {
            let label = labels.len() % 2 == 0;
            labels.push(label);
            c.push(if c_right { label } else { !label });
            b.push(if b_right { label } else { !label });
        }
    }
    PairedRows::new(labels, Predictions::Labels(c), Predictions::Labels(b)).unwrap()
}

fn judged(versions: &[VersionFacts], model_tags: &Tags, policy: &Policy, evidence: &Evidence) -> Verdict {
    judge_with_evidence(&select("m", versions, None), model_tags, policy, evidence)
}

fn accuracy_check(rows: PairedRows, require: bool) -> Verdict {
    let policy = Policy::default().requiring_confidence(require);
    let evidence = Evidence { paired: Some(Ok(rows)) };
    judged(&[baseline("0.8", "accuracy"), candidate("accuracy", 0.812)], &Tags::new(), &policy, &evidence)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn without_evidence_or_policy_the_verdict_is_the_rules() {
    let versions = [baseline("0.8", "accuracy"), candidate("accuracy", 0.812)];
    let plain = crate::judge(&select("m", &versions, None), &Tags::new(), &Policy::default());
    let with = judged(&versions, &Tags::new(), &Policy::default(), &Evidence::default());
    assert_eq!(with, plain);
    assert!(with.confidence.is_none() && with.guardrails.is_empty());
    let json = serde_json::to_value(&with).unwrap();
    assert!(json.get("confidence").is_none() && json.get("guardrails").is_none(), "{json}");
}

#[test]
fn plus_1_2_pp_on_500_rows_is_achieved_on_the_point_estimate_but_not_significant() {
    // 406 vs 400 right of 500: +1.2 pp.
    let v = accuracy_check(paired(390, 16, 10, 84), false);
    assert_eq!(v.outcome, Outcome::Achieved, "{}", v.reason);
    let c = v.confidence.as_ref().unwrap();
    assert_eq!((c.status, c.method, c.rows), (ConfidenceStatus::Computed, Some(Method::McnemarExact), Some(500)));
    assert_eq!(c.estimate_pp, Some(dec("1.2")));
    assert!(c.lower_pp.unwrap() < Decimal::ZERO && c.upper_pp.unwrap() > dec("2"), "{c:?}");
    assert_eq!(c.significant, Some(false));
    assert!(v.reason.contains("achieved on the point estimate; not significant at 95 %"), "{}", v.reason);

    let v = accuracy_check(paired(390, 16, 10, 84), true);
    assert_eq!(v.outcome, Outcome::NotAchieved, "{}", v.reason);
    assert!(v.reason.contains("not significant at 95 %") && v.reason.contains("require_confidence"), "{}", v.reason);
}

#[test]
fn plus_1_2_pp_on_200000_rows_is_achieved_under_require_confidence() {
    let v = accuracy_check(paired(154_400, 8_000, 5_600, 32_000), true);
    assert_eq!(v.outcome, Outcome::Achieved, "{}", v.reason);
    let c = v.confidence.unwrap();
    assert_eq!(c.significant, Some(true));
    assert!(c.lower_pp.unwrap() >= Decimal::ONE && c.lower_pp.unwrap() < dec("1.2"), "{c:?}");
    assert!(!v.reason.contains("not significant"), "{}", v.reason);
}

#[test]
fn unavailable_confidence_is_typed_and_blocks_only_under_require_confidence() {
    let unpaired = Evidence {
        paired: Some(Err(PairingError::Unpaired { only_candidate: 3, only_baseline: 0, example: "r9".into() }.into())),
    };
    let versions = [baseline("0.8", "accuracy"), candidate("accuracy", 0.85)];
    let v = judged(&versions, &Tags::new(), &Policy::default(), &unpaired);
    assert_eq!(v.outcome, Outcome::Achieved);
    assert_eq!(v.confidence.as_ref().unwrap().status, ConfidenceStatus::Unpaired);
    assert!(v.reason.contains("no confidence interval (unpaired)"), "{}", v.reason);

    let require = Policy::default().requiring_confidence(true);
    let v = judged(&versions, &Tags::new(), &require, &unpaired);
    assert_eq!(v.outcome, Outcome::NotAchieved, "{}", v.reason);

    let v = judged(&versions, &Tags::new(), &require, &Evidence::default());
    assert_eq!(v.confidence.unwrap().status, ConfidenceStatus::NoPredictions);
    assert_eq!(v.outcome, Outcome::NotAchieved);

    let small = Evidence { paired: Some(Ok(paired(10, 3, 1, 2))) };
    let v = judged(&versions, &Tags::new(), &require, &small);
    let c = v.confidence.unwrap();
    assert_eq!(c.status, ConfidenceStatus::TooSmall);
    assert!(c.reason.unwrap().contains("only 16 paired rows"));

    let mismatch = Evidence {
        paired: Some(Err(PairingError::LabelMismatch { row_id: "7".into(), candidate: true, baseline: false }.into())),
    };
    let v = judged(&versions, &Tags::new(), &Policy::default(), &mismatch);
    assert_eq!(v.confidence.unwrap().status, ConfidenceStatus::Mismatched);
}

#[test]
fn lower_is_better_metrics_flip_the_interval_like_the_delta() {
    // Log-loss: the candidate's scores are closer to the labels, so its loss is lower (better).
    let labels: Vec<bool> = (0..400).map(|i| i % 3 == 0).collect();
    let c: Vec<f64> =
        labels.iter().enumerate().map(|(i, &l)| if l { 0.8 } else { 0.2 } + (i % 7) as f64 * 0.01).collect();
    let b: Vec<f64> =
        labels.iter().enumerate().map(|(i, &l)| if l { 0.6 } else { 0.4 } + (i % 5) as f64 * 0.01).collect();
    let rows = PairedRows::new(labels, Predictions::Scores(c), Predictions::Scores(b)).unwrap();
    let base = baseline("0.6", "log_loss").with_tag(tags::BENCHMARK_DIRECTION, "lower");
    let v = judged(
        &[base, candidate("log_loss", 0.3)],
        &Tags::new(),
        &Policy::default(),
        &Evidence { paired: Some(Ok(rows)) },
    );
    let c = v.confidence.unwrap();
    assert_eq!(c.method, Some(Method::PairedBootstrap));
    assert!(c.estimate_pp.unwrap() > Decimal::ZERO, "better is positive: {c:?}");
    assert!(c.lower_pp.unwrap() <= c.estimate_pp.unwrap() && c.estimate_pp.unwrap() <= c.upper_pp.unwrap());
}

fn guarded(guardrails: &str, candidate_latency: Option<f64>) -> Verdict {
    let mut model_tags = Tags::new();
    model_tags.insert(GUARDRAILS_TAG.into(), guardrails.into());
    let base = baseline("0.8", "accuracy").with_tag("latency_ms", "100").with_tag("ece", "0.05");
    let mut cand = candidate("accuracy", 0.85).with_metric("ece", 0.052);
    if let Some(latency) = candidate_latency {
        cand = cand.with_metric("latency_ms", latency);
    }
    judged(&[base, cand], &model_tags, &Policy::default(), &Evidence::default())
}

const GUARDRAILS: &str = r#"[{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10},
                             {"metric": "ece", "direction": "lower", "max_regression_pp": 0.5}]"#;

#[test]
fn every_guardrail_is_listed_and_all_passing_keeps_the_achievement() {
    let v = guarded(GUARDRAILS, Some(108.0));
    assert_eq!(v.outcome, Outcome::Achieved, "{}", v.reason);
    assert_eq!(v.guardrails.len(), 2);
    let latency = &v.guardrails[0];
    assert_eq!((latency.status, latency.regression), (GuardrailStatus::Passed, Some(dec("8"))));
    assert_eq!((latency.baseline_value, latency.candidate_value), (Some(dec("100")), Some(dec("108"))));
    let ece = &v.guardrails[1];
    assert_eq!((ece.status, ece.regression), (GuardrailStatus::Passed, Some(dec("0.2"))));
    assert!(v.reason.contains("all 2 guardrail(s) passed"), "{}", v.reason);
}

#[test]
fn a_guardrail_regression_blocks_an_otherwise_achieved_candidate() {
    let v = guarded(GUARDRAILS, Some(125.0));
    assert_eq!(v.outcome, Outcome::NotAchieved, "{}", v.reason);
    assert_eq!(v.delta_pp, Some(dec("5")));
    assert_eq!(v.guardrails[0].status, GuardrailStatus::Regressed);
    assert_eq!(v.guardrails[0].regression, Some(dec("25")));
    assert!(v.reason.contains("latency_ms regressed"), "{}", v.reason);
}

#[test]
fn a_missing_guardrail_metric_is_its_own_outcome_and_bad_declarations_are_bad_tags() {
    let v = guarded(GUARDRAILS, None);
    assert_eq!(v.outcome, Outcome::MetricMissing, "{}", v.reason);
    assert_eq!(v.guardrails[0].status, GuardrailStatus::Missing);
    assert!(v.reason.contains("version 2 has no value for \"latency_ms\""), "{}", v.reason);

    for bad in [
        "{",
        r#"[{"metric": "x"}]"#,
        r#"[{"metric": "x", "max_regression_pp": -1}]"#,
        r#"[{"metric": "x", "max_regression_pp": 1, "extra": 2}]"#,
    ] {
        let v = guarded(bad, Some(100.0));
        assert_eq!(v.outcome, Outcome::BadTag, "{bad}: {}", v.reason);
        assert!(v.reason.contains(GUARDRAILS_TAG), "{}", v.reason);
    }
}

#[test]
fn configured_guardrails_apply_when_no_tag_declares_any() {
    let policy = Policy::default().with_guardrails(parse_guardrails(GUARDRAILS).unwrap());
    let base = baseline("0.8", "accuracy").with_tag("latency_ms", "100").with_tag("ece", "0.05");
    let cand = candidate("accuracy", 0.85).with_metric("ece", 0.06).with_metric("latency_ms", 90.0);
    let v = judged(&[base, cand], &Tags::new(), &policy, &Evidence::default());
    assert_eq!(v.outcome, Outcome::NotAchieved, "{}", v.reason);
    assert_eq!(v.guardrails[1].status, GuardrailStatus::Regressed);
    assert_eq!(v.guardrails[0].regression, Some(dec("-10")));
}
