//! Map / reduce over local files against the single process, bit for bit.

use std::path::{Path, PathBuf};

use deltaone::drift::{Binning, NumericDrift, NumericSample, Side};

use super::*;
use crate::{Statistics, samples};
use deltaone_app::schedule::plan::{MANIFEST_VERSION, TimeRange as ManifestRange};

/// The sample windows cut into files of uneven sizes (reference 9, current 8 with one corrupt
/// file), and a manifest of them writing under `out`.
fn sharded_inputs(dir: &Path) -> Manifest {
    let list = |name: &str, current: bool, cuts: &[usize]| {
        let batch = samples::batch(current);
        let mut files = Vec::new();
        let mut start = 0;
        for (i, &end) in cuts.iter().chain([&batch.num_rows()]).enumerate() {
            let path = dir.join(format!("{name}-{i:02}.parquet"));
            samples::write_parquet(&path, &batch.slice(start, end - start)).unwrap();
            files.push(path);
            start = end;
        }
        files
    };
    let reference = list("reference", false, &[300, 900, 1000, 2200, 2500, 3100, 4000, 4800]);
    let mut current = list("current", true, &[1000, 1500, 2900, 3000, 3600, 4200]);
    let corrupt = dir.join("current-99.parquet");
    std::fs::write(&corrupt, b"PAR1 this is not parquet").unwrap();
    current.push(corrupt);
    manifest_of("sharded", &reference, &current, dir)
}

/// A one-shard manifest of these files writing under `dir/out`.
fn manifest_of(run_id: &str, reference: &[PathBuf], current: &[PathBuf], dir: &Path) -> Manifest {
    let input = |files: &[PathBuf]| {
        files
            .iter()
            .map(|p| deltaone::sharding::InputFile {
                uri: p.display().to_string(),
                bytes: std::fs::metadata(p).unwrap().len(),
            })
            .collect()
    };
    Manifest {
        format: MANIFEST_VERSION,
        run_id: run_id.to_owned(),
        model: "fraud".to_owned(),
        scheduled_time: "2026-11-23T06:00:00Z".to_owned(),
        reference: input(reference),
        current: input(current),
        reference_window: None,
        current_window: ManifestRange {
            start: "2026-11-22T06:00:00Z".to_owned(),
            end: "2026-11-23T06:00:00Z".to_owned(),
        },
        timestamp_column: None,
        drift_share: None,
        shards: 1,
        output: dir.join("out").display().to_string(),
    }
}

fn base(dir: &Path) -> RunOptions {
    let mut options = RunOptions::new(Vec::new(), Vec::new());
    options.quarantine = Some(dir.join("quarantine").display().to_string());
    options
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn with_shards(manifest: &Manifest, shards: u32, dir: &Path) -> Manifest {
    let mut m = manifest.clone();
    m.shards = shards;
    m.output = dir.join(format!("out-{shards}")).display().to_string();
    m
}

fn map_all(options: &RunOptions, manifest: &Manifest) {
    for shard in 0..manifest.shards {
        block_on(map(options, manifest, shard, None, None)).unwrap();
    }
}

/// The report as JSON without `bytes_read` (each shard also reads the schema file's footer).
fn comparable(report: &DriftReport) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap();
    value.as_object_mut().unwrap().remove("bytes_read");
    value
}

fn column<'a>(report: &'a DriftReport, name: &str) -> &'a crate::ColumnResult {
    report.columns.iter().find(|c| c.column == name).unwrap()
}

#[test]
fn map_reduce_over_1_2_4_7_shards_equals_the_single_process_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    let options = base(dir.path());
    let single = block_on(run_manifest(&options, &manifest, None)).unwrap();
    assert_eq!((single.windows.reference.rows, single.windows.current.rows), (5000, 5000));
    assert_eq!(single.skipped_files.len(), 1, "the corrupt file is skipped");
    assert!(single.performance.is_some());

    // The same files through the plain single-process entry point.
    let mut plain = options.clone();
    plain.run_id = manifest.run_id.clone();
    plain.reference = manifest.reference.iter().map(|f| f.uri.clone()).collect();
    plain.current = manifest.current.iter().map(|f| f.uri.clone()).collect();
    // (a manifest run labels its rows with the scheduled window; plain runs have no window)
    let mut unlabelled = single.clone();
    (unlabelled.windows.current.start, unlabelled.windows.current.end) = (None, None);
    assert_eq!(comparable(&crate::run(&plain).unwrap()), comparable(&unlabelled));
    assert_eq!(single.windows.current.end.as_deref(), Some("2026-11-23T06:00:00Z"));

    for shards in [1, 2, 4, 7] {
        let m = with_shards(&manifest, shards, dir.path());
        map_all(&options, &m);
        let reduced = block_on(reduce(&options, &m, None)).unwrap();
        assert_eq!(comparable(&reduced), comparable(&single), "{shards} shard(s)");
    }
}

