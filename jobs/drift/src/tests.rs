//! Tests on the sample logs and on small files written here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use super::histogram::{HISTOGRAM_BINS, numeric_histogram};
use super::source::wildcard_match;
use super::*;
use deltaone::drift::{ColumnVerdict, Correction, DecisionPolicy, DriftMethod, DriftSeverity, Side};

fn sample(name: &str) -> String {
    samples::default_dir().join(name).display().to_string()
}

fn options(reference: Vec<String>, current: Vec<String>) -> RunOptions {
    let mut options = RunOptions::new(reference, current);
    options.run_id = "test".to_owned();
    options
}

fn sample_report() -> DriftReport {
    run(&options(vec![sample("reference.parquet")], vec![sample("current.parquet")])).unwrap()
}

fn column<'a>(report: &'a DriftReport, name: &str) -> &'a ColumnResult {
    report.columns.iter().find(|c| c.column == name).unwrap_or_else(|| panic!("no column {name}"))
}

fn write(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
    let path = dir.join(name);
    samples::write_parquet(&path, &RecordBatch::try_from_iter(columns).unwrap()).unwrap();
    path
}

#[test]
fn shifted_and_new_category_features_drift_and_unchanged_ones_do_not() {
    let report = sample_report();
    assert_eq!((report.windows.reference.rows, report.windows.current.rows), (5000, 5000));

    let amount = column(&report, "amount");
    assert_eq!(
        (amount.kind, amount.method, amount.drifted, amount.verdict),
        (ColumnKind::Numeric, DriftMethod::Wasserstein, true, Some(ColumnVerdict::Drift))
    );
    assert_eq!(amount.test, DriftMethod::KolmogorovSmirnov);
    assert!(amount.score.unwrap() >= 0.1 && amount.p_value.unwrap() < 1e-10, "{amount:?}");
    // Six p-values, Benjamini–Hochberg: the smallest times at most six.
    let (p, q) = (amount.p_value.unwrap(), amount.p_value_adjusted.unwrap());
    assert!(q >= p && q <= 6.0 * p, "{p} → {q}");
    assert!(amount.reason.contains("normalised Wasserstein"), "{}", amount.reason);
    assert_eq!(amount.quality.current.nan, 5, "NaN counted and excluded");
    assert_eq!(amount.quality.current.valid, 4995);

    let channel = column(&report, "channel");
    assert_eq!(
        (channel.kind, channel.method, channel.drifted),
        (ColumnKind::Categorical, DriftMethod::JensenShannon, true)
    );
    assert!(channel.new_category_share.unwrap() > 0.0, "{channel:?}");
    match &channel.statistics {
        Some(Statistics::Categorical { new_categories, vanished_categories, .. }) => {
            assert_eq!(new_categories, &["partner".to_owned()]);
            assert!(vanished_categories.is_empty());
        }
        other => panic!("{other:?}"),
    }

    for unchanged in ["age", "score_a", "country"] {
        let c = column(&report, unchanged);
        assert!(!c.drifted && c.p_value.unwrap() > 0.05, "{c:?}");
        assert_eq!(c.verdict, Some(ColumnVerdict::NoDrift));
    }
    assert_eq!(column(&report, "score_a").quality.reference.nulls, 10);

    let prediction = column(&report, "prediction");
    assert_eq!(prediction.role, Role::Prediction);
    let skipped: Vec<&str> = report.skipped_columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(skipped, ["request_id", "event_time", "label"]);
    assert!(report.skipped_files.is_empty());
    assert_eq!(report.dataset.columns, 6);
    assert_eq!(report.dataset.drifted_columns, report.columns.iter().filter(|c| c.drifted).count());
}

#[test]
fn the_p_value_policy_without_correction_is_the_old_rule() {
    let mut o = options(vec![sample("reference.parquet")], vec![sample("current.parquet")]);
    o.decision.policy = DecisionPolicy::PValue;
    o.decision.correction = Correction::None;
    let report = run(&o).unwrap();
    for c in &report.columns {
        let method =
            if c.kind == ColumnKind::Numeric { DriftMethod::KolmogorovSmirnov } else { DriftMethod::ChiSquare };
        // The old rule: the test's own p-value against 0.05, unadjusted.
        assert_eq!((c.method, c.score, c.p_value_adjusted), (method, c.p_value, c.p_value), "{c:?}");
        assert_eq!(c.drifted, c.p_value.unwrap() < 0.05, "{c:?}");
    }
    let drifted: Vec<&str> = report.columns.iter().filter(|c| c.drifted).map(|c| c.column.as_str()).collect();
    assert_eq!(drifted, ["amount", "channel", "prediction"]);
    assert_eq!((report.dataset.policy, report.dataset.correction), (DecisionPolicy::PValue, Correction::None));
}

/// Normal values (Box–Muller over an LCG), deterministic in `seed`.
fn normal(n: usize, seed: u64, mean: f64) -> Vec<f64> {
    let mut state = seed;
    let mut uniform = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n).map(|_| mean + (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos()).collect()
}

/// Windows large enough that a negligible change is significant: 200,000 rows, a numeric column
/// moved by 0.03 standard deviations and category shares moved by half a point (the 1 M
/// rows and 0.01 SD are the same property, measured by `bench/drift-decisions`).
fn large_windows(dir: &Path, numeric_shift: f64, shares: [f64; 5]) -> (String, String) {
    const N: usize = 200_000;
    let categories = ["a", "b", "c", "d", "e"];
    let pick = |seed: u64, shares: [f64; 5]| -> Vec<&str> {
        let mut state = seed;
        (0..N)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                let mut cumulative = 0.0;
                categories
                    .iter()
                    .zip(shares)
                    .find(|(_, s)| {
                        cumulative += s;
                        u < cumulative
                    })
                    .map_or("e", |(c, _)| c)
            })
            .collect()
    };
    let window = |name: &str, seed: u64, shift: f64, shares: [f64; 5]| {
        write(
            dir,
            name,
            vec![
                ("x", Arc::new(Float64Array::from(normal(N, seed, shift))) as ArrayRef),
                ("segment", Arc::new(StringArray::from(pick(seed + 1, shares))) as ArrayRef),
            ],
        )
        .display()
        .to_string()
    };
    (window("r.parquet", 11, 0.0, [0.2; 5]), window("c.parquet", 23, numeric_shift, shares))
}

