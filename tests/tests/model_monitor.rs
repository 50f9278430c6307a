//! SageMaker Model Monitor's formats as DeltaOne reads and writes them: the JSON Schemas in
//! `schemas/model-monitor/` (written from the documented formats) hold the shipped fixtures (files as
//! Model Monitor's baselining job writes them, and every crafted check case's expected violations), and
//! reject what the formats forbid. `schemas/model-monitor/validate.py` does the same in Python.

use serde_json::Value;

fn load(path: &str) -> Value {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn schema(name: &str) -> jsonschema::Validator {
    jsonschema::draft202012::new(&load(&format!("schemas/model-monitor/{name}.schema.json"))).expect("a valid schema")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

#[test]
fn the_fixtures_model_monitor_writes_validate_against_the_schemas() {
    for name in ["statistics", "constraints", "constraint_violations"] {
        let doc = load(&format!("samples/model-monitor/{name}.json"));
        let found = errors(&schema(name), &doc);
        assert!(found.is_empty(), "samples/model-monitor/{name}.json: {found:#?}");
    }
    let cases = load("samples/model-monitor/check-cases.json");
    let violations = schema("constraint_violations");
    let cases = cases["cases"].as_array().expect("cases");
    assert!(cases.len() >= 12, "a case per check, firing and not firing: {}", cases.len());
    for case in cases {
        let found = errors(&violations, &case["expected"]);
        assert!(found.is_empty(), "check case {}: {found:#?}", case["name"]);
    }
    let checks: std::collections::BTreeSet<(&str, bool)> =
        cases.iter().map(|c| (c["check"].as_str().unwrap(), c["fires"].as_bool().unwrap())).collect();
    for check in ["data_type_check", "completeness_check", "baseline_drift_check", "missing_column_check"] {
        assert!(checks.contains(&(check, true)) && checks.contains(&(check, false)), "{check} both ways: {checks:?}");
    }
}

#[test]
fn the_schemas_reject_what_the_formats_forbid_and_accept_what_model_monitor_may_add() {
    let statistics = load("samples/model-monitor/statistics.json");
    let constraints = load("samples/model-monitor/constraints.json");
    let mut bad = statistics.clone();
    bad["features"][0]["inferred_type"] = "Integer".into();
    assert!(!errors(&schema("statistics"), &bad).is_empty(), "inferred_type Integer");
    let mut bad = constraints.clone();
    bad["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Exact".into();
    assert!(!errors(&schema("constraints"), &bad).is_empty(), "comparison_method Exact");
    let mut bad = constraints;
    bad["monitoring_config"]["datatype_check_threshold"] = 1.5.into();
    assert!(!errors(&schema("constraints"), &bad).is_empty(), "a share of 1.5");
    let bad: Value = serde_json::json!({"violations": [{"feature_name": "age", "constraint_check_type": "drift_check", "description": "x"}]});
    assert!(!errors(&schema("constraint_violations"), &bad).is_empty(), "check type drift_check");
    let mut more = statistics;
    more["catalog_version"] = "1".into();
    more["features"][0]["numerical_statistics"]["custom_statistic"] = 1.0.into();
    assert!(errors(&schema("statistics"), &more).is_empty(), "members the format does not document are kept");
}