#[test]
fn exact_statistics_are_those_of_the_values_in_reading_order() {
    // The statistics before partial states existed: NumericDrift over the values as read.
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    let options = base(dir.path());
    let m = with_shards(&manifest, 4, dir.path());
    map_all(&options, &m);
    let reduced = block_on(reduce(&options, &m, None)).unwrap();
    let values = |current: bool| -> Vec<f64> {
        let batch = samples::batch(current);
        let amount = batch.column_by_name("amount").unwrap();
        let amount = amount.as_any().downcast_ref::<arrow_array::Float32Array>().unwrap();
        amount.iter().flatten().map(f64::from).filter(|x| x.is_finite()).collect()
    };
    let r = NumericSample::new(Side::Reference, &values(false)).unwrap();
    let c = NumericSample::new(Side::Current, &values(true)).unwrap();
    let expected = NumericDrift::compute(&r, &c, Binning::default()).unwrap();
    match &column(&reduced, "amount").statistics {
        Some(Statistics::Numeric { ks_statistic, ks_p_value, wasserstein, psi, jensen_shannon, .. }) => {
            assert_eq!(ks_statistic.unwrap().to_bits(), expected.ks.statistic.to_bits());
            assert_eq!(ks_p_value.unwrap().to_bits(), expected.ks.p_value.to_bits());
            assert_eq!(wasserstein.unwrap().to_bits(), expected.wasserstein.raw.to_bits());
            assert_eq!(psi.unwrap().to_bits(), expected.psi.to_bits());
            assert_eq!(jensen_shannon.unwrap().to_bits(), expected.jensen_shannon.to_bits());
        }
        other => panic!("amount is not exact: {other:?}"),
    }
}