#[test]
fn a_significant_but_negligible_change_reads_no_drift_and_keeps_its_p_values() {
    let dir = tempfile::tempdir().unwrap();
    let (r, c) = large_windows(dir.path(), 0.03, [0.205, 0.2025, 0.2, 0.1975, 0.195]);
    let report = run(&options(vec![r.clone()], vec![c.clone()])).unwrap();
    for col in &report.columns {
        assert_eq!(col.verdict, Some(ColumnVerdict::Negligible), "{col:?}");
        assert!(col.p_value_adjusted.unwrap() < 0.05 && col.score.unwrap() < 0.1, "{col:?}");
        assert!(col.reason.starts_with("significant but negligible"), "{}", col.reason);
    }
    assert_eq!((report.dataset.drifted, report.dataset.negligible_columns), (false, 2));
    let text = summary_text(&report);
    assert!(text.contains("2 significant but negligible") && text.contains("not drifted"), "{text}");
    assert!(report::html(&report).contains("significant but negligible"));
    // The old rule calls both drifted: the complaint the effect-size policy answers.
    let mut old = options(vec![r], vec![c]);
    (old.decision.policy, old.decision.correction) = (DecisionPolicy::PValue, Correction::None);
    let report = run(&old).unwrap();
    assert!(report.dataset.drifted && report.columns.iter().all(|c| c.drifted));
}

#[test]
fn a_real_change_at_the_same_size_is_drift() {
    let dir = tempfile::tempdir().unwrap();
    let (r, c) = large_windows(dir.path(), 0.25, [0.3, 0.25, 0.2, 0.15, 0.1]);
    let report = run(&options(vec![r], vec![c])).unwrap();
    // 0.25 SD: normalised Wasserstein ≈ 0.25, 2.5× the threshold; the shares: JS ≈ 0.13.
    let severity = |name: &str| (column(&report, name).verdict, column(&report, name).severity);
    assert_eq!(severity("x"), (Some(ColumnVerdict::Drift), Some(DriftSeverity::High)));
    assert_eq!(severity("segment"), (Some(ColumnVerdict::Drift), Some(DriftSeverity::Moderate)));
    assert!(report.dataset.drifted);
}

#[test]
fn without_an_alert_topic_nothing_is_recorded_as_fired() {
    let report = sample_report();
    let rule = deltaone::drift::alerting::AlertRule::default();
    let with_topic = deliver::decide_alert(&report, &rule, "2026-11-02T00:00:00Z", true);
    assert_eq!(
        with_topic.columns_with(deltaone::drift::alerting::AlertAction::Fired),
        ["amount", "channel", "prediction"]
    );
    let without = deliver::decide_alert(&report, &rule, "2026-11-02T00:00:00Z", false);
    assert_eq!(without.action, deltaone::drift::alerting::AlertAction::Held);
    assert!(
        without
            .columns
            .iter()
            .all(|c| c.reason.ends_with("no alert topic is configured (--topic-arn): nobody was paged")),
        "{without:?}"
    );
}

#[test]
fn evidently_binning_gives_the_same_decisions() {
    let mut o = options(vec![sample("reference.parquet")], vec![sample("current.parquet")]);
    o.binning = BinningChoice::Evidently;
    let report = run(&o).unwrap();
    assert!(column(&report, "amount").drifted && !column(&report, "age").drifted);
    assert_eq!(report.binning, BinningChoice::Evidently);
}

#[test]
fn committed_samples_equal_the_generator_output() {
    let dir = tempfile::tempdir().unwrap();
    for path in samples::write_samples(dir.path()).unwrap() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let committed = std::fs::read(samples::default_dir().join(name)).unwrap();
        assert!(
            std::fs::read(&path).unwrap() == committed,
            "{name} differs: run `cargo run -p deltaone-drift --example make-samples`"
        );
    }
    let total: u64 = ["reference.parquet", "current.parquet"]
        .iter()
        .map(|n| std::fs::metadata(samples::default_dir().join(n)).unwrap().len())
        .sum();
    assert!(total < 300_000, "{total} bytes");
}

#[test]
fn corrupt_and_missing_files_are_skipped_with_a_reason_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(sample("current.parquet")).unwrap();
    std::fs::write(dir.path().join("a-good.parquet"), &good).unwrap();
    std::fs::write(dir.path().join("b-garbage.parquet"), b"this is not parquet at all").unwrap();
    std::fs::write(dir.path().join("c-truncated.parquet"), &good[..good.len() / 2]).unwrap();
    std::fs::write(dir.path().join("ignored.txt"), b"not matched by the glob").unwrap();
    let glob = dir.path().join("*.parquet").display().to_string();
    let missing = dir.path().join("missing.parquet").display().to_string();

    let report = run(&options(vec![sample("reference.parquet")], vec![glob, missing])).unwrap();
    assert_eq!(report.windows.current.files.len(), 1);
    assert!(report.windows.current.files[0].ends_with("a-good.parquet"));
    assert_eq!(report.windows.current.rows, 5000);
    let skipped: Vec<(&str, Side)> = report
        .skipped_files
        .iter()
        .map(|f| (Path::new(&f.path).file_name().unwrap().to_str().unwrap(), f.side))
        .collect();
    assert_eq!(
        skipped,
        [
            ("b-garbage.parquet", Side::Current),
            ("c-truncated.parquet", Side::Current),
            ("missing.parquet", Side::Current)
        ]
    );
    assert!(report.skipped_files.iter().all(|f| !f.reason.is_empty()));
    assert!(report::html(&report).contains("b-garbage.parquet"));
    assert!(column(&report, "amount").drifted, "results are those of the good file");
}

