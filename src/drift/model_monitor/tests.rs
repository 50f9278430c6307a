use super::*;
use crate::drift::partial::NumericPartial;

/// The 20 baseline rows of samples/model-monitor/make_fixtures.py (age, amount, country, channel).
#[allow(clippy::type_complexity)]
const ROWS: [(i32, Option<f64>, &str, Option<&str>); 20] = [
    (23, Some(12.5), "DE", Some("web")),
    (25, Some(80.0), "FR", Some("app")),
    (31, Some(45.25), "DE", Some("web")),
    (35, Some(7.99), "IT", Some("web")),
    (38, Some(150.0), "DE", Some("app")),
    (41, Some(33.1), "FR", Some("web")),
    (44, None, "ES", Some("web")),
    (47, Some(60.0), "DE", Some("web")),
    (52, Some(22.75), "IT", Some("app")),
    (29, Some(95.5), "FR", Some("web")),
    (33, Some(18.0), "DE", None),
    (36, Some(41.0), "DE", Some("web")),
    (27, Some(5.5), "FR", Some("app")),
    (58, Some(210.0), "IT", Some("web")),
    (62, Some(72.25), "DE", Some("web")),
    (45, Some(28.0), "FR", Some("app")),
    (39, Some(55.5), "ES", Some("web")),
    (30, Some(9.75), "DE", Some("app")),
    (26, Some(120.0), "IT", Some("web")),
    (50, Some(36.6), "FR", Some("app")),
];

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/samples/model-monitor/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the fixture")).expect("JSON")
}

fn fixture_baseline() -> (Statistics, Constraints) {
    let mut age = NumericPartial::exact();
    age.extend(ROWS.iter().map(|r| Some(f64::from(r.0))));
    let mut amount = NumericPartial::exact();
    amount.extend(ROWS.iter().map(|r| r.1));
    let (mut country, mut channel) = (CategoricalPartial::default(), CategoricalPartial::default());
    for r in &ROWS {
        country.add(Some(r.2));
        channel.add(r.3);
    }
    baseline(
        20,
        &[
            FeatureState::Numeric { name: "age", inferred_type: InferredType::Integral, state: &age },
            FeatureState::Numeric { name: "amount", inferred_type: InferredType::Fractional, state: &amount },
            FeatureState::String { name: "country", state: &country },
            FeatureState::String { name: "channel", state: &channel },
        ],
    )
}

/// The fixture with each sketch level sorted: the generator keeps arrival order in its one level,
/// DeltaOne writes levels in ascending order (docs/model-monitor.md); the weights are the same.
fn with_sorted_levels(mut statistics: serde_json::Value) -> serde_json::Value {
    for feature in statistics["features"].as_array_mut().unwrap() {
        if let Some(data) = feature.pointer_mut("/numerical_statistics/distribution/kll/sketch/data") {
            for level in data.as_array_mut().unwrap() {
                level.as_array_mut().unwrap().sort_by(|a, b| a.as_f64().unwrap().total_cmp(&b.as_f64().unwrap()));
            }
        }
    }
    statistics
}

#[test]
fn the_fixture_rows_give_the_reference_generators_statistics_and_constraints_exactly() {
    let (statistics, constraints) = fixture_baseline();
    let ours = serde_json::to_value(&statistics).unwrap();
    assert_eq!(ours, with_sorted_levels(fixture("statistics.json")));
    assert_eq!(serde_json::to_value(&constraints).unwrap(), fixture("constraints.json"));
}

#[test]
fn the_fixture_files_read_back_into_the_types() {
    let statistics: Statistics = serde_json::from_value(fixture("statistics.json")).unwrap();
    assert_eq!(statistics.features.len(), 4);
    let constraints: Constraints = serde_json::from_value(fixture("constraints.json")).unwrap();
    assert_eq!(constraints.monitoring_config, MonitoringConfig::written());
}

#[test]
fn infinities_are_present_but_outside_the_numbers_and_nan_is_missing() {
    let mut state = NumericPartial::exact();
    state.extend([Some(1.0), Some(f64::NAN), None, Some(f64::NEG_INFINITY), Some(3.0)]);
    let (statistics, constraints) =
        baseline(5, &[FeatureState::Numeric { name: "x", inferred_type: InferredType::Fractional, state: &state }]);
    let s = statistics.features[0].numerical_statistics.as_ref().unwrap();
    assert_eq!(s.common, Common { num_present: 3, num_missing: 2 });
    assert_eq!((s.sum, s.mean, s.min, s.max), (Some(4.0), Some(2.0), Some(1.0), Some(3.0)));
    assert_eq!(constraints.features[0].completeness, 0.6);
    assert_eq!(constraints.features[0].num_constraints, Some(NumConstraints { is_non_negative: false }));
}

#[test]
fn a_column_without_values_has_counts_only() {
    let mut state = NumericPartial::exact();
    state.extend([None, None]);
    let (statistics, constraints) =
        baseline(2, &[FeatureState::Numeric { name: "x", inferred_type: InferredType::Integral, state: &state }]);
    let s = statistics.features[0].numerical_statistics.as_ref().unwrap();
    assert_eq!((s.common.num_missing, s.mean, s.distribution.is_none()), (2, None, true));
    assert_eq!((constraints.features[0].completeness, constraints.features[0].num_constraints), (0.0, None));
}

#[test]
fn a_sketched_column_keeps_exact_counts_min_and_max_and_weighs_n() {
    let mut exact = NumericPartial::exact();
    exact.extend((0..5000).map(|i| Some(f64::from(i) * 0.5)));
    let sketched = exact.clone().into_sketch(7).unwrap();
    let (e, s) = (numerical_statistics(&exact), numerical_statistics(&sketched));
    assert_eq!((s.common, s.min, s.max), (e.common, e.min, e.max));
    let relative = |a: Option<f64>, b: Option<f64>| ((a.unwrap() - b.unwrap()) / b.unwrap()).abs();
    assert!(relative(s.mean, e.mean) < 1e-2 && relative(s.std_dev, e.std_dev) < 1e-2, "{s:?}");
    let data = &s.distribution.as_ref().unwrap().kll.sketch.data;
    let weight: u64 = data.iter().enumerate().map(|(h, items)| (items.len() as u64) << h).sum();
    assert_eq!(weight, 5000);
    assert!(data.last().unwrap().len() as u64 <= KLL_K);
}

#[test]
fn only_low_cardinality_strings_get_a_domain() {
    let mut ids = CategoricalPartial::default();
    for i in 0..50 {
        ids.add(Some(&format!("user-{i}")));
    }
    let (_, constraints) = baseline(50, &[FeatureState::String { name: "user", state: &ids }]);
    assert_eq!(constraints.features[0].string_constraints, None);
}