#[test]
fn merge_order_does_not_change_a_bit() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    let options = base(dir.path());
    let m = with_shards(&manifest, 7, dir.path());
    map_all(&options, &m);
    let partials: Vec<(u32, RunPartial)> = (0..7)
        .map(|i| (i, RunPartial::decode(&std::fs::read(partial_location(&m, i).to_string()).unwrap()).unwrap()))
        .collect();
    let merged = |order: &[usize]| {
        let list = order.iter().map(|&i| partials[i].clone()).collect();
        let options = manifest_options(&options, &m).unwrap();
        serde_json::to_string(&finish(&options, merge_partials(list, &manifest_order(&m)).unwrap()).unwrap()).unwrap()
    };
    let forward = merged(&[0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(merged(&[6, 5, 4, 3, 2, 1, 0]), forward);
    assert_eq!(merged(&[3, 0, 6, 2, 5, 1, 4]), forward);
    assert_eq!(merged(&[1, 3, 5, 0, 2, 4, 6]), forward);
}

#[test]
fn a_killed_shard_rerun_writes_the_same_partial_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    let options = base(dir.path());
    let m = with_shards(&manifest, 4, dir.path());
    map_all(&options, &m);
    let path = PathBuf::from(partial_location(&m, 2).to_string());
    let first = std::fs::read(&path).unwrap();
    // Killed half-way through writing: a truncated file; the re-run replaces it.
    std::fs::write(&path, &first[..first.len() / 2]).unwrap();
    block_on(map(&options, &m, 2, None, None)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
    // Killed before writing at all.
    std::fs::remove_file(&path).unwrap();
    block_on(map(&options, &m, 2, Some(4), None)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
}

#[test]
fn a_missing_or_corrupt_partial_fails_the_reduce_naming_the_shard() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    let options = base(dir.path());
    let m = with_shards(&manifest, 4, dir.path());
    map_all(&options, &m);
    let path = |i| PathBuf::from(partial_location(&m, i).to_string());
    let good = std::fs::read(path(1)).unwrap();

    std::fs::remove_file(path(1)).unwrap();
    let err = block_on(reduce(&options, &m, None)).unwrap_err().to_string();
    assert!(err.starts_with("partial of shard 1: reading") && err.contains("1.json"), "{err}");

    std::fs::write(path(1), &good[..good.len() - 40]).unwrap();
    let err = block_on(reduce(&options, &m, None)).unwrap_err().to_string();
    assert!(err.starts_with("partial of shard 1:") && err.contains("not a shard partial"), "{err}");

    // Valid JSON, but the values held disagree with the counts.
    let mut tampered: serde_json::Value = serde_json::from_slice(&good).unwrap();
    tampered["state"]["reference"]["rows"] = serde_json::json!(1);
    std::fs::write(path(1), serde_json::to_vec(&tampered).unwrap()).unwrap();
    let err = block_on(reduce(&options, &m, None)).unwrap_err().to_string();
    assert!(err.starts_with("partial of shard 1:") && err.contains("rows"), "{err}");

    // Found by the fuzz checks (tests/fuzz/regressions/shard_partial/): counts that overflowed when the
    // reduce step added the shards up are refused when read, naming the count.
    for (pointer, value) in [("/bytes_read", u64::MAX), ("/current/matched", u64::MAX), ("/reference/pruned", 1 << 50)]
    {
        let mut tampered: serde_json::Value = serde_json::from_slice(&good).unwrap();
        *tampered.pointer_mut(pointer).unwrap() = serde_json::json!(value);
        std::fs::write(path(1), serde_json::to_vec(&tampered).unwrap()).unwrap();
        let err = block_on(reduce(&options, &m, None)).unwrap_err().to_string();
        let what = pointer.rsplit('/').next().unwrap();
        assert!(err.starts_with("partial of shard 1:") && err.contains(&format!("{what} is {value}")), "{err}");
    }

    // Another shard's partial in this shard's place.
    std::fs::copy(path(3), path(1)).unwrap();
    let err = block_on(reduce(&options, &m, None)).unwrap_err().to_string();
    assert!(err.contains("is shard 3 of 4, not 1 of 4"), "{err}");

    std::fs::write(path(1), &good).unwrap();
    assert!(block_on(reduce(&options, &m, None)).is_ok());
}

#[test]
fn sketch_mode_is_identical_across_shards_and_within_its_bounds_of_the_exact_values() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    let exact = block_on(run_manifest(&base(dir.path()), &manifest, None)).unwrap();
    let mut options = base(dir.path());
    options.sketch = true;
    let single = block_on(run_manifest(&options, &manifest, None)).unwrap();
    for shards in [2, 7] {
        let m = with_shards(&manifest, shards, dir.path());
        map_all(&options, &m);
        assert_eq!(comparable(&block_on(reduce(&options, &m, None)).unwrap()), comparable(&single));
    }
    // Past --exact-max-rows the columns are sketched without the flag; shards that each hold
    // fewer values than that are sketched by the reduce, as the single process sketches the window.
    let mut auto = base(dir.path());
    auto.exact_max_rows = 3000;
    assert_eq!(comparable(&block_on(run_manifest(&auto, &manifest, None)).unwrap()), comparable(&single));
    let m = with_shards(&manifest, 4, dir.path());
    map_all(&auto, &m);
    let partial = RunPartial::decode(&std::fs::read(partial_location(&m, 0).to_string()).unwrap()).unwrap();
    assert!(
        matches!(&partial.state.current.columns["amount"], ColumnPartial::Numeric(n) if matches!(n.values, NumericValues::Exact { .. })),
        "a shard below the limit stays exact"
    );
    assert_eq!(comparable(&block_on(reduce(&auto, &m, None)).unwrap()), comparable(&single));

    let mut checked = 0;
    for e in &exact.columns {
        let s = column(&single, &e.column);
        let (Some(Statistics::Numeric { ks_statistic, wasserstein, .. }), Some(sketched)) =
            (&e.statistics, &s.statistics)
        else {
            continue;
        };
        let Statistics::NumericSketch {
            ks_statistic: d,
            ks_statistic_error_bound: bound,
            wasserstein: w,
            wasserstein_error_bound: w_bound,
            ..
        } = sketched
        else {
            panic!("{} is not sketched: {sketched:?}", e.column);
        };
        let (exact_d, exact_w) = (ks_statistic.unwrap(), wasserstein.unwrap());
        assert!(d.unwrap() <= exact_d + 1e-12 && exact_d <= d.unwrap() + bound.unwrap() + 1e-12, "{}: KS", e.column);
        assert!((exact_w - w.unwrap()).abs() <= w_bound.unwrap() + 1e-12, "{}: Wasserstein", e.column);
        assert_eq!(e.drifted, s.drifted, "{}: the same decision on the samples", e.column);
        checked += 1;
    }
    assert_eq!(checked, 4, "amount, age, score_a and prediction are numeric");

    // The AUROC is sketched too (every other metric exact), within its bound.
    let (e, s) = (exact.performance.as_ref().unwrap(), single.performance.as_ref().unwrap());
    for (e, s) in [(&e.reference, &s.reference), (&e.current, &s.current)] {
        let (e, s) = (e.metrics.as_ref().unwrap(), s.metrics.as_ref().unwrap());
        let bound = s.auroc_error_bound.expect("sketched");
        assert!((e.auroc.unwrap() - s.auroc.unwrap()).abs() <= bound + 1e-15);
        assert_eq!((e.counts, e.accuracy, e.f1, e.log_loss), (s.counts, s.accuracy, s.f1, s.log_loss));
    }
}