/// `bytes` (a Parquet file) with the first page header of `column` (in the first row group)
/// overwritten: the footer still reads, the column's data does not.
fn with_corrupt_page(bytes: &[u8], column: &str) -> Vec<u8> {
    use parquet::file::reader::FileReader as _;
    let reader =
        parquet::file::serialized_reader::SerializedFileReader::new(bytes::Bytes::from(bytes.to_vec())).unwrap();
    let metadata = reader.metadata();
    let index = metadata.file_metadata().schema_descr().columns().iter().position(|c| c.name() == column).unwrap();
    let chunk = metadata.row_group(0).column(index);
    let start = chunk.dictionary_page_offset().unwrap_or(chunk.data_page_offset()) as usize;
    let mut corrupt = bytes.to_vec();
    corrupt[start..start + 24].fill(0xFF);
    corrupt
}

#[test]
fn a_file_whose_pages_do_not_decode_is_skipped_and_the_windows_are_read_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(sample("current.parquet")).unwrap();
    std::fs::write(dir.path().join("a-good.parquet"), &good).unwrap();
    // Found in the numeric pass (one column at a time) and in the scan's two passes (categories;
    // labels and predictions).
    std::fs::write(dir.path().join("b-numeric.parquet"), with_corrupt_page(&good, "amount")).unwrap();
    std::fs::write(dir.path().join("c-categorical.parquet"), with_corrupt_page(&good, "channel")).unwrap();
    std::fs::write(dir.path().join("d-label.parquet"), with_corrupt_page(&good, "label")).unwrap();
    let glob = dir.path().join("*.parquet").display().to_string();

    let report = run(&options(vec![sample("reference.parquet")], vec![glob])).unwrap();
    let skipped: Vec<(&str, &str)> = report
        .skipped_files
        .iter()
        .map(|f| (Path::new(&f.path).file_name().unwrap().to_str().unwrap(), f.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped.iter().any(|(f, r)| *f == "b-numeric.parquet" && r.contains("\"amount\"")), "{skipped:?}");
    assert!(skipped.iter().any(|(f, r)| *f == "c-categorical.parquet" && r.contains("corrupt")), "{skipped:?}");
    assert!(skipped.iter().any(|(f, r)| *f == "d-label.parquet" && r.contains("corrupt")), "{skipped:?}");

    // Nothing of the bad files counts: the results are those of the good file alone.
    let alone = run(&options(vec![sample("reference.parquet")], vec![sample("current.parquet")])).unwrap();
    assert_eq!(report.windows.current.rows, 5000);
    assert_eq!(report.columns, alone.columns);
    assert_eq!(report.performance, alone.performance);
}

#[test]
fn sketch_mode_sketches_the_auroc_scores_too_within_the_reported_bound() {
    let exact = sample_report();
    let both = || options(vec![sample("reference.parquet")], vec![sample("current.parquet")]);
    let mut flagged = both();
    flagged.sketch = true;
    let sketched = run(&flagged).unwrap();
    let (e, s) = (exact.performance.as_ref().unwrap(), sketched.performance.as_ref().unwrap());
    for (e, s) in [(&e.reference, &s.reference), (&e.current, &s.current)] {
        let (e, s) = (e.metrics.as_ref().unwrap(), s.metrics.as_ref().unwrap());
        let bound = s.auroc_error_bound.expect("a sketched AUROC has a bound");
        assert!(bound < 1e-2, "{bound}");
        assert!((s.auroc.unwrap() - e.auroc.unwrap()).abs() <= bound, "{s:?} vs {e:?}");
        assert_eq!((s.rows, s.accuracy, s.f1, s.log_loss), (e.rows, e.accuracy, e.f1, e.log_loss));
        assert_eq!(e.auroc_error_bound, None);
    }
    assert!(summary_text(&sketched).contains("sketched"));
    assert!(report::html(&sketched).contains("AUROC from sketched scores"));

    // Past --exact-max-rows the scores are sketched without the flag, to the same result.
    let mut auto = both();
    auto.exact_max_rows = 1000;
    assert_eq!(run(&auto).unwrap().performance, sketched.performance);
}

#[test]
fn numeric_histograms_count_each_value_in_its_equal_width_bin() {
    // The straightforward count: every value's bin index computed and counted.
    fn by_value(reference: &[f64], current: &[f64]) -> Vec<Vec<f64>> {
        let all = reference.iter().chain(current);
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let bins = if hi > lo { HISTOGRAM_BINS } else { 1 };
        let width = (hi - lo) / bins as f64;
        [reference, current]
            .iter()
            .map(|values| {
                let mut counts = vec![0.0; bins];
                for &x in values.iter() {
                    counts[if width > 0.0 { (((x - lo) / width) as usize).min(bins - 1) } else { 0 }] += 1.0;
                }
                counts.iter().map(|c| c / values.len().max(1) as f64).collect()
            })
            .collect()
    }
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let ties = sorted((0..1000).map(|i| ((i * 37) % 101) as f64 / 7.0).collect());
    let spread = sorted((0..777).map(|i| (i as f64 * 0.731).sin() * 1e3 - 3.0).collect());
    for (r, c) in [(&ties, &spread), (&spread, &ties), (&ties, &ties), (&vec![4.0; 5], &vec![4.0; 3])] {
        let h = numeric_histogram(r, c);
        assert_eq!(vec![h.reference, h.current], by_value(r, c));
    }
}

