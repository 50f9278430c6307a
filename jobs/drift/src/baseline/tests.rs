//! `baseline` on Parquet files written here: the Model Monitor files against the fixtures and the
//! JSON Schemas, the profile against a direct read, and bad inputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
use serde_json::Value;

use super::*;
use crate::samples;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The 20 baseline rows of samples/model-monitor/check-cases.json (a case whose window is the
/// baseline unchanged), written as Parquet with the columns' types.
fn fixture_parquet(dir: &Path) -> PathBuf {
    let cases = json(&repo("samples/model-monitor/check-cases.json"));
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("completeness_check silent at the boundary"))
        .expect("the unchanged-window case");
    let columns = case["current"]["columns"].as_array().unwrap();
    let rows = case["current"]["rows"].as_array().unwrap();
    let arrays: Vec<(String, ArrayRef)> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let values = rows.iter().map(|r| &r[i]);
            let array: ArrayRef = match c["type"].as_str().unwrap() {
                "int32" => Arc::new(values.map(|v| v.as_i64().map(|x| x as i32)).collect::<Int32Array>()),
                "double" => Arc::new(values.map(Value::as_f64).collect::<Float64Array>()),
                "string" => Arc::new(values.map(Value::as_str).collect::<StringArray>()),
                other => panic!("type {other}"),
            };
            (c["name"].as_str().unwrap().to_owned(), array)
        })
        .collect();
    let path = dir.join("baseline.parquet");
    samples::write_parquet(&path, &RecordBatch::try_from_iter(arrays).unwrap()).unwrap();
    path
}

fn options(reference: &[&Path]) -> RunOptions {
    let mut options = RunOptions::new(reference.iter().map(|p| p.display().to_string()).collect(), Vec::new());
    options.run_id = "test".to_owned();
    options
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(future)
}

fn make(options: &RunOptions) -> Result<Baseline, DriftJobError> {
    block_on(baseline(options, None))
}

fn validator(name: &str) -> jsonschema::Validator {
    let schema = json(&repo(&format!("schemas/model-monitor/{name}")));
    jsonschema::draft202012::new(&schema).expect("a valid schema")
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value, what: &str) {
    let errors: Vec<String> =
        validator.iter_errors(document).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// Each sketch level in ascending order: the generator keeps arrival order in its one level,
/// `baseline` writes levels sorted (docs/model-monitor.md); the weights are the same.
fn with_sorted_levels(mut statistics: Value) -> Value {
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
fn the_fixture_window_gives_the_fixture_statistics_and_constraints_and_the_files_validate() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = fixture_parquet(dir.path());
    let baseline = make(&options(&[&parquet])).unwrap();
    let out = dir.path().join("out");
    let written = block_on(write_baseline(&baseline, &out.display().to_string(), None)).unwrap();
    assert_eq!(written.statistics, out.join(STATISTICS_FILE).display().to_string());

    let statistics = json(&out.join(STATISTICS_FILE));
    let constraints = json(&out.join(CONSTRAINTS_FILE));
    assert_valid(&validator("statistics.schema.json"), &statistics, "statistics.json");
    assert_valid(&validator("constraints.schema.json"), &constraints, "constraints.json");
    // Exact equality of every number: counts, mean, sum, std_dev, min, max, bucket edges and
    // counts, the sketch's items and parameters, distinct counts, categories and their order.
    assert_eq!(statistics, with_sorted_levels(json(&repo("samples/model-monitor/statistics.json"))));
    assert_eq!(constraints, json(&repo("samples/model-monitor/constraints.json")));
    assert!(baseline.not_features.is_empty() && baseline.skipped_files().is_empty());
}

#[test]
fn the_samples_reference_window_validates_and_counts_nan_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let reference = samples::default_dir().join("reference.parquet");
    let baseline = make(&options(&[&reference])).unwrap();
    let statistics = serde_json::to_value(&baseline.statistics).unwrap();
    let constraints = serde_json::to_value(&baseline.constraints).unwrap();
    assert_valid(&validator("statistics.schema.json"), &statistics, "statistics.json");
    assert_valid(&validator("constraints.schema.json"), &constraints, "constraints.json");
    assert_eq!(baseline.statistics.dataset.item_count, 5000);
    for feature in &baseline.statistics.features {
        let common = match (&feature.numerical_statistics, &feature.string_statistics) {
            (Some(n), None) => n.common,
            (None, Some(s)) => s.common,
            other => panic!("{}: {other:?}", feature.name),
        };
        assert_eq!(common.num_present + common.num_missing, 5000, "{}", feature.name);
    }
    let score_a = baseline.statistics.features.iter().find(|f| f.name == "score_a").unwrap();
    assert_eq!(score_a.numerical_statistics.as_ref().unwrap().common.num_missing, 10, "its 10 nulls");
    // The profile is written beside them.
    block_on(write_baseline(&baseline, &dir.path().display().to_string(), None)).unwrap();
    let bytes = std::fs::read(dir.path().join(PROFILE_FILE)).unwrap();
    assert_round_trips(&baseline.profile, &bytes);
}

