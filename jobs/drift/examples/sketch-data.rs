//! Writes prediction logs for the sketch-mode memory benchmark (`bench/drift-sketch/run.sh`):
//! `--rows N` rows in files of at most 1,000,000 rows under `--out DIR`, with two float features
//! (`x`, `y`) and a categorical `channel`; `--shift S` moves `x` (the current window drifts).
//! No label column: the benchmark measures the numeric columns' memory alone.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

const FILE_ROWS: usize = 1_000_000;
const BATCH_ROWS: usize = 100_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let rows: usize = arg("--rows").ok_or("--rows N is required")?.parse()?;
    let out = std::path::PathBuf::from(arg("--out").ok_or("--out DIR is required")?);
    let shift: f64 = arg("--shift").map(|s| s.parse()).transpose()?.unwrap_or(0.0);
    std::fs::create_dir_all(&out)?;
    let mut state: u64 = 0x9E37_79B9 ^ shift.to_bits();
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut written = 0;
    let mut file = 0;
    while written < rows {
        let path = out.join(format!("part-{file:04}.parquet"));
        let in_file = FILE_ROWS.min(rows - written);
        let mut writer: Option<ArrowWriter<std::fs::File>> = None;
        let mut done = 0;
        while done < in_file {
            let n = BATCH_ROWS.min(in_file - done);
            let x: Vec<f64> = (0..n).map(|_| (next() + next() + next()) * 10.0 + shift).collect();
            let y: Vec<f64> = x.iter().map(|x| x * 2.0 + next()).collect();
            let channel: Vec<&str> = (0..n).map(|_| ["web", "app", "store"][(next() * 3.0) as usize]).collect();
            let batch = RecordBatch::try_from_iter([
                ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
                ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
                ("channel", Arc::new(StringArray::from(channel)) as ArrayRef),
            ])?;
            let w = match &mut writer {
                Some(w) => w,
                None => writer.insert(ArrowWriter::try_new(
                    std::fs::File::create(&path)?,
                    batch.schema(),
                    Some(props.clone()),
                )?),
            };
            w.write(&batch)?;
            done += n;
        }
        writer.expect("at least one batch").close()?;
        written += in_file;
        file += 1;
    }
    println!("{written} rows in {file} file(s) under {}", out.display());
    Ok(())
}