#[test]
fn a_file_missing_a_column_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path =
        write(dir.path(), "other.parquet", vec![("amount", Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef)]);
    let report =
        run(&options(vec![sample("reference.parquet")], vec![sample("current.parquet"), path.display().to_string()]))
            .unwrap();
    assert_eq!(report.skipped_files.len(), 1);
    assert!(report.skipped_files[0].reason.contains("no column"), "{:?}", report.skipped_files);
}

#[test]
fn an_empty_window_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"PAR1 nope").unwrap();
    let garbage = garbage.display().to_string();

    let err = run(&options(vec![sample("reference.parquet")], vec![garbage.clone()])).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Current, files: 1, skipped: 1, .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "the current window has no readable rows \
             (1 input file(s), all skipped as unreadable: the warnings above give each reason) — {garbage}: "
        )),
        "the error names the file and its reason: {text}"
    );

    let nothing = dir.path().join("none-*.parquet").display().to_string();
    let err = run(&options(vec![sample("reference.parquet")], vec![nothing])).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Current, files: 0, .. }), "{err}");
    assert_eq!(err.to_string(), "the current window has no readable rows (no input file found)");

    let err = run(&options(vec![garbage], vec![sample("current.parquet")])).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Reference, .. }), "{err}");

    let empty =
        write(dir.path(), "empty.parquet", vec![("x", Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef)]);
    let err = run(&options(vec![sample("reference.parquet")], vec![empty.display().to_string()])).unwrap_err();
    assert!(err.to_string().contains("no column") || matches!(err, DriftJobError::EmptyWindow { .. }), "{err}");
}

#[test]
fn html_has_an_svg_per_column_and_escapes_names() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "<b>&\"x\"";
    let cat = "<script>alert(1)</script>";
    let make = |name: &str, shift: f64| {
        let xs: Vec<f64> = (0..200).map(|i| i as f64 + shift).collect();
        let cs: Vec<&str> = (0..200).map(|i| if i % 3 == 0 { "<a>" } else { "b&c" }).collect();
        write(
            dir.path(),
            name,
            vec![
                (evil, Arc::new(Float64Array::from(xs)) as ArrayRef),
                (cat, Arc::new(StringArray::from(cs)) as ArrayRef),
            ],
        )
    };
    let (r, c) = (make("r.parquet", 0.0), make("c.parquet", 50.0));
    let report = run(&options(vec![r.display().to_string()], vec![c.display().to_string()])).unwrap();
    let html = report::html(&report);
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(!html.contains(evil) && !html.contains(cat) && !html.contains("<a>"));
    assert!(html.contains("&lt;b&gt;&amp;&quot;x&quot;") && html.contains("&lt;script&gt;"));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));

    let samples_html = report::html(&sample_report());
    assert_eq!(samples_html.matches("<svg").count(), 6);
    assert_eq!(samples_html.matches("<svg").count(), samples_html.matches("</svg>").count());
    // Severity order: drifted columns come first in the drift table.
    let table = &samples_html
        [samples_html.find("<h2>Drift by column").unwrap()..samples_html.find("<h2>Data quality").unwrap()];
    let first_ok = table.find("class=\"ok\"").unwrap();
    assert!(table.rfind("class=\"bad\"").unwrap() < first_ok);
}

fn assert_same(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-14 * x.abs().max(y.abs()), "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_same(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{at}");
            for (k, v) in x {
                assert_same(v, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn the_json_result_round_trips() {
    let report = sample_report();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (json, html) = write_outputs(&report, &out).unwrap();
    assert_eq!(json, out.join("drift.json"));
    assert!(html.exists());
    let back: DriftReport = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    // serde_json parses floats to within an ulp (exact parsing is its `float_roundtrip` feature,
    // not enabled in the workspace): everything else must be equal, floats within 1e-14.
    assert_same(&serde_json::to_value(&back).unwrap(), &serde_json::to_value(&report).unwrap(), "$");
    assert_eq!(back.columns.len(), report.columns.len());
    assert_eq!(back.skipped_columns, report.skipped_columns);
    let text = summary_text(&report);
    assert!(text.contains("DRIFT") && text.contains("amount"), "{text}");
}

#[test]
fn columns_are_planned_by_type_and_name() {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("customerId", DataType::Int32, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("flag", DataType::Boolean, true),
        Field::new("city", DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), true),
        Field::new("raw", DataType::Binary, true),
        Field::new("valid", DataType::Float32, true),
        Field::new("target", DataType::Int8, false),
        Field::new("pred", DataType::Utf8, false),
    ]);
    let (plan, skipped) = plan_columns(&schema, "pred", "target");
    let planned: Vec<(&str, ColumnKind, Role)> = plan.iter().map(|c| (c.name.as_str(), c.kind, c.role)).collect();
    assert_eq!(
        planned,
        [
            ("flag", ColumnKind::Categorical, Role::Feature),
            ("city", ColumnKind::Categorical, Role::Feature),
            ("valid", ColumnKind::Numeric, Role::Feature),
            ("pred", ColumnKind::Categorical, Role::Prediction),
        ]
    );
    let skipped: Vec<&str> = skipped.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(skipped, ["id", "user_id", "customerId", "ts", "raw", "target"]);
}

