//! Parquet files as users' writers make them — pyarrow, Polars and DuckDB; every codec, page
//! format and encoding they write; timestamps of every unit and Spark's INT96, decimals, large
//! strings, binary and nested columns — read by the drift job and by the evaluation function.
//!
//! The files are written by `tests/parquet-writers/generate.sh` (the pinned writers in a cached
//! virtualenv; layout in its `write_files.py`), never checked in. No server is needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deltaone_app::artifact::KeyTemplate;
use deltaone_app::s3event::CreatedObject;
use deltaone_drift::cli::{Cli, execute};
use deltaone_system_tests::parquet_writer_files;
use serde_json::Value;

const WRITERS: [&str; 3] = ["pyarrow", "polars", "duckdb"];
const ROWS: u64 = 20_000;

/// Runs the drift job through its command line on one reference and one current file and returns
/// the `drift.json` it wrote.
async fn drift_json(reference: &Path, current: &Path, extra: &[&str]) -> Value {
    let out = tempfile::tempdir().unwrap();
    let (reference, current) = (reference.display().to_string(), current.display().to_string());
    let out_dir = out.path().display().to_string();
    let mut argv = vec!["deltaone-drift", "run", "--reference", &reference, "--current", &current, "--out", &out_dir];
    argv.extend(["--run-id", "writers", "--prediction-column", "score", "--no-progress"]);
    argv.extend_from_slice(extra);
    let cli = Cli::from_args(argv).unwrap();
    execute(&cli).await.unwrap_or_else(|e| panic!("drift job on {reference}: {e}"));
    serde_json::from_slice(&std::fs::read(out.path().join("drift.json")).unwrap()).unwrap()
}

/// What a run computed from the files' values: `drift.json` without the file names and the bytes
/// read (which differ between codecs by design).
fn statistics(mut result: Value) -> Value {
    let object = result.as_object_mut().unwrap();
    object.remove("bytes_read");
    for side in ["reference", "current"] {
        object["windows"][side].as_object_mut().unwrap().remove("files");
    }
    result
}

/// The pair of files in `dir`.
fn pair(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("reference.parquet"), dir.join("current.parquet"))
}

/// The generator's manifest: per file, per column, the codecs and encodings of its footer.
fn manifest(files: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(files.join("manifest.json")).unwrap()).unwrap()
}

