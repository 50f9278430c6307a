//! Finding the input files, choosing the columns and reading them from Parquet.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Schema, SchemaRef};
use deltaone::drift::{DataQuality, Side};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use super::{DriftJobError, Quality, SkippedColumn, SkippedFile};

/// Rows decoded per record batch.
const BATCH_ROWS: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }
    }

    /// The kind of an Arrow type, `None` for types that are not analysed.
    pub fn of(data_type: &DataType) -> Option<Self> {
        match data_type {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64 => Some(ColumnKind::Numeric),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean => {
                Some(ColumnKind::Categorical)
            }
            DataType::Dictionary(_, values)
                if matches!(values.as_ref(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
            {
                Some(ColumnKind::Categorical)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Feature,
    Prediction,
}

/// A column to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPlan {
    pub name: String,
    pub kind: ColumnKind,
    pub role: Role,
}

/// Whether a column name looks like an identifier: `id`, `*_id`, `*-id`, `*Id`, `*ID`.
fn looks_like_id(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "id"
        || lower.ends_with("_id")
        || lower.ends_with("-id")
        || lower == "uuid"
        || (name.ends_with("Id") || name.ends_with("ID")) && name.len() > 2
}

/// The columns to analyse in schema order, and the skipped ones with their reasons.
pub fn plan_columns(schema: &Schema, prediction: &str, label: &str) -> (Vec<ColumnPlan>, Vec<SkippedColumn>) {
    let mut plan = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |column: &str, reason: String| skipped.push(SkippedColumn { column: column.to_owned(), reason });
    for field in schema.fields() {
        let name = field.name();
        let data_type = field.data_type();
        if name == label {
            skip(name, "the label column".to_owned());
            continue;
        }
        let role = if name == prediction { Role::Prediction } else { Role::Feature };
        if role == Role::Feature {
            if matches!(
                data_type,
                DataType::Timestamp(..)
                    | DataType::Date32
                    | DataType::Date64
                    | DataType::Time32(_)
                    | DataType::Time64(_)
            ) {
                skip(name, format!("a time column ({data_type})"));
                continue;
            }
            if looks_like_id(name) {
                skip(name, "named like an identifier".to_owned());
                continue;
            }
        }
        match ColumnKind::of(data_type) {
            Some(kind) => plan.push(ColumnPlan { name: name.clone(), kind, role }),
            None => skip(name, format!("type {data_type} is neither numeric nor categorical")),
        }
    }
    (plan, skipped)
}

/// Expands paths, directories (their `*.parquet` files) and globs with `*` in the file name, in
/// the order given, each pattern's matches sorted by name. A plain path is kept even when it does
/// not exist (reading it then fails and it is skipped with the reason); a directory or glob
/// whose directory cannot be listed is an error.
pub fn expand_inputs(patterns: &[String]) -> Result<Vec<PathBuf>, DriftJobError> {
    let mut files = Vec::new();
    for pattern in patterns.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let path = Path::new(pattern);
        let bad = |reason: String| DriftJobError::BadInput { pattern: pattern.to_owned(), reason };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (dir, name_pattern) = if path.is_dir() {
            (path.to_path_buf(), "*.parquet".to_owned())
        } else if name.contains('*') {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if parent.to_string_lossy().contains('*') {
                return Err(bad("`*` is only supported in the file name".to_owned()));
            }
            (parent.to_path_buf(), name.to_owned())
        } else {
            files.push(path.to_path_buf());
            continue;
        };
        let entries = std::fs::read_dir(&dir).map_err(|e| bad(format!("cannot list {}: {e}", dir.display())))?;
        let mut matched: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| wildcard_match(&name_pattern, n)))
            .collect();
        matched.sort();
        files.extend(matched);
    }
    Ok(files)
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

fn open(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("not readable as Parquet: {e}"))
}

pub(crate) fn file_schema(path: &Path) -> Result<SchemaRef, String> {
    Ok(open(path)?.schema().clone())
}

/// What the streaming pass accumulates for one column of one window.
#[derive(Debug, Clone)]
pub(crate) enum ColumnAcc {
    Numeric(DataQuality),
    Categorical { counts: BTreeMap<String, u64>, total: u64, nulls: u64 },
}

impl ColumnAcc {
    fn new(kind: ColumnKind) -> Self {
        match kind {
            ColumnKind::Numeric => ColumnAcc::Numeric(DataQuality::default()),
            ColumnKind::Categorical => ColumnAcc::Categorical { counts: BTreeMap::new(), total: 0, nulls: 0 },
        }
    }

    fn merge(&mut self, other: ColumnAcc) {
        match (self, other) {
            (ColumnAcc::Numeric(a), ColumnAcc::Numeric(b)) => {
                a.total += b.total;
                a.nulls += b.nulls;
                a.nan += b.nan;
                a.positive_infinity += b.positive_infinity;
                a.negative_infinity += b.negative_infinity;
                a.finite += b.finite;
                a.min = [a.min, b.min].into_iter().flatten().reduce(f64::min);
                a.max = [a.max, b.max].into_iter().flatten().reduce(f64::max);
            }
            (
                ColumnAcc::Categorical { counts, total, nulls },
                ColumnAcc::Categorical { counts: c, total: t, nulls: n },
            ) => {
                for (k, v) in c {
                    *counts.entry(k).or_insert(0) += v;
                }
                *total += t;
                *nulls += n;
            }
            _ => unreachable!("accumulators of one column have one kind"),
        }
    }

    pub(crate) fn quality(&self) -> Quality {
        match self {
            ColumnAcc::Numeric(q) => (*q).into(),
            ColumnAcc::Categorical { total, nulls, .. } => {
                Quality { total: *total, nulls: *nulls, valid: total - nulls, ..Quality::default() }
            }
        }
    }