#[test]
fn nested_and_binary_columns_are_skipped_saying_why_and_wide_decimals_are_numeric() {
    let item = Arc::new(Field::new("item", DataType::Float64, true));
    let entries = Field::new(
        "entries",
        DataType::Struct(
            vec![Field::new("key", DataType::Utf8, false), Field::new("value", DataType::Int64, true)].into(),
        ),
        false,
    );
    let schema = Schema::new(vec![
        Field::new("point", DataType::Struct(vec![Field::new("x", DataType::Float64, true)].into()), true),
        Field::new("scores", DataType::List(item.clone()), true),
        Field::new("large_scores", DataType::LargeList(item.clone()), true),
        Field::new("pair", DataType::FixedSizeList(item, 2), true),
        Field::new("attributes", DataType::Map(Arc::new(entries), false), true),
        Field::new("raw", DataType::Binary, true),
        Field::new("large_raw", DataType::LargeBinary, true),
        Field::new("digest", DataType::FixedSizeBinary(16), true),
        Field::new("amount", DataType::Decimal256(45, 4), true),
        Field::new("note", DataType::LargeUtf8, true),
    ]);
    let (plan, skipped) = plan_columns(&schema, "prediction", "label");
    let planned: Vec<(&str, ColumnKind)> = plan.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    assert_eq!(planned, [("amount", ColumnKind::Numeric), ("note", ColumnKind::Categorical)]);
    let reasons: BTreeMap<&str, &str> = skipped.iter().map(|c| (c.column.as_str(), c.reason.as_str())).collect();
    for (column, kind) in [
        ("point", "a struct"),
        ("scores", "a list"),
        ("large_scores", "a list"),
        ("pair", "a fixed-size list"),
        ("attributes", "a map"),
    ] {
        assert!(reasons[column].starts_with(&format!("a nested column ({kind}, ")), "{column}: {}", reasons[column]);
    }
    for column in ["raw", "large_raw", "digest"] {
        assert!(reasons[column].starts_with("binary values ("), "{column}: {}", reasons[column]);
    }
}

/// Every codec the parquet crate writes, among them LZ4 in the Hadoop framing (the `LZ4` codec,
/// deprecated: pyarrow, Polars and DuckDB write `LZ4_RAW` now, older Hadoop-based writers the
/// framing), reads to the statistics of the snappy file.
#[test]
fn files_in_every_codec_and_both_lz4_framings_give_the_statistics_of_their_snappy_twin() {
    use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, current: bool, codec: Compression| {
        let path = dir.path().join(format!("{name}-{current}.parquet"));
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(codec)
            .set_max_row_group_row_count(Some(1500))
            .build();
        let batch = samples::batch(current);
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props))
                .unwrap();
        writer.write(&batch).unwrap();
        let metadata = writer.close().unwrap();
        assert_eq!(metadata.row_group(0).column(0).compression(), codec, "{name}");
        path.display().to_string()
    };
    let report = |name: &str, codec: Compression| {
        let report = run(&options(vec![write(name, false, codec)], vec![write(name, true, codec)])).unwrap();
        assert!(report.skipped_files.is_empty(), "{name}: {:?}", report.skipped_files);
        assert_eq!((report.windows.reference.rows, report.windows.current.rows), (5000, 5000), "{name}");
        serde_json::to_value((&report.columns, &report.performance, &report.dataset)).unwrap()
    };
    let snappy = report("snappy", Compression::SNAPPY);
    for (name, codec) in [
        ("uncompressed", Compression::UNCOMPRESSED),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("lz4-hadoop", Compression::LZ4),
        ("lz4-raw", Compression::LZ4_RAW),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
    ] {
        assert_eq!(report(name, codec), snappy, "{name}");
    }
}

#[test]
fn dictionaries_booleans_and_all_null_columns_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, cities: Vec<Option<&str>>, flags: Vec<Option<bool>>, values: Vec<Option<i64>>| {
        let city: DictionaryArray<Int32Type> = cities.into_iter().collect();
        write(
            dir.path(),
            name,
            vec![
                ("city", Arc::new(city) as ArrayRef),
                ("flag", Arc::new(BooleanArray::from(flags)) as ArrayRef),
                ("n", Arc::new(Int64Array::from(values)) as ArrayRef),
            ],
        )
    };
    let r = make(
        "r.parquet",
        vec![Some("a"), Some("b"), None, Some("a")],
        vec![Some(true), Some(false), None, Some(true)],
        vec![Some(1), Some(2), Some(3), None],
    );
    let c = make(
        "c.parquet",
        vec![Some("a"), Some("a"), Some("c"), None],
        vec![Some(true), Some(true), Some(true), Some(false)],
        vec![None, None, None, None],
    );
    let report = run(&options(vec![r.display().to_string()], vec![c.display().to_string()])).unwrap();
    let city = column(&report, "city");
    assert_eq!((city.quality.reference.nulls, city.quality.reference.valid), (1, 3));
    match &city.statistics {
        Some(Statistics::Categorical { new_categories, vanished_categories, .. }) => {
            assert_eq!(
                (new_categories.as_slice(), vanished_categories.as_slice()),
                (&["c".to_owned()][..], &["b".to_owned()][..])
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(column(&report, "flag").histogram.as_ref().unwrap().labels.len(), 2);
    let n = column(&report, "n");
    assert!(n.error.as_deref().unwrap().contains("current"), "{n:?}");
    assert_eq!((n.score, n.drifted, n.quality.current.nulls), (None, false, 4));
    assert_eq!(report.dataset.columns, 2, "columns without statistics are not counted");
}

#[test]
fn wildcards_match_file_names() {
    assert!(wildcard_match("*.parquet", "a.parquet"));
    assert!(wildcard_match("part-*-of-*.parquet", "part-1-of-3.parquet"));
    assert!(!wildcard_match("part-*.parquet", "part.parquet"));
    assert!(!wildcard_match("*.parquet", "a.parquet.tmp"));
    assert!(wildcard_match("a*a", "aa"));
    assert!(!wildcard_match("a*a", "a"));
    assert!(wildcard_match("exact.parquet", "exact.parquet"));
}

/// Rows `0..n` one minute apart from `start_ms`, with `x = i + shift`, a string `model_name`
/// alternating between `models`, and integer `segment`s `i % 3`.
fn timed(start_ms: i64, n: i64, shift: f64, models: &[&str]) -> RecordBatch {
    use arrow_array::TimestampMillisecondArray;
    RecordBatch::try_from_iter([
        (
            "ts",
            Arc::new(TimestampMillisecondArray::from_iter_values((0..n).map(|i| start_ms + i * 60_000))) as ArrayRef,
        ),
        ("model_name", Arc::new(StringArray::from_iter_values((0..n).map(|i| models[i as usize % models.len()])))),
        ("x", Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64 + shift)))),
        ("segment", Arc::new(Int64Array::from_iter_values((0..n).map(|i| i % 3)))),
    ])
    .unwrap()
}