/// decode(encode) equals the profile — but for the order of the classification state's score keys,
/// a multiset that its encoding writes sorted — and encodes to the same bytes again.
fn assert_round_trips(profile: &ReferenceProfile, bytes: &[u8]) {
    let decoded = ReferenceProfile::decode(bytes).unwrap();
    assert_eq!(decoded.encode(), bytes, "decoding and encoding again gives the same bytes");
    let mut expected = profile.clone();
    let mut got = decoded;
    expected.read.performance = None;
    got.read.performance = None;
    assert_eq!(got, expected, "decode(encode) is the profile");
    let performance = |p: &ReferenceProfile| serde_json::to_value(&p.read.performance).unwrap();
    assert_eq!(performance(&ReferenceProfile::decode(bytes).unwrap()), performance(profile));
}

/// The report of a run whose reference comes from `profile` and whose current window is read from
/// `options.current`, through the run's own `finish`.
fn report_from_profile(options: &RunOptions, profile: ReferenceProfile) -> crate::DriftReport {
    block_on(async {
        let reference = source::expand(&options.reference, None, None).await.unwrap();
        let current = source::expand(&options.current, None, None).await.unwrap();
        let ctx = options.read_context(None);
        let mut partial = shard::scan(ScanRequest {
            ctx: &ctx,
            options,
            schema_files: &reference,
            reference_files: &[],
            current_files: &current,
            shard: 0,
            shards: 1,
            inline: false,
        })
        .await
        .unwrap();
        assert_eq!(partial.columns, profile.columns, "the same columns are planned");
        partial.state.reference = profile.state;
        partial.reference = profile.read;
        shard::finish(options, partial).unwrap()
    })
}

#[test]
fn the_profile_round_trips_and_gives_the_statistics_of_reading_the_window_bit_for_bit() {
    let reference = samples::default_dir().join("reference.parquet");
    let current = samples::default_dir().join("current.parquet");
    let mut options = options(&[&reference]);
    options.current = vec![current.display().to_string()];
    let baseline = make(&options).unwrap();
    let bytes = baseline.profile.encode();
    assert_round_trips(&baseline.profile, &bytes);
    let profile = ReferenceProfile::decode(&bytes).unwrap();

    let direct = crate::run(&options).unwrap();
    let via_profile = report_from_profile(&options, profile.clone());
    // Exact mode: every column's statistics, p-values and decisions equal to the last bit (JSON
    // writes the shortest form that reads back to the same f64), the reference files too.
    assert_eq!(serde_json::to_value(&via_profile.columns).unwrap(), serde_json::to_value(&direct.columns).unwrap());
    assert_eq!(via_profile.windows.reference, direct.windows.reference);
    assert_eq!(
        serde_json::to_value(&via_profile.performance).unwrap(),
        serde_json::to_value(&direct.performance).unwrap()
    );
    // And the Model Monitor statistics read from the decoded profile are the baseline's.
    let features: Vec<FeatureState<'_>> = baseline
        .statistics
        .features
        .iter()
        .map(|f| match profile.state.columns.get(&f.name) {
            Some(ColumnPartial::Numeric(n)) => {
                FeatureState::Numeric { name: &f.name, inferred_type: f.inferred_type, state: n }
            }
            Some(ColumnPartial::Categorical(c)) => FeatureState::String { name: &f.name, state: c },
            None => panic!("no state for {}", f.name),
        })
        .collect();
    let (statistics, _) = model_monitor::baseline(profile.state.rows, &features);
    assert_eq!(statistics, baseline.statistics);
}