/// Every codec and encoding named in a file's footer (as DuckDB read it when the file was written).
fn footer(manifest: &Value, file: &str, what: &str) -> Vec<String> {
    let columns = manifest["files"][file].as_object().unwrap_or_else(|| panic!("{file} not in the manifest"));
    let mut names: Vec<String> = columns
        .values()
        .flat_map(|c| c[what].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A run read both files whole and computed every column.
fn assert_complete(result: &Value, what: &str) {
    assert_eq!(result["skipped_files"], serde_json::json!([]), "{what}: files skipped");
    assert_eq!(result["windows"]["reference"]["rows"], ROWS, "{what}");
    assert_eq!(result["windows"]["current"]["rows"], ROWS, "{what}");
    for column in result["columns"].as_array().unwrap() {
        assert!(column["error"].is_null() && column["statistics"].is_object(), "{what}: {column}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn zstd_gzip_lz4_brotli_and_uncompressed_files_of_every_writer_give_the_statistics_of_their_snappy_twins() {
    let files = parquet_writer_files();
    let manifest = manifest(&files);
    for writer in WRITERS {
        let (r, c) = pair(&files.join("codecs").join(writer).join("snappy"));
        let snappy = drift_json(&r, &c, &[]).await;
        assert_complete(&snappy, &format!("{writer}/snappy"));
        // 9 features (the timestamp skipped) and the score; the label's metrics.
        assert_eq!(snappy["columns"].as_array().unwrap().len(), 10, "{writer}: {}", snappy["skipped_columns"]);
        assert!(snappy["performance"]["current"]["metrics"]["auroc"].is_f64(), "{writer}: {}", snappy["performance"]);
        let snappy = statistics(snappy);
        for (codec, footer_name) in [
            ("uncompressed", "UNCOMPRESSED"),
            ("zstd", "ZSTD"),
            ("gzip", "GZIP"),
            ("lz4", "LZ4_RAW"),
            ("brotli", "BROTLI"),
        ] {
            for side in ["reference", "current"] {
                let file = format!("codecs/{writer}/{codec}/{side}.parquet");
                assert_eq!(footer(&manifest, &file, "codecs"), [footer_name], "{file}: the writer's codec");
            }
            let (r, c) = pair(&files.join("codecs").join(writer).join(codec));
            let result = drift_json(&r, &c, &[]).await;
            assert_complete(&result, &format!("{writer}/{codec}"));
            // Bit for bit: serde_json writes every float in its shortest round-trip form.
            assert_eq!(statistics(result), snappy, "{writer}: {codec} against snappy");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_dictionary_delta_byte_stream_split_and_v2_pages_give_the_statistics_of_the_default_file() {
    let files = parquet_writer_files();
    let manifest = manifest(&files);
    let expected_encodings: [(&str, &[&str]); 6] = [
        ("pyarrow-plain", &["PLAIN"]),
        ("pyarrow-dictionary", &["RLE_DICTIONARY"]),
        (
            "pyarrow-delta",
            &["DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT", "RLE"],
        ),
        ("pyarrow-byte-stream-split", &["BYTE_STREAM_SPLIT"]),
        ("pyarrow-page-v2", &["RLE_DICTIONARY"]),
        ("duckdb-v2", &["DELTA_BINARY_PACKED", "BYTE_STREAM_SPLIT", "RLE_DICTIONARY"]),
    ];
    let mut baselines = BTreeMap::new();
    for writer in ["pyarrow", "duckdb"] {
        let (r, c) = pair(&files.join("codecs").join(writer).join("snappy"));
        baselines.insert(writer, statistics(drift_json(&r, &c, &[]).await));
    }
    for (variant, encodings) in expected_encodings.iter().chain([&("pyarrow-page-v2-uncompressed", &[][..])]) {
        let file = format!("encodings/{variant}/reference.parquet");
        let written = footer(&manifest, &file, "encodings");
        for encoding in *encodings {
            assert!(written.iter().any(|e| e == encoding), "{file}: {encoding} not among {written:?}");
        }
        let (r, c) = pair(&files.join("encodings").join(variant));
        // DuckDB's format v2 means its v2 encodings; its pages stay v1.
        if variant.starts_with("pyarrow-page-v2") || *variant == "pyarrow-delta" {
            assert!(has_v2_pages(&r), "{}: no data page v2", r.display());
        }
        let result = drift_json(&r, &c, &[]).await;
        assert_complete(&result, variant);
        let baseline = &baselines[if variant.starts_with("duckdb") { "duckdb" } else { "pyarrow" }];
        assert_eq!(&statistics(result), baseline, "{variant}");
    }
}

/// Whether any column chunk of the file starts with a data page of format v2.
fn has_v2_pages(path: &Path) -> bool {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let row_group = reader.get_row_group(0).unwrap();
    (0..row_group.num_columns()).any(|i| {
        row_group
            .get_column_page_reader(i)
            .unwrap()
            .map(|page| page.unwrap().page_type())
            .any(|t| t == parquet::basic::PageType::DATA_PAGE_V2)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn second_milli_micro_nano_and_int96_timestamps_select_a_windows_rows() {
    let files = parquet_writer_files();
    // Row i of the reference is at 2026-01-01T00:00:00Z + i s, of the current at 2026-02-01 + i s.
    let windows = [
        "--reference-window",
        "2026-01-01T00:00:00Z..2026-01-01T01:23:20Z",
        "--current-window",
        "2026-02-01T00:10:00Z..2026-02-01T02:06:40Z",
    ];
    for (variant, column) in [
        ("types", "ts_s"),
        ("types", "ts_ms"),
        ("types", "ts_us"),
        ("types", "ts_ns"),
        ("types-int96", "ts_ms"),
        ("types-int96", "ts_ns"),
    ] {
        let (r, c) = pair(&files.join(variant));
        let mut args = vec!["--timestamp-column", column];
        args.extend(windows);
        let result = drift_json(&r, &c, &args).await;
        let what = format!("{variant}/{column}");
        assert_eq!(result["skipped_files"], serde_json::json!([]), "{what}");
        assert_eq!(result["windows"]["reference"]["rows"], 5_000, "{what}");
        assert_eq!(result["windows"]["current"]["rows"], 7_000, "{what}");
        let skipped = skipped_columns(&result);
        for other in ["ts_s", "ts_ms", "ts_us", "ts_ns"].iter().filter(|c| **c != column) {
            assert!(skipped[*other].contains("time column"), "{what}: {other}: {}", skipped[*other]);
        }
    }
    // INT96 (Spark's legacy) really is what the second file holds.
    let metadata = parquet::file::reader::SerializedFileReader::new(
        std::fs::File::open(files.join("types-int96/reference.parquet")).unwrap(),
    )
    .unwrap();
    use parquet::file::reader::FileReader as _;
    let schema = metadata.metadata().file_metadata().schema_descr();
    let ts = schema.columns().iter().find(|c| c.name() == "ts_ms").unwrap();
    assert_eq!(ts.physical_type(), parquet::basic::Type::INT96);
}

fn skipped_columns(result: &Value) -> BTreeMap<String, String> {
    result["skipped_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["column"].as_str().unwrap().to_owned(), s["reason"].as_str().unwrap().to_owned()))
        .collect()
}

fn column<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["columns"].as_array().unwrap().iter().find(|c| c["column"] == name).unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn decimals_read_as_their_doubles_large_strings_as_strings_and_binary_and_nested_columns_are_skipped_with_a_reason()
 {
    let files = parquet_writer_files();
    for variant in ["types", "types-int96"] {
        let (r, c) = pair(&files.join(variant));
        let result = drift_json(&r, &c, &[]).await;
        // Decimals of 9, 18, 30 and 45 digits (Parquet INT32, INT64 and fixed-length bytes; Arrow's
        // 128- and 256-bit decimals) give the statistics of the nearest doubles of their values.
        let same = |a: &str, b: &str| {
            let (a, b) = (column(&result, a), column(&result, b));
            assert!(a["statistics"].is_object(), "{variant}: {a}");
            assert_eq!((&a["statistics"], &a["quality"]), (&b["statistics"], &b["quality"]), "{variant}: {a} vs {b}");
        };
        same("dec_32", "small_f64");
        for decimal in ["dec_64", "dec_128", "dec_256"] {
            same(decimal, "wide_f64");
        }
        same("text_large", "text");
        assert_eq!(column(&result, "text")["kind"], "categorical");
        let skipped = skipped_columns(&result);
        for binary in ["blob", "blob_large"] {
            assert!(skipped[binary].starts_with("binary values"), "{variant}: {binary}: {}", skipped[binary]);
        }
        for (nested, kind) in [("nested_struct", "a struct"), ("nested_list", "a list"), ("nested_map", "a map")] {
            let reason = &skipped[nested];
            assert!(reason.starts_with(&format!("a nested column ({kind}")), "{variant}: {nested}: {reason}");
        }
    }
}

#[test]
fn the_evaluation_function_reads_predictions_in_every_codec_and_encoding_to_the_same_metrics() {
    let files = parquet_writer_files();
    let manifest = manifest(&files);
    let mut read = BTreeMap::new();
    let mut typed = BTreeMap::new();
    for file in manifest["files"].as_object().unwrap().keys() {
        if !file.ends_with("/reference.parquet") {
            continue;
        }
        let key = format!("evaluations/fraud/3/{}", file.replace('/', "-"));
        let object = CreatedObject {
            bucket: "evaluations".to_owned(),
            key: key.clone(),
            size: None,
            etag: None,
            sequencer: None,
            event_name: "ObjectCreated:Put".to_owned(),
        };
        let bytes = bytes::Bytes::from(std::fs::read(files.join(file)).unwrap());
        let (target, metrics, _) =
            deltaone_fn_evaluation::read_artifact(&object, &BTreeMap::new(), bytes, &KeyTemplate::default())
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((target.model.as_str(), target.version.to_string()), ("fraud", "3".to_owned()), "{file}");
        // The types files hold other values (boolean labels beside nested, binary, INT96 columns).
        if file.starts_with("types") { &mut typed } else { &mut read }.insert(file.clone(), metrics);
    }
    assert_eq!(typed.len(), 2, "{:?}", typed.keys());
    assert_eq!(typed["types/reference.parquet"], typed["types-int96/reference.parquet"]);
    assert_eq!(typed["types/reference.parquet"].len(), 6);
    // 3 writers × 6 codecs and 7 encoding variants.
    assert_eq!(read.len(), 25, "{:?}", read.keys());
    let (first, expected) = read.iter().next().unwrap();
    assert_eq!(expected.len(), 6, "{first}: {expected:?}");
    for (file, metrics) in &read {
        assert_eq!(metrics, expected, "{file} against {first}");
    }
}