/// A copy of `batch` with `column` replaced.
fn with_column(
    batch: &arrow_array::RecordBatch,
    column: &str,
    array: arrow_array::ArrayRef,
) -> arrow_array::RecordBatch {
    let schema = batch.schema();
    let mut fields: Vec<arrow_schema::Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns = batch.columns().to_vec();
    let i = schema.index_of(column).unwrap();
    fields[i] = arrow_schema::Field::new(column, array.data_type().clone(), true);
    columns[i] = array;
    arrow_array::RecordBatch::try_new(std::sync::Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap()
}

#[test]
fn a_file_with_bad_labels_or_another_kind_of_prediction_is_named_the_same_by_every_shard_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = sharded_inputs(dir.path());
    let part = samples::batch(true).slice(0, 500);
    let bad_labels = dir.path().join("current-50-labels.parquet");
    let labels = arrow_array::Int64Array::from(vec![2i64; 500]);
    samples::write_parquet(&bad_labels, &with_column(&part, "label", std::sync::Arc::new(labels))).unwrap();
    let hard = dir.path().join("current-60-hard.parquet");
    // Integer 0/1 predictions: numeric as the reference's scores, so the file is read.
    let predicted = arrow_array::Int64Array::from(vec![1i64; 500]);
    samples::write_parquet(&hard, &with_column(&part, "prediction", std::sync::Arc::new(predicted))).unwrap();
    let entry = |p: &Path| deltaone::sharding::InputFile {
        uri: p.display().to_string(),
        bytes: std::fs::metadata(p).unwrap().len(),
    };
    manifest.current.insert(3, entry(&bad_labels));
    manifest.current.insert(5, entry(&hard));
    let options = base(dir.path());
    let single = block_on(run_manifest(&options, &manifest, None)).unwrap();
    let current = &single.performance.as_ref().unwrap().current;
    let error = current.error.as_deref().unwrap();
    assert!(error.starts_with(&format!("{}: ", bad_labels.display())) && error.contains("not 0 or 1"), "{error}");
    assert_eq!(current.metrics, None);
    assert!(single.performance.as_ref().unwrap().reference.metrics.is_some());
    for shards in [2, 4, 7] {
        let m = with_shards(&manifest, shards, dir.path());
        map_all(&options, &m);
        assert_eq!(comparable(&block_on(reduce(&options, &m, None)).unwrap()), comparable(&single), "{shards}");
    }

    // Without the bad labels, the file of hard predictions among files of scores is named.
    manifest.current.remove(3);
    let single = block_on(run_manifest(&options, &manifest, None)).unwrap();
    assert_eq!(single.skipped_files.len(), 1, "only the corrupt file: {:?}", single.skipped_files);
    let error = single.performance.as_ref().unwrap().current.error.clone().unwrap();
    assert!(error.contains(&format!("{} holds hard predictions", hard.display())), "{error}");
    for shards in [2, 7] {
        let m = with_shards(&manifest, shards, dir.path());
        map_all(&options, &m);
        assert_eq!(comparable(&block_on(reduce(&options, &m, None)).unwrap()), comparable(&single), "{shards}");
    }
}