    pub(crate) fn counts(&self) -> &BTreeMap<String, u64> {
        static EMPTY: BTreeMap<String, u64> = BTreeMap::new();
        match self {
            ColumnAcc::Categorical { counts, .. } => counts,
            ColumnAcc::Numeric(_) => &EMPTY,
        }
    }
}

/// The result of the streaming pass over one window.
pub(crate) struct WindowScan {
    /// Files read completely, in input order.
    pub files: Vec<PathBuf>,
    pub rows: u64,
    /// Aligned with the column plan.
    pub columns: Vec<ColumnAcc>,
    pub skipped: Vec<SkippedFile>,
}

impl WindowScan {
    pub fn file_names(&self) -> Vec<String> {
        self.files.iter().map(|p| p.display().to_string()).collect()
    }
}

/// Reads every file once with the plan's columns projected: counts categories and data quality
/// and validates the file. A file that fails anywhere contributes nothing and is skipped.
pub(crate) fn scan_window(files: &[PathBuf], plan: &[ColumnPlan], side: Side) -> WindowScan {
    let mut scan = WindowScan {
        files: Vec::new(),
        rows: 0,
        columns: plan.iter().map(|c| ColumnAcc::new(c.kind)).collect(),
        skipped: Vec::new(),
    };
    for path in files {
        match scan_file(path, plan) {
            Ok((rows, columns)) => {
                scan.files.push(path.clone());
                scan.rows += rows;
                for (acc, file_acc) in scan.columns.iter_mut().zip(columns) {
                    acc.merge(file_acc);
                }
            }
            Err(reason) => scan.skipped.push(SkippedFile { side, path: path.display().to_string(), reason }),
        }
    }
    scan
}

fn scan_file(path: &Path, plan: &[ColumnPlan]) -> Result<(u64, Vec<ColumnAcc>), String> {
    let builder = open(path)?;
    let schema = builder.schema().clone();
    let mut indices = Vec::with_capacity(plan.len());
    for column in plan {
        let index = schema.index_of(&column.name).map_err(|_| format!("no column {:?}", column.name))?;
        let data_type = schema.field(index).data_type();
        if ColumnKind::of(data_type) != Some(column.kind) {
            return Err(format!(
                "column {:?} has type {data_type}, but it is {} in the reference",
                column.name,
                column.kind.as_str()
            ));
        }
        indices.push(index);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    let reader = builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| e.to_string())?;
    let mut columns: Vec<ColumnAcc> = plan.iter().map(|c| ColumnAcc::new(c.kind)).collect();
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| format!("corrupt data after {rows} rows: {e}"))?;
        for (column, acc) in plan.iter().zip(columns.iter_mut()) {
            let array = batch.column_by_name(&column.name).expect("projected");
            match acc {
                ColumnAcc::Numeric(_) => acc.merge(ColumnAcc::Numeric(DataQuality::scan(numeric_values(array)?))),
                ColumnAcc::Categorical { counts, total, nulls } => {
                    *total += array.len() as u64;
                    visit_categories(array, &mut |value| match value {
                        None => *nulls += 1,
                        Some(s) => match counts.get_mut(s) {
                            Some(c) => *c += 1,
                            None => {
                                counts.insert(s.to_owned(), 1);
                            }
                        },
                    })?;
                }
            }
        }
        rows += batch.num_rows() as u64;
    }
    Ok((rows, columns))
}

/// The finite values of one numeric column over files already validated by [`scan_window`],
/// read with a projection of that column only.
pub(crate) fn numeric_column(files: &[PathBuf], name: &str) -> Result<Vec<f64>, DriftJobError> {
    let mut finite = Vec::new();
    for path in files {
        let err = |reason: String| DriftJobError::Read { path: path.display().to_string(), reason };
        let builder = open(path).map_err(err)?;
        let index = builder.schema().index_of(name).map_err(|e| err(e.to_string()))?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        let reader =
            builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| err(e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| err(e.to_string()))?;
            let values = numeric_values(batch.column(0)).map_err(err)?;
            finite.extend(values.filter_map(|v| v.filter(|x| x.is_finite())));
        }
    }
    Ok(finite)
}

/// The values of a numeric array as `f64` (64-bit integers beyond 2⁵³ are rounded).
fn numeric_values(array: &ArrayRef) -> Result<Box<dyn Iterator<Item = Option<f64>> + '_>, String> {
    macro_rules! prim {
        ($t:ty) => {
            Box::new(array.as_primitive::<$t>().iter().map(|v| v.map(|x| x as f64)))
        };
    }
    Ok(match array.data_type() {
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
        other => return Err(format!("type {other} is not numeric")),
    })
}

/// Calls `f` with each value of a categorical array as text (`None` for nulls).
fn visit_categories(array: &ArrayRef, f: &mut dyn FnMut(Option<&str>)) -> Result<(), String> {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => array.as_string_view().iter().for_each(f),
        DataType::Boolean => array.as_boolean().iter().for_each(|b| f(b.map(|b| if b { "true" } else { "false" }))),
        DataType::Dictionary(..) => {
            let dictionary = array.as_any_dictionary();
            let mut values: Vec<Option<String>> = Vec::new();
            visit_categories(dictionary.values(), &mut |v| values.push(v.map(str::to_owned)))?;
            let keys = dictionary.normalized_keys();
            for (i, key) in keys.into_iter().enumerate() {
                if array.is_null(i) {
                    f(None);
                } else {
                    f(values.get(key).and_then(|v| v.as_deref()));
                }
            }
        }
        other => return Err(format!("type {other} is not categorical")),
    }
    Ok(())
}