#[test]
fn a_sketched_profile_round_trips_and_its_statistics_keep_exact_counts() {
    let reference = samples::default_dir().join("reference.parquet");
    let exact = make(&options(&[&reference])).unwrap();
    let mut sketched_options = options(&[&reference]);
    sketched_options.sketch = true;
    let sketched = make(&sketched_options).unwrap();
    let bytes = sketched.profile.encode();
    assert_round_trips(&sketched.profile, &bytes);
    let profile = ReferenceProfile::decode(&bytes).unwrap();
    assert!(profile.state.columns.values().any(|c| matches!(
        c,
        ColumnPartial::Numeric(n) if matches!(n.values, deltaone::drift::partial::NumericValues::Sketch { .. })
    )));
    assert_valid(
        &validator("statistics.schema.json"),
        &serde_json::to_value(&sketched.statistics).unwrap(),
        "sketched statistics.json",
    );
    for (e, s) in exact.statistics.features.iter().zip(&sketched.statistics.features) {
        let (Some(e), Some(s)) = (&e.numerical_statistics, &s.numerical_statistics) else {
            assert_eq!(e, s, "string features are exact counts either way");
            continue;
        };
        assert_eq!((e.common, e.min, e.max), (s.common, s.min, s.max));
        // The sketch's buckets are 2^-7 of their values wide: the mean is within that share of
        // the largest magnitude.
        let scale = e.min.unwrap().abs().max(e.max.unwrap().abs());
        assert!((e.mean.unwrap() - s.mean.unwrap()).abs() <= scale / 128.0, "{e:?}\n{s:?}");
    }
}

#[test]
fn a_missing_file_a_non_parquet_file_and_an_empty_window_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.parquet");
    let err = make(&options(&[&missing])).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Reference, files: 1, skipped: 1, .. }), "{err}");
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");

    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"not parquet at all").unwrap();
    let err = make(&options(&[&garbage])).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Reference, .. }), "{err}");
    assert!(err.to_string().contains(&garbage.display().to_string()), "{err}");

    let nothing = dir.path().join("none-*.parquet");
    let err = make(&options(&[&nothing])).unwrap_err();
    assert_eq!(err.to_string(), "the reference window has no readable rows (no input file found)");

    // A model filter that selects no row of a readable file.
    let parquet = fixture_parquet(dir.path());
    let mut filtered = options(&[&parquet]);
    filtered.model_name = Some("fraud".to_owned());
    let err = make(&filtered).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Reference, .. }), "{err}");
}

#[test]
fn parquet_types_name_model_monitor_types() {
    use arrow_schema::DataType;
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    for (t, expected) in [
        (DataType::Int8, InferredType::Integral),
        (DataType::UInt64, InferredType::Integral),
        (DataType::Float32, InferredType::Fractional),
        (DataType::Decimal128(10, 2), InferredType::Fractional),
        (DataType::LargeUtf8, InferredType::String),
        (dictionary, InferredType::String),
        (DataType::Boolean, InferredType::Unknown),
        (DataType::Binary, InferredType::Unknown),
    ] {
        assert_eq!(inferred_type(&t), expected, "{t}");
    }
}