/// One row group per batch.
fn write_groups(path: &Path, batches: &[RecordBatch]) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(batches.iter().map(RecordBatch::num_rows).max().unwrap()))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        writer.write(b).unwrap();
        writer.flush().unwrap();
    }
    writer.close().unwrap();
}

const NOV_1_MS: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

#[test]
fn timestamp_windows_prune_row_groups_and_filter_rows_of_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.parquet");
    // Three row groups: Oct 31 (outside both), Nov 1 (reference), Nov 2 (current, shifted).
    let day = 86_400_000;
    write_groups(
        &path,
        &[
            timed(NOV_1_MS - day, 100, 0.0, &["a"]),
            timed(NOV_1_MS, 100, 0.0, &["a"]),
            timed(NOV_1_MS + day, 100, 50.0, &["a"]),
        ],
    );
    let p = path.display().to_string();
    let mut o = options(vec![p.clone()], vec![p]);
    o.timestamp_column = Some("ts".to_owned());
    o.reference_window = Some("2026-11-01T00:00:00Z..2026-11-01T00:30:00Z".parse().unwrap());
    o.current_window = Some("2026-11-02T00:00:00Z..2026-11-03T00:00:00Z".parse().unwrap());
    let report = run(&o).unwrap();
    assert_eq!((report.windows.reference.rows, report.windows.current.rows), (30, 100), "rows inside the windows");
    assert_eq!(report.windows.reference.start.as_deref(), Some("2026-11-01T00:00:00Z"));
    let x = column(&report, "x");
    assert_eq!((x.quality.reference.min, x.quality.reference.max), (Some(0.0), Some(29.0)));
    assert_eq!((x.quality.current.min, x.quality.current.max), (Some(50.0), Some(149.0)));
    assert!(x.drifted);
    assert!(report.skipped_columns.iter().any(|c| c.column == "ts"), "the timestamp is not a feature");

    // Pruning reads fewer bytes than reading every row group.
    let windowed = report.bytes_read;
    // (Windows that hold every row group: the same columns are read, from every row group.)
    let mut all = options(vec![path.display().to_string()], vec![path.display().to_string()]);
    all.timestamp_column = Some("ts".to_owned());
    all.reference_window = Some("2026-10-01T00:00:00Z..2026-12-01T00:00:00Z".parse().unwrap());
    all.current_window = all.reference_window;
    assert!(windowed < run(&all).unwrap().bytes_read, "row groups outside the windows are not fetched");

    // A window no row group overlaps: the file is pruned, and the window is empty.
    o.current_window = Some("2027-01-01T00:00:00Z..2027-01-02T00:00:00Z".parse().unwrap());
    let err = run(&o).unwrap_err();
    assert!(matches!(err, DriftJobError::EmptyWindow { side: Side::Current, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "the current window has no readable rows (1 input file(s), no row of them in the window)"
    );

    o.timestamp_column = None;
    assert!(matches!(run(&o).unwrap_err(), DriftJobError::InvalidOption(m) if m.contains("--timestamp-column")));
}

#[test]
fn hive_directories_and_the_model_column_select_one_model() {
    let dir = tempfile::tempdir().unwrap();
    for (model, day, shift) in [("a", "2026-11-01", 0.0), ("b", "2026-11-01", 500.0)] {
        let d = dir.path().join(format!("model_name={model}")).join(format!("dt={day}"));
        std::fs::create_dir_all(&d).unwrap();
        write(
            &d,
            "part-0.parquet",
            timed(NOV_1_MS, 60, shift, &[model])
                .columns()
                .iter()
                .zip(["ts", "model_name", "x", "segment"])
                .map(|(c, n)| (n, c.clone()))
                .collect(),
        );
    }
    // The other model's partition has a corrupt file: never opened.
    std::fs::write(dir.path().join("model_name=b").join("dt=2026-11-01").join("bad.parquet"), b"garbage").unwrap();
    // Unpartitioned: both models in one file, filtered by the column.
    let mixed = dir.path().join("mixed.parquet");
    write_groups(&mixed, &[timed(NOV_1_MS, 60, 1000.0, &["a", "b"])]);
    let all = dir.path().display().to_string();
    let mut o = options(vec![all.clone()], vec![all]);
    o.model_name = Some("a".to_owned());
    let report = run(&o).unwrap();
    assert!(report.skipped_files.is_empty(), "{:?}", report.skipped_files);
    assert_eq!(report.windows.reference.rows, 90, "60 of partition a + 30 rows of model a in the mixed file");
    assert_eq!(report.windows.reference.pruned_files, 2);
    assert!(report.skipped_columns.iter().any(|c| c.column == "model_name"));
    assert_eq!(column(&report, "x").quality.reference.max, Some(1058.0), "mixed rows of model a only (even i)");
}

#[test]
fn configured_kinds_methods_and_thresholds_decide() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.parquet");
    let c = dir.path().join("c.parquet");
    write_groups(&r, &[timed(NOV_1_MS, 300, 0.0, &["a"])]);
    write_groups(&c, &[timed(NOV_1_MS, 300, 3.0, &["a"])]);
    let config = JobConfig::parse(
        "select = \"configured\"\n[columns.x]\nmethod = \"psi\"\nthreshold = 5.0\n[columns.segment]\nkind = \"categorical\"\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let o = options(vec![r.display().to_string()], vec![c.display().to_string()]).with_config(&config);
    let report = run(&o).unwrap();
    let names: Vec<&str> = report.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(names, ["x", "segment"], "select = configured");
    let x = column(&report, "x");
    assert_eq!(
        (x.method, x.threshold, x.drifted),
        (DriftMethod::Psi, 5.0, false),
        "a small shift under a high PSI bar"
    );
    let segment = column(&report, "segment");
    assert_eq!((segment.kind, segment.method), (ColumnKind::Categorical, DriftMethod::JensenShannon));
    let p_value =
        JobConfig::parse("policy = \"p_value\"\n[columns.x]\nthreshold = 2.0\n", Path::new("t.toml")).unwrap();
    let err = run(&options(vec![r.display().to_string()], vec![c.display().to_string()]).with_config(&p_value));
    assert!(
        matches!(&err, Err(DriftJobError::Config { key, .. }) if key == "columns.x.threshold"),
        "a p-value threshold of 2 under the p-value policy: {err:?}"
    );

    let bad = JobConfig::parse("[columns.model_name]\nkind = \"numeric\"\n", Path::new("t.toml")).unwrap();
    let o = options(vec![r.display().to_string()], vec![c.display().to_string()]).with_config(&bad);
    let err = run(&o).unwrap_err();
    assert!(matches!(&err, DriftJobError::Config { key, .. } if key == "columns.model_name.kind"), "{err}");
    let missing = JobConfig::parse("[columns.nope]\nkind = \"numeric\"\n", Path::new("t.toml")).unwrap();
    let err = run(&options(vec![r.display().to_string()], vec![c.display().to_string()]).with_config(&missing));
    assert!(err.unwrap_err().to_string().contains("columns.nope"));
}

#[test]
fn the_samples_report_performance_and_a_local_quarantine_keeps_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, b"PAR1 broken").unwrap();
    let mut o = options(vec![sample("reference.parquet")], vec![sample("current.parquet"), bad.display().to_string()]);
    o.quarantine = Some(dir.path().join("q").display().to_string());
    let report = run(&o).unwrap();
    let p = report.performance.as_ref().expect("the samples have labels");
    let m = p.current.metrics.as_ref().unwrap();
    assert_eq!((m.rows, p.current.rows), (5000, 5000));
    assert!(m.auroc.is_some() && m.accuracy > 0.5, "{m:?}");
    assert_eq!(report.quarantined_files, 1);
    let copy = dir.path().join("q").join("test").join("current").join("bad.parquet");
    assert_eq!(std::fs::read(&copy).unwrap(), b"PAR1 broken");
    let reason: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copy.with_file_name("bad.parquet.reason.json")).unwrap()).unwrap();
    assert_eq!(reason["source"], bad.display().to_string());
    let html = report::html(&report);
    assert!(html.contains("Performance") && html.contains("quarantined"), "the report shows both");
}

