//! The floor the drift benchmark (`bench/drift/`) compares the job with: reads Parquet files with a
//! projection of the given columns, decodes every value of every record batch and computes nothing
//! but a checksum, so the compiler cannot skip the decoding.
//!
//! ```sh
//! cargo run --profile batch -p deltaone-drift --example decode-only -- \
//!   --columns num_0,num_1,cat_0,prediction reference/*.parquet current/*.parquet
//! ```
//!
//! Prints one JSON line: files, rows, values decoded, nulls and the checksum; with `--column-bytes`
//! also each column's in-memory size as Arrow holds it once decoded (`column_bytes`). Exit code 1
//! (with the reason on stderr) when a file cannot be read or lacks a column, 2 on invalid usage.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Rows per record batch, as the drift job reads them.
const DEFAULT_BATCH_ROWS: usize = 16 * 1024;

const USAGE: &str = "usage: decode-only --columns NAME[,NAME...] [--batch-rows N] [--column-bytes] FILE...

Reads each Parquet FILE with only the named columns projected, decodes every value and prints
{\"files\", \"rows\", \"values\", \"nulls\", \"checksum\"} as one JSON line. Numeric columns (integers,
floats), strings, booleans and dictionaries of strings are decoded; other types are an error.

--column-bytes adds {\"column_bytes\": {NAME: BYTES, ...}}: each column's in-memory size over all
FILEs as Arrow holds it decoded (values, string offsets and bytes, validity bitmaps where there are
nulls; pyarrow's nbytes), the yardstick of the bench's memory goal. Off in timed runs.";

#[derive(Debug, thiserror::Error)]
enum DecodeError {
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

struct Args {
    columns: Vec<String>,
    batch_rows: usize,
    column_bytes: bool,
    files: Vec<PathBuf>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, DecodeError> {
    let mut columns = Vec::new();
    let mut batch_rows = DEFAULT_BATCH_ROWS;
    let mut column_bytes = false;
    let mut files = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--columns" => {
                let value = args.next().ok_or_else(|| DecodeError::Usage("--columns needs a value".into()))?;
                columns.extend(value.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned));
            }
            "--batch-rows" => {
                let value = args.next().ok_or_else(|| DecodeError::Usage("--batch-rows needs a value".into()))?;
                batch_rows =
                    value.parse().ok().filter(|&n: &usize| n > 0).ok_or_else(|| {
                        DecodeError::Usage(format!("--batch-rows {value:?} is not a positive integer"))
                    })?;
            }
            "--column-bytes" => column_bytes = true,
            "-h" | "--help" => return Err(DecodeError::Usage("help".into())),
            flag if flag.starts_with("--") => return Err(DecodeError::Usage(format!("unknown option {flag}"))),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if columns.is_empty() {
        return Err(DecodeError::Usage("--columns is required".into()));
    }
    if files.is_empty() {
        return Err(DecodeError::Usage("no input files".into()));
    }
    Ok(Args { columns, batch_rows, column_bytes, files })
}

/// What the pass saw; `checksum` mixes every decoded value. `bytes`: the in-memory size of what
/// was decoded (counted only with `--column-bytes`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    rows: u64,
    values: u64,
    nulls: u64,
    checksum: u64,
    bytes: u64,
}

impl Tally {
    fn mix(&mut self, bits: u64) {
        self.values += 1;
        self.checksum = self.checksum.rotate_left(5).wrapping_add(bits);
    }

    fn null(&mut self) {
        self.values += 1;
        self.nulls += 1;
        self.checksum = self.checksum.rotate_left(5) ^ 0x9e37_79b9_7f4a_7c15;
    }

    fn text(&mut self, s: Option<&str>) {
        match s {
            // Length and first byte: touches every string without hashing it.
            Some(s) => self.mix(s.len() as u64 ^ (u64::from(s.as_bytes().first().copied().unwrap_or(0)) << 32)),
            None => self.null(),
        }
    }
}

/// Decodes one file into `tallies`, one per column of `columns` (so that the checksum does not
/// depend on where batches end); returns its rows.
fn decode_file(path: &Path, args: &Args, tallies: &mut [Tally]) -> Result<u64, DecodeError> {
    let columns = &args.columns;
    let err = |reason: String| DecodeError::File { path: path.display().to_string(), reason };
    let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(format!("not readable as Parquet: {e}")))?;
    let schema = builder.schema().clone();
    let indices = columns
        .iter()
        .map(|name| schema.index_of(name).map_err(|_| err(format!("no column {name:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    let reader =
        builder.with_projection(mask).with_batch_size(args.batch_rows).build().map_err(|e| err(e.to_string()))?;
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| err(format!("corrupt data after {rows} rows: {e}")))?;
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            let index = columns.iter().position(|c| c == field.name()).expect("projected from these columns");
            decode_array(array, &mut tallies[index]).map_err(&err)?;
            if args.column_bytes {
                let bytes = array.to_data().get_slice_memory_size().map_err(|e| err(e.to_string()))?;
                tallies[index].bytes += bytes as u64;
            }
        }
        rows += batch.num_rows() as u64;
    }
    Ok(rows)
}

fn decode_array(array: &ArrayRef, tally: &mut Tally) -> Result<(), String> {
    macro_rules! prim {
        ($t:ty) => {
            for v in array.as_primitive::<$t>().iter() {
                match v {
                    Some(x) => tally.mix((x as f64).to_bits()),
                    None => tally.null(),
                }
            }
        };
    }
    match array.data_type() {
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(|s| tally.text(s)),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(|s| tally.text(s)),
        DataType::Utf8View => array.as_string_view().iter().for_each(|s| tally.text(s)),
        DataType::Boolean => array.as_boolean().iter().for_each(|b| match b {
            Some(b) => tally.mix(u64::from(b)),
            None => tally.null(),
        }),
        DataType::Dictionary(..) => {
            // Each row's value through its key, as a reader of the categories would see it.
            let dictionary = array.as_any_dictionary();
            let mut lengths = Vec::with_capacity(dictionary.values().len());
            let mut collect = |s: Option<&str>| lengths.push(s.map_or(0, str::len) as u64);
            match dictionary.values().data_type() {
                DataType::Utf8 => dictionary.values().as_string::<i32>().iter().for_each(&mut collect),
                DataType::LargeUtf8 => dictionary.values().as_string::<i64>().iter().for_each(&mut collect),
                DataType::Utf8View => dictionary.values().as_string_view().iter().for_each(&mut collect),
                other => return Err(format!("dictionary of {other} is not categorical")),
            }
            for (i, key) in dictionary.normalized_keys().into_iter().enumerate() {
                if array.is_null(i) {
                    tally.null();
                } else {
                    tally.mix(lengths.get(key).copied().unwrap_or(u64::MAX) ^ ((key as u64) << 32));
                }
            }
        }
        other => return Err(format!("type {other} is neither numeric nor categorical")),
    }
    Ok(())
}

/// The whole pass: the total, and each column's tally in `--columns` order.
fn run(args: &Args) -> Result<(Tally, Vec<Tally>), DecodeError> {
    let mut tallies = vec![Tally::default(); args.columns.len()];
    let mut total = Tally::default();
    for path in &args.files {
        total.rows += decode_file(path, args, &mut tallies)?;
    }
    for t in &tallies {
        total.values += t.values;
        total.nulls += t.nulls;
        total.bytes += t.bytes;
        total.checksum = total.checksum.rotate_left(17) ^ t.checksum;
    }
    Ok((total, tallies))
}

/// The JSON line printed on success.
fn report(args: &Args, total: &Tally, columns: &[Tally]) -> String {
    let mut line = serde_json::json!({
        "files": args.files.len(),
        "rows": total.rows,
        "values": total.values,
        "nulls": total.nulls,
        "checksum": format!("{:016x}", total.checksum),
    });
    if args.column_bytes {
        let sizes: serde_json::Map<_, _> =
            args.columns.iter().zip(columns).map(|(name, t)| (name.clone(), t.bytes.into())).collect();
        line["column_bytes"] = sizes.into();
    }
    line.to_string()
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(DecodeError::Usage(why)) if why == "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("decode-only: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok((total, columns)) => {
            println!("{}", report(&args, &total, &columns));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("decode-only: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    //! `cargo test -p deltaone-drift --example decode-only`
    use std::sync::Arc;

    use arrow_array::{DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray, types::Int32Type};
    use parquet::arrow::ArrowWriter;

    use super::*;

    fn write(dir: &Path, name: &str, x: Vec<Option<f64>>) -> PathBuf {
        let n = x.len();
        let text: StringArray = (0..n).map(|i| (i % 3 != 0).then(|| format!("v{i}"))).collect();
        let keys = Int32Array::from_iter((0..n).map(|i| Some((i % 2) as i32)));
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(vec!["a", "bb"]))).unwrap();
        let batch = RecordBatch::try_from_iter([
            ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
            ("text", Arc::new(text) as ArrayRef),
            ("dict", Arc::new(dict) as ArrayRef),
        ])
        .unwrap();
        let path = dir.join(name);
        let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path
    }

    fn args(columns: &[&str], files: Vec<PathBuf>, batch_rows: usize) -> Args {
        Args { columns: columns.iter().map(|c| c.to_string()).collect(), batch_rows, column_bytes: false, files }
    }

    #[test]
    fn every_value_of_the_projected_columns_is_decoded_nulls_included() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.parquet", vec![Some(1.0), None, Some(f64::NAN), Some(4.0), Some(5.0)]);
        let b = write(dir.path(), "b.parquet", vec![Some(-1.0), Some(2.5)]);
        let (t, _) = run(&args(&["x", "text", "dict"], vec![a.clone(), b], 2)).unwrap();
        // 7 rows × 3 columns; nulls: one in x, rows 0 and 3 of a and row 0 of b in text.
        assert_eq!((t.rows, t.values, t.nulls), (7, 21, 4));
        let (only_x, _) = run(&args(&["x"], vec![a], 64)).unwrap();
        assert_eq!((only_x.rows, only_x.values, only_x.nulls), (5, 5, 1));
    }

    #[test]
    fn the_checksum_depends_on_the_values_and_not_on_the_batch_size() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.parquet", vec![Some(1.0), Some(2.0), Some(3.0)]);
        let b = write(dir.path(), "b.parquet", vec![Some(1.0), Some(2.0), Some(3.5)]);
        let sum = |path: &PathBuf, rows| run(&args(&["x", "dict"], vec![path.clone()], rows)).unwrap().0.checksum;
        assert_eq!(sum(&a, 1), sum(&a, 1024));
        assert_ne!(sum(&a, 1024), sum(&b, 1024));
    }

    #[test]
    fn column_bytes_are_the_decoded_size_as_arrow_holds_it_and_printed_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.parquet", vec![Some(1.0), None, Some(f64::NAN), Some(4.0), Some(5.0)]);
        let mut with_sizes = args(&["text", "x", "dict"], vec![a], 64);
        let (_, plain) = run(&with_sizes).unwrap();
        assert!(plain.iter().all(|t| t.bytes == 0), "not counted unless asked");
        with_sizes.column_bytes = true;
        let (total, columns) = run(&with_sizes).unwrap();
        // text: 6 offsets of 4 B, "v1" "v2" "v4" (6 B), a validity bitmap (1 B: rows 0 and 3 are null).
        // x: 5 float64 and a bitmap. dict: 5 int32 keys and the dictionary ["a", "bb"] (3 offsets, 3 B).
        let bytes: Vec<u64> = columns.iter().map(|t| t.bytes).collect();
        assert_eq!(bytes, vec![6 * 4 + 6 + 1, 5 * 8 + 1, 5 * 4 + 3 * 4 + 3]);
        assert_eq!(total.bytes, bytes.iter().sum::<u64>());
        let line: serde_json::Value = serde_json::from_str(&report(&with_sizes, &total, &columns)).unwrap();
        assert_eq!(line["column_bytes"], serde_json::json!({"text": 31, "x": 41, "dict": 35}));
        assert_eq!((line["rows"].as_u64(), line["nulls"].as_u64()), (Some(5), Some(3)));
        with_sizes.column_bytes = false;
        let line: serde_json::Value = serde_json::from_str(&report(&with_sizes, &total, &columns)).unwrap();
        assert!(line.get("column_bytes").is_none(), "{line}");
    }

    #[test]
    fn a_missing_column_or_a_file_that_is_not_parquet_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "good.parquet", vec![Some(1.0)]);
        let err = run(&args(&["x", "nope"], vec![good], 8)).unwrap_err().to_string();
        assert!(err.contains("good.parquet") && err.contains("no column \"nope\""), "{err}");
        let bad = dir.path().join("bad.parquet");
        std::fs::write(&bad, b"not parquet at all").unwrap();
        let err = run(&args(&["x"], vec![bad], 8)).unwrap_err().to_string();
        assert!(err.contains("bad.parquet") && err.contains("not readable as Parquet"), "{err}");
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        let parse = |a: &[&str]| parse_args(a.iter().map(|s| s.to_string())).map(|_| ()).unwrap_err().to_string();
        assert!(parse(&["f.parquet"]).starts_with("--columns is required"));
        assert!(parse(&["--columns", "x"]).starts_with("no input files"));
        assert!(parse(&["--columns", "x", "--batch-rows", "0", "f"]).contains("not a positive integer"));
        assert!(parse(&["--columns", "x", "--frobnicate", "f"]).starts_with("unknown option --frobnicate"));
        let ok = parse_args(["--columns", "a, b", "f1", "f2"].map(String::from)).unwrap();
        assert_eq!((ok.columns, ok.files.len(), ok.batch_rows), (vec!["a".to_owned(), "b".to_owned()], 2, 16384));
        assert!(!ok.column_bytes);
        assert!(parse_args(["--column-bytes", "--columns", "a", "f"].map(String::from)).unwrap().column_bytes);
    }
}