#[test]
fn a_sketch_mode_partial_does_not_grow_with_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = sharded_inputs(dir.path());
    // The same windows four times over (copies of every file).
    let mut bigger = manifest.clone();
    for list in [&mut bigger.reference, &mut bigger.current] {
        let originals = list.clone();
        for copy in 1..4 {
            for f in &originals {
                let path = format!("{}.copy{copy}.parquet", f.uri);
                std::fs::copy(&f.uri, &path).unwrap();
                list.push(deltaone::sharding::InputFile { uri: path, bytes: f.bytes });
            }
        }
    }
    let mut options = base(dir.path());
    let size = |options: &RunOptions, manifest: &Manifest, name: &str| {
        let mut m = manifest.clone();
        m.output = dir.path().join(name).display().to_string();
        map_all(options, &m);
        let bytes = std::fs::read(partial_location(&m, 0).to_string()).unwrap();
        let partial = RunPartial::decode(&bytes).unwrap();
        // The state that grows with the data (the lists of files grow with the files).
        let state = serde_json::to_vec(&(&partial.state, &partial.reference.performance, &partial.current.performance));
        (state.unwrap().len() as f64, partial)
    };
    let (exact_small, _) = size(&options, &manifest, "exact-small");
    let (exact_big, partial) = size(&options, &bigger, "exact-big");
    assert_eq!(partial.state.current.rows, 20_000);
    assert!(exact_big > 3.5 * exact_small, "exact partials keep every value: {exact_small} -> {exact_big} bytes");
    options.sketch = true;
    let (sketch_small, small) = size(&options, &manifest, "sketch-small");
    let (sketch_big, partial) = size(&options, &bigger, "sketch-big");
    // Four times the rows: the same buckets, with counts a digit longer at most.
    assert!(
        sketch_big < 1.25 * sketch_small,
        "sketch partials hold buckets, not rows: {sketch_small} -> {sketch_big} bytes"
    );
    let buckets = |p: &RunPartial| -> Vec<usize> {
        let window = &p.state.current;
        let numeric = window.columns.values().filter_map(|c| match c {
            ColumnPartial::Numeric(NumericPartial { values: NumericValues::Sketch { sketch }, .. }) => {
                Some(sketch.bucket_count())
            }
            _ => None,
        });
        numeric.collect()
    };
    assert_eq!(buckets(&small), buckets(&partial));
    assert_eq!(buckets(&partial).len(), 4);
    let performance = partial.current.performance.as_ref().expect("the samples have labels");
    assert_eq!(
        performance.rows(),
        20_000 - partial.current.files.iter().filter_map(|f| f.performance.as_ref()).map(|f| f.skipped).sum::<u64>()
    );
}