#[test]
fn the_report_draws_each_columns_trend_over_previous_runs() {
    let mut report = sample_report();
    assert!(!report::html(&report).contains("<h2>Trend</h2>"), "no history, no trend section");
    let point = |run: &str, score: f64, drifted: bool| HistoryPoint {
        run_id: run.to_owned(),
        window_end: "2026-11-01T00:00:00Z".to_owned(),
        method: "wasserstein".to_owned(),
        score: Some(score),
        drifted,
        alert: Default::default(),
        severity: None,
    };
    report.history = vec![ColumnHistory {
        column: "amount".to_owned(),
        runs: vec![point("r1", 0.5, false), point("r2", 0.01, true)],
    }];
    let html = report::html(&report);
    let section = &html[html.find("<h2>Trend</h2>").unwrap()..html.find("<h2>Data quality</h2>").unwrap()];
    assert!(
        section.contains("<td>amount</td><td>wasserstein</td><td>3</td>"),
        "two earlier runs and this one: {section}"
    );
    assert_eq!(section.matches("<circle").count(), 3);
    assert_eq!(section.matches("fill=\"#b42318\"").count(), 2, "r2 and this run drifted");
    assert!(section.contains("<td>0.0100</td>"), "the previous score: {section}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["history"][0]["runs"][1]["run_id"], "r2");
}

/// Text columns are read as dictionaries (see `read::categories_as_dictionaries`): files whose
/// pages are dictionary-encoded, plain, or dictionary with a fallback to plain are counted
/// exactly as their values say.
#[test]
fn text_categories_count_the_same_whatever_the_page_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let values = |n: usize, shift: usize| -> Vec<Option<String>> {
        (0..n).map(|i| if i % 11 == 0 { None } else { Some(format!("c{}", (i + shift) % 7)) }).collect()
    };
    let write_with = |name: &str, values: &[Option<String>], dictionary: bool, page_limit: usize| {
        let texts: StringArray = values.iter().map(|v| v.as_deref()).collect();
        let batch = RecordBatch::try_from_iter([("city", Arc::new(texts) as ArrayRef)]).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_dictionary_enabled(dictionary)
            .set_dictionary_page_size_limit(page_limit)
            .build();
        let path = dir.path().join(name);
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props))
                .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path.display().to_string()
    };
    let (reference, current) = (values(3000, 0), values(2000, 3));
    // The histogram of a categorical column with few categories: every category, by name, and
    // its share of the window's non-null values; and the window's null count.
    let expected = |values: &[Option<String>]| {
        let mut counts = BTreeMap::new();
        for v in values.iter().flatten() {
            *counts.entry(v.clone()).or_insert(0u64) += 1;
        }
        let valid = values.iter().flatten().count() as f64;
        let shares: BTreeMap<String, f64> = counts.into_iter().map(|(k, n)| (k, n as f64 / valid)).collect();
        (shares, (values.len() as u64 - valid as u64))
    };
    // A dictionary page limit of a few bytes makes the writer fall back to plain pages mid-column.
    let files = [
        (
            write_with("r-dict.parquet", &reference, true, 1 << 20),
            write_with("c-dict.parquet", &current, true, 1 << 20),
        ),
        (
            write_with("r-plain.parquet", &reference, false, 1 << 20),
            write_with("c-plain.parquet", &current, false, 1 << 20),
        ),
        (write_with("r-fallback.parquet", &reference, true, 8), write_with("c-fallback.parquet", &current, true, 8)),
    ];
    // What each reference file's pages really are.
    let encodings = |path: &str| {
        use parquet::file::reader::FileReader as _;
        let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        let pages = reader.get_row_group(0).unwrap().get_column_page_reader(0).unwrap();
        let data_pages: Vec<parquet::basic::Encoding> = pages
            .map(|p| p.unwrap())
            .filter(|p| p.page_type() != parquet::basic::PageType::DICTIONARY_PAGE)
            .map(|p| p.encoding())
            .collect();
        use parquet::basic::Encoding::{PLAIN, RLE_DICTIONARY};
        (data_pages.contains(&RLE_DICTIONARY), data_pages.contains(&PLAIN))
    };
    assert_eq!(encodings(&files[0].0), (true, false));
    assert_eq!(encodings(&files[1].0), (false, true));
    assert_eq!(encodings(&files[2].0), (true, true));
    let mut chi_squares = Vec::new();
    for (r, c) in files {
        let report = run(&RunOptions::new(vec![r.clone()], vec![c])).unwrap();
        let city = column(&report, "city");
        let histogram = city.histogram.as_ref().unwrap();
        let shares = |side: &[f64]| -> BTreeMap<String, f64> {
            histogram.labels.iter().cloned().zip(side.iter().copied()).filter(|(_, s)| *s > 0.0).collect()
        };
        let (reference_shares, reference_nulls) = expected(&reference);
        let (current_shares, current_nulls) = expected(&current);
        assert_eq!(shares(&histogram.reference), reference_shares, "{r}");
        assert_eq!(shares(&histogram.current), current_shares, "{r}");
        assert_eq!((city.quality.reference.nulls, city.quality.current.nulls), (reference_nulls, current_nulls));
        chi_squares.push(city.score.expect("a score"));
    }
    assert!(chi_squares.windows(2).all(|w| w[0] == w[1]), "{chi_squares:?}");
}

