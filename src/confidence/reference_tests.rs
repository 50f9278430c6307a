//! McNemar and DeLong against statsmodels and MLstatkit: the fixture is written by
//! `bench/reference/confidence_reference.py` (see its header for versions and encoding).

use serde_json::Value;

use super::delong;
use super::mcnemar::PairedCounts;
use super::{Level, Method, PairedRows, Predictions, paired_interval};

const REFERENCE: &str = include_str!("testdata/reference.json");
const TOLERANCE: f64 = 1e-9;

fn doc() -> Value {
    serde_json::from_str(REFERENCE).expect("the reference fixture is JSON")
}

/// Expected values are Python reprs in strings: parsed exactly by `str::parse`.
fn number(v: &Value) -> f64 {
    v.as_str().expect("expected values are strings").parse().expect("a float repr")
}

fn close(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= TOLERANCE, "{what}: {got} vs reference {want} (diff {:e})", (got - want).abs());
}

fn count(case: &Value, key: &str) -> u64 {
    case["counts"][key].as_u64().unwrap()
}

#[test]
fn mcnemar_p_values_and_intervals_equal_statsmodels_within_1e_9() {
    let doc = doc();
    let cases = doc["mcnemar"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for (k, case) in cases.iter().enumerate() {
        let counts = PairedCounts {
            both_right: count(case, "both_right"),
            wins: count(case, "wins"),
            losses: count(case, "losses"),
            both_wrong: count(case, "both_wrong"),
        };
        // Build the rows the way a check does: per-row correctness of each model.
        let mut cand = Vec::new();
        let mut base = Vec::new();
        for (n, c, b) in [
            (counts.both_right, true, true),
            (counts.wins, true, false),
            (counts.losses, false, true),
            (counts.both_wrong, false, false),
        ] {
            cand.extend(std::iter::repeat_n(c, n as usize));
            base.extend(std::iter::repeat_n(b, n as usize));
        }
        let level = Level::new(number(&case["level"])).unwrap();
        let got = super::mcnemar::interval(&cand, &base, level).unwrap();
        let want = &case["expected"];
        let what = |f: &str| format!("case {k} {counts:?} {f}");
        close(&what("estimate"), got.estimate, number(&want["estimate"]));
        close(&what("p_value"), got.p_value.unwrap(), number(&want["p_value"]));
        close(&what("lower"), got.lower, number(&want["lower"]));
        close(&what("upper"), got.upper, number(&want["upper"]));
        assert_eq!(got.method, Method::McnemarExact);
    }
}

fn scores(case: &Value, key: &str) -> Vec<f64> {
    let scale = case["score_scale"].as_u64().unwrap() as f64;
    case[key].as_str().unwrap().split(' ').map(|n| n.parse::<u64>().unwrap() as f64 / scale).collect()
}

#[test]
fn delong_figures_and_intervals_equal_mlstatkit_within_1e_9() {
    let doc = doc();
    let cases = doc["delong"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for (k, case) in cases.iter().enumerate() {
        let labels: Vec<bool> = case["labels"].as_str().unwrap().chars().map(|c| c == '1').collect();
        let (cand, base) = (scores(case, "candidate_numerators"), scores(case, "baseline_numerators"));
        let level = Level::new(number(&case["level"])).unwrap();
        let want = &case["expected"];
        let n = labels.len();
        let what = |f: &str| format!("case {k} ({n} rows) {f}");

        let f = delong::figures(&labels, &cand, &base).unwrap();
        close(&what("auc_candidate"), f.auc_candidate, number(&want["auc_candidate"]));
        close(&what("auc_baseline"), f.auc_baseline, number(&want["auc_baseline"]));
        close(&what("delta_variance"), f.delta_variance(), number(&want["delta_variance"]));
        close(&what("z"), f.z().unwrap(), number(&want["z"]));
        close(&what("p_value"), f.p_value(), number(&want["p_value"]));

        // Through the front door, as a check computes it.
        let rows = PairedRows::new(labels, Predictions::Scores(cand), Predictions::Scores(base)).unwrap();
        let got = paired_interval("auroc", &rows, level).unwrap();
        assert_eq!(got.method, Method::Delong);
        close(&what("lower"), got.lower, number(&want["lower"]));
        close(&what("upper"), got.upper, number(&want["upper"]));
    }
}