#[test]
fn the_shard_comes_from_the_flag_then_the_array_index_and_results_go_next_to_the_manifest() {
    assert_eq!(shard_index(Some(3), Some("5")).unwrap(), 3);
    assert_eq!(shard_index(None, Some("5")).unwrap(), 5);
    assert_eq!(shard_index(None, None).unwrap(), 0, "a plain (non-array) job is shard 0");
    let err = shard_index(None, Some("five")).unwrap_err().to_string();
    assert!(err.contains("AWS_BATCH_JOB_ARRAY_INDEX \"five\""), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let mut m = sharded_inputs(dir.path());
    m.output = format!("s3://reports/drift/{}/", m.run_id);
    assert_eq!(manifest_out(&m), "s3://reports/drift/", "delivery adds <run id>/ itself");
    assert_eq!(partial_location(&m, 6).to_string(), "s3://reports/drift/sharded/partials/6.json");
    let err = block_on(map(&base(dir.path()), &m, 7, Some(7), None)).unwrap_err().to_string();
    assert!(err.contains("shard 7 is not in 0..7"), "{err}");
}

/// Output `i` of SplitMix64 from `seed`, as `bench/reference/drift_reference.py` computes it.
fn splitmix64(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The files of one window of `src/drift/testdata/nulls_across_files.json` (the recipe of
/// `drift_reference.py`'s `nulls_window`): columns `x` and `y` with their nulls, in files of
/// `file_rows` rows, each file in row groups of 20,000 rows.
fn nulls_files(dir: &Path, side: &str, seed: u64, file_rows: &[usize], null_per_65536: u64) -> Vec<PathBuf> {
    let n: u64 = file_rows.iter().sum::<usize>() as u64;
    let current = side == "current";
    let row = |i: u64| {
        let draw = |stream: u64| splitmix64(seed, stream * n + i);
        let x_int = (0..4).map(|j| (draw(j) >> 44) as i64).sum::<i64>() - (1 << 21) + if current { 2000 } else { 0 };
        let d = (draw(4) >> 44) as i64;
        let y_int = ((d * d) >> 30) + if current { 5 } else { 0 };
        let nulls = draw(5);
        let x = (nulls & 0xFFFF >= null_per_65536).then(|| x_int as f64 / 100000.0);
        let y = ((nulls >> 16) & 0xFFFF >= null_per_65536).then(|| y_int as f64 / 100.0);
        (x, y)
    };
    let mut start = 0u64;
    let mut paths = Vec::new();
    for (f, &rows) in file_rows.iter().enumerate() {
        let (x, y): (Vec<Option<f64>>, Vec<Option<f64>>) = (start..start + rows as u64).map(row).unzip();
        start += rows as u64;
        let batch = arrow_array::RecordBatch::try_from_iter([
            ("x", std::sync::Arc::new(arrow_array::Float64Array::from(x)) as arrow_array::ArrayRef),
            ("y", std::sync::Arc::new(arrow_array::Float64Array::from(y)) as arrow_array::ArrayRef),
        ])
        .unwrap();
        let path = dir.join(format!("{side}-{f}.parquet"));
        let props =
            parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(20_000)).build();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props))
                .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        paths.push(path);
    }
    paths
}

/// The reference shape of a quantile PSI that was reported 5e-8 away from NumPy's (200,000 rows
/// per window in three files, 5 % nulls), read from Parquet: in one process and over three map
/// shards the PSI is NumPy's within 1e-9 relative (the domain's reference test checks the edges
/// and shares of the same values exactly).
#[test]
fn quantile_psi_of_nulls_across_three_files_per_window_matches_numpy_in_one_process_and_sharded() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../../src/drift/testdata/nulls_across_files.json")).unwrap();
    let g = &fixture["generator"];
    let dir = tempfile::tempdir().unwrap();
    let files = |side: &str| {
        let rows: Vec<usize> =
            g["file_rows"][side].as_array().unwrap().iter().map(|r| r.as_u64().unwrap() as usize).collect();
        let seed = g["seeds"][side].as_u64().unwrap();
        nulls_files(dir.path(), side, seed, &rows, g["null_per_65536"].as_u64().unwrap())
    };
    let (reference, current) = (files("reference"), files("current"));
    let uris = |paths: &[PathBuf]| paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
    let mut options = base(dir.path());
    options.run_id = "nulls".to_owned();
    (options.reference, options.current) = (uris(&reference), uris(&current));
    let single = crate::run(&options).unwrap();
    assert_eq!((single.windows.reference.rows, single.windows.current.rows), (200_000, 200_000));

    let m = with_shards(&manifest_of("nulls", &reference, &current, dir.path()), 3, dir.path());
    map_all(&options, &m);
    let reduced = block_on(reduce(&options, &m, None)).unwrap();

    for report in [&single, &reduced] {
        for name in ["x", "y"] {
            let expected = &fixture["columns"][name];
            let result = column(report, name);
            let nulls = (result.quality.reference.nulls, result.quality.current.nulls);
            let want =
                (expected["nulls"]["reference"].as_u64().unwrap(), expected["nulls"]["current"].as_u64().unwrap());
            assert_eq!(nulls, want, "{name}: nulls");
            let numpy: f64 = expected["quantile_bins"]["psi"].as_str().unwrap().parse().unwrap();
            let Some(Statistics::Numeric { psi: Some(psi), bins, .. }) = result.statistics.clone() else {
                panic!("{name}: {:?}", result.statistics)
            };
            assert_eq!(bins, 10, "{name}");
            assert!((psi - numpy).abs() <= 1e-9 * numpy, "{name}: PSI {psi:e} vs NumPy's {numpy:e}");
        }
    }
    assert_eq!(column(&reduced, "x").statistics, column(&single, "x").statistics);
    assert_eq!(column(&reduced, "y").statistics, column(&single, "y").statistics);
}