#[test]
fn an_empty_window_says_whether_files_were_missing_unreadable_or_outside_it() {
    assert_eq!(super::error::empty_window_detail(0, 0), "no input file found");
    assert_eq!(super::error::empty_window_detail(2, 0), "2 input file(s), no row of them in the window");
    assert_eq!(
        super::error::empty_window_detail(3, 1),
        "3 input file(s): 1 skipped as unreadable (the warnings above give each reason), no row of the others in the window"
    );
}

/// The samples' report with every optional section filled: alert, windows, model, trend,
/// skipped files and columns (the performance section comes from the samples' labels).
fn every_section_report() -> DriftReport {
    let mut json = serde_json::to_value(sample_report()).unwrap();
    json["model_name"] = "churn <v2>".into();
    json["model_version"] = "7".into();
    json["windows"]["reference"]["start"] = "2026-10-01T00:00:00Z".into();
    json["windows"]["reference"]["end"] = "2026-10-08T00:00:00Z".into();
    json["windows"]["current"]["start"] = "2026-10-08T00:00:00Z".into();
    json["windows"]["current"]["end"] = "2026-10-15T00:00:00Z".into();
    json["skipped_files"] = serde_json::json!([
        {"side": "current", "path": "s3://b/c/bad.parquet", "reason": "not Parquet & <broken>",
         "quarantined_to": "s3://b/quarantine/bad.parquet"},
        {"side": "reference", "path": "r/missing.parquet", "reason": "missing"}
    ]);
    json["quarantined_files"] = 1.into();
    json["skipped_columns"] = serde_json::json!([{"column": "customer_id", "reason": "looks like an id"}]);
    json["alert"] = serde_json::json!({
        "action": "fired", "reason": "amount drifted in 2 of 3 runs",
        "columns": [{"column": "amount", "action": "fired", "severity": "high", "reason": "2 of 3"},
                    {"column": "channel", "action": "held", "reason": "cooldown"}]
    });
    json["history"] = serde_json::json!([{"column": "amount", "runs": [
        {"run_id": "r1", "window_end": "2026-10-01T00:00:00Z", "method": "wasserstein", "score": 0.05, "drifted": false},
        {"run_id": "r2", "window_end": "2026-10-08T00:00:00Z", "method": "wasserstein", "score": 0.2, "drifted": true}
    ]}]);
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_html_report_is_byte_for_byte_the_pinned_one() {
    // Pinned before `report::html` was split into its sections; a deliberate change to the report
    // rewrites the fixture.
    let html = report::html(&every_section_report());
    assert!(html == include_str!("../tests/fixtures/report.html"), "the report's bytes changed");
}
