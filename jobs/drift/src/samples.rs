//! Deterministic sample prediction logs (`samples/drift/`), regenerated with
//! `cargo run -p deltaone-drift --example make-samples`.
//!
//! 5,000 rows per window: `request_id` and `event_time` (skipped by the job: an id and a time),
//! `amount` (float, shifted by half a standard deviation in `current`, with a few NaN there),
//! `age` (integer, unchanged), `score_a` (float, unchanged, a few nulls), `country` (string,
//! unchanged), `channel` (string, a new category `partner` in `current`), `prediction` (float,
//! a logistic function of `amount` and `score_a`) and `label` (boolean).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

pub const ROWS: usize = 5_000;

/// `samples/drift` of the workspace.
pub fn default_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("jobs/drift is two levels down");
    workspace.join("samples").join("drift")
}

/// SplitMix64: small, deterministic, good enough for samples.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn pick<'a>(&mut self, choices: &[(&'a str, f64)]) -> &'a str {
        let mut u = self.uniform() * choices.iter().map(|c| c.1).sum::<f64>();
        for (name, weight) in choices {
            if u < *weight {
                return name;
            }
            u -= weight;
        }
        choices[choices.len() - 1].0
    }
}

/// One window of prediction logs; `current` applies the shifts.
pub fn batch(current: bool) -> RecordBatch {
    let mut rng = Rng(if current { 0xC0FF_EE01 } else { 0x5EED_0001 });
    let start_ms: i64 = if current { 1_767_225_600_000 } else { 1_764_547_200_000 };
    let id_offset: i64 = if current { 1_000_000 } else { 0 };
    let countries = [("DE", 0.3), ("FR", 0.2), ("US", 0.3), ("GB", 0.15), ("ES", 0.05)];
    let channels: &[(&str, f64)] = if current {
        &[("web", 0.45), ("app", 0.3), ("store", 0.1), ("partner", 0.15)]
    } else {
        &[("web", 0.5), ("app", 0.35), ("store", 0.15)]
    };
    let (mut ids, mut times, mut amount, mut age, mut score_a) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut country, mut channel, mut prediction, mut label) = (vec![], vec![], vec![], vec![]);
    for i in 0..ROWS {
        ids.push(id_offset + i as i64);
        times.push(start_ms + i as i64 * 500);
        let a = 100.0 + 20.0 * rng.normal() + if current { 10.0 } else { 0.0 };
        // Round to cents: realistic, and it keeps the files small.
        let a = (a * 100.0).round() / 100.0;
        amount.push(if current && i % 1000 == 7 { f32::NAN } else { a as f32 });
        age.push(18 + (rng.uniform() * 60.0) as i32);
        let s = (rng.normal() * 1000.0).round() / 1000.0;
        score_a.push(if i % 500 == 3 { None } else { Some(s as f32) });
        country.push(rng.pick(&countries));
        channel.push(rng.pick(channels));
        let p = 1.0 / (1.0 + (-(0.03 * (a - 100.0) + 0.5 * s)).exp());
        let p = (p * 1000.0).round() / 1000.0;
        prediction.push(p as f32);
        label.push(rng.uniform() < p);
    }
    RecordBatch::try_from_iter([
        ("request_id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("event_time", Arc::new(TimestampMillisecondArray::from(times).with_timezone("UTC")) as ArrayRef),
        ("amount", Arc::new(Float32Array::from(amount)) as ArrayRef),
        ("age", Arc::new(Int32Array::from(age)) as ArrayRef),
        ("score_a", Arc::new(Float32Array::from(score_a)) as ArrayRef),
        ("country", Arc::new(StringArray::from(country)) as ArrayRef),
        ("channel", Arc::new(StringArray::from(channel)) as ArrayRef),
        ("prediction", Arc::new(Float32Array::from(prediction)) as ArrayRef),
        ("label", Arc::new(BooleanArray::from(label)) as ArrayRef),
    ])
    .expect("columns of equal length")
}

/// Writes `batch` as Parquet (snappy; ids and times delta-encoded).
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> std::io::Result<()> {
    let mut props = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for column in ["request_id", "event_time"] {
        props = props
            .set_column_dictionary_enabled(ColumnPath::from(column), false)
            .set_column_encoding(ColumnPath::from(column), Encoding::DELTA_BINARY_PACKED);
    }
    let file = File::create(path)?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props.build())).map_err(std::io::Error::other)?;
    writer.write(batch).map_err(std::io::Error::other)?;
    writer.close().map_err(std::io::Error::other)?;
    Ok(())
}

/// Writes `reference.parquet` and `current.parquet` into `dir`.
pub fn write_samples(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, current) in [("reference.parquet", false), ("current.parquet", true)] {
        let path = dir.join(name);
        write_parquet(&path, &batch(current))?;
        written.push(path);
    }
    Ok(written)
}
