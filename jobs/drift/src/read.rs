//! Finding the input files, choosing the columns and reading them from Parquet: footers several
//! files at a time ([`FileReader`], local files and S3 objects), then each window's data one file
//! after another — categorical and performance columns in one pass, each numeric column in a pass
//! of its own.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use bytes::Bytes;
use deltaone::classification::{ClassificationAccumulator, InputKind, MetricInputError};
use deltaone::drift::partial::{NumericPartial, NumericValues};
use deltaone::drift::sketch::LogHistogram;
use deltaone::drift::{DataQuality, DriftMethod, SortedValues};
use futures::StreamExt;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::async_reader::{ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder};
use serde::{Deserialize, Serialize};

use super::filter::RowSpec;
use super::progress::Progress;
use super::source::{FileReader, InputFile, Location, OpenError};
use super::{DriftJobError, SkippedColumn};

/// Rows decoded per record batch: a batch of a numeric column (128 KiB) stays in the core's cache
/// between its decoding and its counting. Measured against 65,536 rows (ten interleaved runs):
/// 1 M rows per window 0.58 → 0.55 s CPU, peak RSS 47 → 41 MiB; 10 M (sketched) 5.7 → 5.3 s,
/// 47 → 37 MiB; 8,192 rows no better.
const BATCH_ROWS: usize = 16 * 1024;

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
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => Some(ColumnKind::Numeric),
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

    /// Whether a column of `data_type` can be read as this kind: its own kind, or integers and
    /// booleans configured as categorical.
    pub fn accepts(self, data_type: &DataType) -> bool {
        match (self, Self::of(data_type)) {
            (kind, Some(inferred)) if kind == inferred => true,
            (ColumnKind::Categorical, _) => data_type.is_integer(),
            _ => false,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnPlan {
    pub name: String,
    pub kind: ColumnKind,
    pub role: Role,
    /// The deciding method (default: KS for numeric, chi-square for categorical columns).
    pub method: Option<DriftMethod>,
    /// The column's threshold (default: the method's).
    pub threshold: Option<f64>,
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
            Some(kind) => plan.push(ColumnPlan { name: name.clone(), kind, role, method: None, threshold: None }),
            None => skip(name, unanalysed_reason(data_type)),
        }
    }
    (plan, skipped)
}

/// Why a column of `data_type` is not analysed (a type [`ColumnKind::of`] gives no kind).
fn unanalysed_reason(data_type: &DataType) -> String {
    let kind = match data_type {
        DataType::Struct(_) => Some("a struct"),
        DataType::List(_) | DataType::LargeList(_) | DataType::ListView(_) | DataType::LargeListView(_) => {
            Some("a list")
        }
        DataType::FixedSizeList(..) => Some("a fixed-size list"),
        DataType::Map(..) => Some("a map"),
        DataType::Union(..) => Some("a union"),
        DataType::RunEndEncoded(..) => Some("a run-end encoded array"),
        _ => None,
    };
    if let Some(kind) = kind {
        return format!(
            "a nested column ({kind}, {data_type}): only flat numeric and categorical columns are analysed"
        );
    }
    match data_type {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            format!(
                "binary values ({data_type}): categories are read from text; cast the column to a string to analyse it"
            )
        }
        _ => format!("type {data_type} is neither numeric nor categorical"),
    }
}

/// Expands local paths, directories (their `*.parquet` files, recursively) and globs with `*` in
/// the file name, in the order given, each pattern's matches sorted by name. A plain path is kept
/// even when it does not exist (reading it then fails and it is skipped with the reason); a
/// directory or glob whose directory cannot be listed is an error. S3 inputs: [`super::source::expand`].
pub fn expand_inputs(patterns: &[String]) -> Result<Vec<PathBuf>, DriftJobError> {
    let mut files = Vec::new();
    for pattern in patterns.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        files.extend(super::source::expand_local(pattern)?);
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

/// Category counts of one column of one window as the scan accumulates them: a hash map while
/// counting (dictionary-encoded batches are counted per key and each used key named once), sorted
/// by category when the window is done.
#[derive(Debug, Clone, Default)]
pub(crate) struct CategoryCounts {
    counts: HashMap<Box<str>, u64, foldhash::fast::FixedState>,
    pub total: u64,
    pub nulls: u64,
}

impl CategoryCounts {
    fn bump(&mut self, value: &str, n: u64) {
        match self.counts.get_mut(value) {
            Some(count) => *count += n,
            None => {
                self.counts.insert(value.into(), n);
            }
        }
    }

    fn add_texts<'a>(&mut self, values: impl Iterator<Item = Option<&'a str>>) {
        for value in values {
            match value {
                Some(s) => self.bump(s, 1),
                None => self.nulls += 1,
            }
        }
    }

    /// Adds one batch of the column.
    fn add(&mut self, array: &ArrayRef) -> Result<(), String> {
        self.total += array.len() as u64;
        match array.data_type() {
            DataType::Utf8 => self.add_texts(array.as_string::<i32>().iter()),
            DataType::LargeUtf8 => self.add_texts(array.as_string::<i64>().iter()),
            DataType::Utf8View => self.add_texts(array.as_string_view().iter()),
            DataType::Dictionary(key_type, _) => {
                let dictionary = array.as_any_dictionary();
                // One slot per category and a last one for keys outside the dictionary, which
                // are nulls like null keys (as `visit_categories` says).
                let outside = dictionary.values().len();
                let mut per_key = vec![0u64; outside + 1];
                let mut nulls = 0u64;
                macro_rules! count_keys {
                    ($t:ty) => {{
                        let keys = array.as_dictionary::<$t>().keys();
                        // A negative key wraps to a huge index: outside.
                        let slot = |k| (k as usize).min(outside);
                        match keys.nulls().filter(|n| n.null_count() > 0) {
                            None => keys.values().iter().for_each(|&k| per_key[slot(k)] += 1),
                            Some(valid) => {
                                nulls += valid.null_count() as u64;
                                for (i, &k) in keys.values().iter().enumerate() {
                                    if valid.is_valid(i) {
                                        per_key[slot(k)] += 1;
                                    }
                                }
                            }
                        }
                    }};
                }
                match key_type.as_ref() {
                    DataType::Int8 => count_keys!(Int8Type),
                    DataType::Int16 => count_keys!(Int16Type),
                    DataType::Int32 => count_keys!(Int32Type),
                    DataType::Int64 => count_keys!(Int64Type),
                    DataType::UInt8 => count_keys!(UInt8Type),
                    DataType::UInt16 => count_keys!(UInt16Type),
                    DataType::UInt32 => count_keys!(UInt32Type),
                    DataType::UInt64 => count_keys!(UInt64Type),
                    other => return Err(format!("dictionary keys of type {other}")),
                }
                nulls += per_key[outside];
                self.nulls += nulls;
                let mut key = 0;
                visit_categories(dictionary.values(), &mut |value| {
                    let n = per_key[key];
                    key += 1;
                    match value {
                        _ if n == 0 => {}
                        Some(s) => self.bump(s, n),
                        None => self.nulls += n,
                    }
                })?;
            }
            _ => {
                let mut nulls = 0;
                visit_categories(array, &mut |value| match value {
                    Some(s) => self.bump(s, 1),
                    None => nulls += 1,
                })?;
                self.nulls += nulls;
            }
        }
        Ok(())
    }

    /// The counts, sorted by category.
    pub fn into_sorted(self) -> BTreeMap<String, u64> {
        self.counts.into_iter().map(|(k, v)| (k.into_string(), v)).collect()
    }
}

/// What the scan accumulates for one column of one window: categories are counted; numeric
/// columns are read in a pass of their own ([`numeric_window`]), one column at a time.
#[derive(Debug, Clone)]
pub(crate) enum ColumnAcc {
    Numeric,
    Categorical(CategoryCounts),
}

impl ColumnAcc {
    fn new(kind: ColumnKind) -> Self {
        match kind {
            ColumnKind::Numeric => ColumnAcc::Numeric,
            ColumnKind::Categorical => ColumnAcc::Categorical(CategoryCounts::default()),
        }
    }
}

/// What reading needs: the S3 client, how many files at a time, the progress display.
pub(crate) struct ReadContext {
    pub s3: Option<aws_sdk_s3::Client>,
    /// Footers read at the same time (data is decoded a window's files one after another, both windows at once).
    pub concurrency: usize,
    /// Shared with the reading threads.
    pub progress: Arc<Progress>,
}

/// A file whose footer was read and that has rows in the window: its metadata (cached for the
/// numeric passes) and the row groups that may hold rows of the window.
#[derive(Clone)]
pub(crate) struct OpenedFile {
    pub file: InputFile,
    pub metadata: ArrowReaderMetadata,
    pub row_groups: Vec<usize>,
    /// Whether the file has both performance columns (label and prediction).
    pub performance: bool,
}

/// A file that could not be used.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub file: InputFile,
    pub reason: String,
    /// Whether the file is there to be quarantined (not for a missing file).
    pub quarantine: bool,
}

/// The performance columns: the label and the prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformancePlan {
    pub label: String,
    pub prediction: String,
}

/// What one file's labels and predictions contributed to its window's classification metrics.
/// Kept per file (constant size) so that the window's error, if any, names the first bad file in
/// the run's file order however the files were sharded.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilePerformance {
    /// Rows with both a label and a prediction (0 when the file has an error: its window's
    /// metrics are then withheld).
    pub rows: u64,
    /// Rows where either is null, or the score NaN.
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<InputKind>,
    /// Why the file's rows are left out (labels that are not binary, a score outside [0, 1], …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a window's classification metrics are accumulated: the threshold, and when the AUROC's
/// scores are counted in buckets instead of kept ([`ClassificationAccumulator::sketch_scores`]):
/// with `sketch`, or once the window has more than `exact_max_rows` rows — the rule of the
/// numeric columns, so that the outcome depends only on the window's rows, not on how its files
/// were sharded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PerformanceOptions {
    pub threshold: f64,
    pub sketch: bool,
    pub exact_max_rows: u64,
}

impl PerformanceOptions {
    /// An empty accumulator of these options.
    pub fn accumulator(&self) -> ClassificationAccumulator {
        let mut acc = ClassificationAccumulator::new(self.threshold).unwrap_or_default();
        if self.sketch {
            acc.sketch_scores();
        }
        acc
    }

    /// Whether a window of `rows` rows has its scores sketched.
    pub fn sketches(&self, rows: u64) -> bool {
        self.sketch || rows > self.exact_max_rows
    }
}

/// A window's classification metrics from its mergeable state (`acc`) and its files'
/// contributions in the run's file order: the same function of the same inputs in a single
/// process and after a reduce, so both give the same bits. A file's error, or files of different
/// kinds, withhold the metrics (the state then holds whatever was read before: unused).
pub fn window_performance<'a>(
    acc: ClassificationAccumulator,
    files: impl IntoIterator<Item = (&'a str, Option<&'a FilePerformance>)>,
) -> super::WindowPerformance {
    let (mut rows, mut skipped) = (0, 0);
    let mut error = None;
    let mut first_of_kind: Vec<(InputKind, &str)> = Vec::new();
    for (location, file) in files {
        let Some(file) = file else { continue };
        rows += file.rows;
        skipped += file.skipped;
        if let (None, Some(e)) = (&error, &file.error) {
            error = Some(format!("{location}: {e}"));
        }
        if let Some(kind) = file.kind.filter(|k| !first_of_kind.iter().any(|(seen, _)| seen == k)) {
            first_of_kind.push((kind, location));
        }
    }
    if let (None, [(a, first), (b, second), ..]) = (&error, first_of_kind.as_slice()) {
        error = Some(format!("{first} holds {a} but {second} holds {b}: a window's files must agree"));
    }
    let (metrics, error) = match error {
        Some(e) => (None, Some(e)),
        None => match acc.into_metrics() {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    super::WindowPerformance { rows, skipped_rows: skipped, metrics, error }
}

/// Adds a batch's labels and predictions to the window's accumulator, and its rows to the file's
/// contribution; the file's first error stops its accumulation (its rows then do not count: the
/// window's metrics are withheld, naming the file). Batches whose kind (scores, hard predictions)
/// differs from the window's so far are counted but not accumulated: the mix is reported from the
/// files' kinds when the metrics are finished.
fn add_performance(
    acc: &mut ClassificationAccumulator,
    file: &mut FilePerformance,
    label: &ArrayRef,
    prediction: &ArrayRef,
) {
    if file.error.is_some() {
        return;
    }
    if let Err(e) = add_performance_batch(acc, file, label, prediction) {
        file.error = Some(e);
    }
}

fn add_performance_batch(
    acc: &mut ClassificationAccumulator,
    file: &mut FilePerformance,
    label: &ArrayRef,
    prediction: &ArrayRef,
) -> Result<(), String> {
    let labels = binary_values(label)?;
    // Errors name rows by their index among the file's rows with a label and a prediction (not
    // the window's, which would depend on how files were sharded).
    let (window_rows, file_rows) = (acc.rows(), file.rows);
    let in_file = |e: MetricInputError| match e {
        MetricInputError::NonFiniteScore { row, value } => {
            MetricInputError::NonFiniteScore { row: row - window_rows + file_rows, value }
        }
        MetricInputError::ScoreOutOfRange { row, value } => {
            MetricInputError::ScoreOutOfRange { row: row - window_rows + file_rows, value }
        }
        other => other,
    };
    let kind = match prediction.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => InputKind::Scores,
        _ => InputKind::Predictions,
    };
    let accumulate = acc.kind().is_none_or(|k| k == kind);
    let kept = match kind {
        InputKind::Scores if let Some(scores) = whole_scores(prediction, &labels) => {
            // The common case: every row has a label and a score; the scores are used in place.
            let labels: Vec<bool> = labels.into_iter().flatten().collect();
            if accumulate {
                acc.extend_scores(&labels, scores).map_err(|e| in_file(e).to_string())?;
            }
            scores.len()
        }
        InputKind::Scores => {
            let values = numeric_values(prediction).expect("a float type");
            let scores = values.into_iter().map(|s| s.filter(|s| !s.is_nan()));
            let (labels, scores) = both_present(labels, scores, &mut file.skipped);
            if accumulate {
                acc.extend_scores(&labels, &scores).map_err(|e| in_file(e).to_string())?;
            }
            scores.len()
        }
        InputKind::Predictions => {
            let predicted = binary_values(prediction).map_err(|e| format!("prediction: {e}"))?;
            let (labels, predicted) = both_present(labels, predicted, &mut file.skipped);
            if accumulate {
                acc.extend_predictions(&labels, &predicted).map_err(|e| in_file(e).to_string())?;
            }
            predicted.len()
        }
    };
    if kept > 0 {
        file.kind = Some(kind);
    }
    file.rows += kept as u64;
    Ok(())
}

/// The rows that have both a label and a value, as two vectors; the others are counted in `skipped`.
fn both_present<T>(
    labels: Vec<Option<bool>>,
    values: impl IntoIterator<Item = Option<T>>,
    skipped: &mut u64,
) -> (Vec<bool>, Vec<T>) {
    let (mut kept_labels, mut kept) = (Vec::with_capacity(labels.len()), Vec::with_capacity(labels.len()));
    for (label, value) in labels.into_iter().zip(values) {
        match (label, value) {
            (Some(l), Some(v)) => {
                kept_labels.push(l);
                kept.push(v);
            }
            _ => *skipped += 1,
        }
    }
    (kept_labels, kept)
}

/// A batch's `f64` scores when no row lacks its label or its score (null or NaN).
fn whole_scores<'a>(prediction: &'a ArrayRef, labels: &[Option<bool>]) -> Option<&'a [f64]> {
    let scores = prediction.as_primitive_opt::<Float64Type>()?;
    let whole = scores.null_count() == 0
        && labels.iter().all(Option::is_some)
        && !scores.values().iter().fold(false, |nan, s| nan | s.is_nan());
    whole.then(|| scores.values().as_ref())
}

/// The result of the streaming pass over one window.
pub(crate) struct WindowScan {
    /// Files read completely, in input order.
    pub files: Vec<OpenedFile>,
    pub rows: u64,
    /// Aligned with the column plan.
    pub columns: Vec<ColumnAcc>,
    pub problems: Vec<Problem>,
    /// Files not read because their partitions or row-group statistics are outside the window.
    pub pruned: usize,
    /// What each file read (aligned with `files`) contributed to the classification metrics,
    /// when performance is planned and the file has the label and prediction columns.
    pub performance: Vec<Option<FilePerformance>>,
    /// The window's classification state (every file without an error merged in), when
    /// performance is planned.
    pub metrics: Option<ClassificationAccumulator>,
    /// Rows of each file read (aligned with `files`).
    pub file_rows: Vec<u64>,
}

enum FileOutcome {
    Opened(Box<OpenedFile>),
    Pruned(String),
    Problem { reason: String, quarantine: bool },
}

async fn open_metadata(ctx: &ReadContext, file: &InputFile) -> Result<(FileReader, ArrowReaderMetadata), FileOutcome> {
    let mut reader = FileReader::open(file, ctx.s3.as_ref(), ctx.progress.bytes()).await.map_err(|e| match e {
        OpenError::Missing(reason) => FileOutcome::Problem { reason, quarantine: false },
        OpenError::Unreadable(reason) => FileOutcome::Problem { reason, quarantine: true },
    })?;
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|e| FileOutcome::Problem { reason: format!("not readable as Parquet: {e}"), quarantine: true })?;
    Ok((reader, metadata))
}

/// The schema of the first file of `files` whose footer reads (partition-pruned files skipped).
pub(crate) async fn first_schema(ctx: &ReadContext, files: &[InputFile], spec: &RowSpec) -> Option<SchemaRef> {
    for file in files {
        if spec.prune_partitions(&file.partitions).is_some() {
            continue;
        }
        if let Ok((_, metadata)) = open_metadata(ctx, file).await {
            return Some(metadata.schema().clone());
        }
    }
    None
}

/// Reads one window's files with the categorical and performance columns projected (in two passes,
/// see [`read_passes`]): counts categories, feeds performance and validates each file (footer,
/// schema, every value of the projected columns). Footers are read several at a time; data is
/// decoded one file after another, in input order. A file that fails anywhere contributes nothing:
/// the window is read again without it (a rare path: only for a file whose footer reads but whose
/// pages do not).
pub(crate) async fn scan_window(
    ctx: &ReadContext,
    files: &[InputFile],
    plan: &[ColumnPlan],
    spec: &RowSpec,
    performance: Option<(&PerformancePlan, PerformanceOptions)>,
) -> WindowScan {
    let mut scan = WindowScan {
        files: Vec::new(),
        rows: 0,
        columns: plan.iter().map(|c| ColumnAcc::new(c.kind)).collect(),
        problems: Vec::new(),
        pruned: 0,
        performance: Vec::new(),
        metrics: None,
        file_rows: Vec::new(),
    };
    let mut outcomes = futures::stream::iter(files)
        .map(|file| async move { (file, open_file(ctx, file, plan, spec, performance.map(|(p, _)| p)).await) })
        .buffered(ctx.concurrency.max(1));
    let mut opened = Vec::new();
    while let Some((file, outcome)) = outcomes.next().await {
        match outcome {
            FileOutcome::Opened(file) => opened.push(*file),
            FileOutcome::Pruned(reason) => {
                ctx.progress.files_done(scan_passes(plan, performance.is_some()), 0);
                tracing::debug!(file = %file.location, %reason, "not read: outside the window");
                scan.pruned += 1;
            }
            FileOutcome::Problem { reason, quarantine } => {
                ctx.progress.files_done(scan_passes(plan, performance.is_some()), 0);
                scan.problems.push(Problem { file: file.clone(), reason, quarantine });
            }
        }
    }
    let acc = loop {
        match read_passes(ctx, &opened, spec, plan, performance).await {
            Ok(acc) => break acc,
            Err((index, reason)) => {
                let failed = opened.remove(index);
                tracing::warn!(file = %failed.file.location, %reason, "unreadable: reading the window again without it");
                scan.problems.push(Problem { file: failed.file, reason, quarantine: true });
            }
        }
    };
    scan.files = opened;
    scan.rows = acc.file_rows.iter().sum();
    scan.columns = acc.columns;
    scan.performance = acc.file_performance;
    scan.metrics = acc.metrics;
    scan.file_rows = acc.file_rows;
    scan
}

/// How many passes the scan makes over each file ([`read_passes`]): two when there are both
/// categorical columns and performance columns to read, one otherwise.
pub(crate) fn scan_passes(plan: &[ColumnPlan], performance: bool) -> u64 {
    let categorical = plan.iter().any(|c| c.kind == ColumnKind::Categorical);
    if categorical && performance { 2 } else { 1 }
}

/// The scan's passes over a window's opened files: the categorical columns, then the label and the
/// prediction in a pass of their own, so that the window's scores (kept for the AUROC, a column's
/// worth of memory) never share the memory with the categorical columns' readers. One pass when
/// there is nothing to count in the other. Fails with the index of a file either pass could not
/// read.
async fn read_passes(
    ctx: &ReadContext,
    opened: &[OpenedFile],
    spec: &RowSpec,
    plan: &[ColumnPlan],
    performance: Option<(&PerformancePlan, PerformanceOptions)>,
) -> Result<WindowAcc, (usize, String)> {
    let categorical = plan.iter().any(|c| c.kind == ColumnKind::Categorical);
    let counted = match (categorical, performance) {
        (false, Some(_)) => None,
        // Rows are counted once, in the last pass (every pass moves the progress display).
        (_, last) => Some(read_files(ctx, opened, spec, WindowAcc::new(plan, None, last.is_none())).await?),
    };
    let Some((p, options)) = performance else {
        return Ok(counted.expect("read when no performance is planned"));
    };
    let mut acc = WindowAcc::new(&[], performance, true);
    if let Some(metrics) = acc.metrics.as_mut() {
        // Without a row filter the row groups' rows are the rows read: a window past the
        // limit is sketched from its first row instead of keeping scores up to the limit.
        if !spec.filters_rows() && options.sketches(metadata_rows(opened)) {
            metrics.sketch_scores();
        } else {
            let limit = usize::try_from(options.exact_max_rows).unwrap_or(usize::MAX);
            metrics.reserve(score_rows(opened, p).min(limit));
        }
    }
    let mut acc = read_files(ctx, opened, spec, acc).await?;
    acc.columns = match counted {
        Some(counted) => counted.columns,
        None => plan.iter().map(|c| ColumnAcc::new(c.kind)).collect(),
    };
    Ok(acc)
}

/// The rows of `files`' selected row groups whose prediction is a score (a float column): room for
/// the window's scores, reserved once.
fn score_rows(files: &[OpenedFile], plan: &PerformancePlan) -> usize {
    let scored = |f: &&OpenedFile| {
        f.performance
            && f.metadata.schema().field_with_name(&plan.prediction).is_ok_and(|field| {
                matches!(field.data_type(), DataType::Float16 | DataType::Float32 | DataType::Float64)
            })
    };
    files.iter().filter(scored).map(|f| usize::try_from(selected_rows(f)).unwrap_or(0)).sum()
}

/// The rows of a file's selected row groups.
fn selected_rows(f: &OpenedFile) -> u64 {
    let rows: i64 = f.row_groups.iter().map(|&g| f.metadata.metadata().row_group(g).num_rows()).sum();
    u64::try_from(rows).unwrap_or(0)
}

/// The rows of `files`' selected row groups.
fn metadata_rows(files: &[OpenedFile]) -> u64 {
    files.iter().map(selected_rows).sum()
}

/// The root column indices of `names` in `schema`.
fn indices(schema: &Schema, names: &[&str]) -> Vec<usize> {
    names.iter().filter_map(|n| schema.index_of(n).ok()).collect()
}

async fn stream(
    ctx: &ReadContext,
    opened: &OpenedFile,
    roots: Vec<usize>,
    spec: &RowSpec,
) -> Result<ParquetRecordBatchStream<FileReader>, String> {
    let reader = FileReader::open(&opened.file, ctx.s3.as_ref(), ctx.progress.bytes()).await.map_err(|e| match e {
        OpenError::Missing(r) | OpenError::Unreadable(r) => r,
    })?;
    let builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, opened.metadata.clone());
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let filter = spec.row_filter(builder.schema(), builder.parquet_schema());
    let mut builder =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).with_row_groups(opened.row_groups.clone());
    if let Some(filter) = filter {
        builder = builder.with_row_filter(filter);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Reads a file's footer and checks it against the plan: every planned column present with a
/// type of its kind, the row filter's columns usable, some row group in the window.
async fn open_file(
    ctx: &ReadContext,
    file: &InputFile,
    plan: &[ColumnPlan],
    spec: &RowSpec,
    performance: Option<&PerformancePlan>,
) -> FileOutcome {
    if let Some(reason) = spec.prune_partitions(&file.partitions) {
        return FileOutcome::Pruned(reason);
    }
    let metadata = match open_metadata(ctx, file).await {
        Ok((_, metadata)) => metadata,
        Err(outcome) => return outcome,
    };
    let schema = metadata.schema().clone();
    let problem = |reason: String| FileOutcome::Problem { reason, quarantine: true };
    for column in plan {
        let Ok(index) = schema.index_of(&column.name) else {
            return problem(format!("no column {:?}", column.name));
        };
        let data_type = schema.field(index).data_type();
        if !column.kind.accepts(data_type) {
            return problem(format!(
                "column {:?} has type {data_type}, but it is {} in the reference",
                column.name,
                column.kind.as_str()
            ));
        }
    }
    if let Err(reason) = spec.check_schema(&schema, &file.partitions) {
        return problem(reason);
    }
    let row_groups = spec.row_groups(metadata.metadata(), &schema);
    if row_groups.is_empty() && metadata.metadata().num_row_groups() > 0 {
        return FileOutcome::Pruned("no row group overlaps the window".to_owned());
    }
    let performance =
        performance.is_some_and(|p| schema.index_of(&p.label).is_ok() && schema.index_of(&p.prediction).is_ok());
    let metadata = categories_as_dictionaries(metadata, plan);
    FileOutcome::Opened(Box::new(OpenedFile { file: file.clone(), metadata, row_groups, performance }))
}

/// The file's metadata with its categorical text columns read as dictionaries: Parquet writers
/// dictionary-encode text pages, and a dictionary array is counted per key and each category
/// named once, where plain text would be materialised and hashed row by row. The reader falls back
/// to plain pages by itself; if the hint is refused, the file is read as it declares itself.
fn categories_as_dictionaries(metadata: ArrowReaderMetadata, plan: &[ColumnPlan]) -> ArrowReaderMetadata {
    let schema = metadata.schema();
    let categorical = |name: &str| plan.iter().any(|c| c.kind == ColumnKind::Categorical && c.name == name);
    let mut changed = false;
    let fields: Vec<arrow_schema::FieldRef> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 if categorical(f.name()) => {
                changed = true;
                let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(f.data_type().clone()));
                Arc::new(f.as_ref().clone().with_data_type(dictionary))
            }
            _ => Arc::clone(f),
        })
        .collect();
    if !changed {
        return metadata;
    }
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(Arc::clone(metadata.metadata()), ArrowReaderOptions::new().with_schema(hinted))
        .unwrap_or(metadata)
}

/// What decoding a window's files accumulates, file after file.
struct WindowAcc {
    plan: Vec<ColumnPlan>,
    performance: Option<(PerformancePlan, PerformanceOptions)>,
    columns: Vec<ColumnAcc>,
    /// One per file read, when performance is planned.
    file_performance: Vec<Option<FilePerformance>>,
    /// What the file being read contributes.
    file: Option<FilePerformance>,
    /// The window's classification state.
    metrics: Option<ClassificationAccumulator>,
    file_rows: Vec<u64>,
    rows: u64,
    /// Whether its files' rows count in the progress display (not when another pass counts them).
    reports: bool,
}

impl WindowAcc {
    fn new(plan: &[ColumnPlan], performance: Option<(&PerformancePlan, PerformanceOptions)>, reports: bool) -> Self {
        Self {
            plan: plan.to_vec(),
            performance: performance.map(|(p, o)| (p.clone(), o)),
            columns: plan.iter().map(|c| ColumnAcc::new(c.kind)).collect(),
            file_performance: Vec::new(),
            file: None,
            metrics: performance.map(|(_, o)| o.accumulator()),
            file_rows: Vec::new(),
            rows: 0,
            reports,
        }
    }
}

impl BatchSink for WindowAcc {
    /// The categorical columns and, if the file has them, the label and the prediction.
    fn roots(&self, opened: &OpenedFile) -> Result<Vec<usize>, String> {
        let categorical = self.plan.iter().filter(|c| c.kind == ColumnKind::Categorical);
        let mut names: Vec<&str> = categorical.map(|c| c.name.as_str()).collect();
        if let Some((p, _)) = self.performance.as_ref().filter(|_| opened.performance) {
            names.extend([p.label.as_str(), p.prediction.as_str()]);
        }
        Ok(indices(opened.metadata.schema(), &names))
    }

    fn start_file(&mut self, opened: &OpenedFile) {
        self.rows = 0;
        self.file = self.performance.as_ref().filter(|_| opened.performance).map(|_| FilePerformance::default());
    }

    fn corrupt(&self, e: &dyn std::fmt::Display) -> String {
        format!("corrupt data after {} rows: {e}", self.rows)
    }

    fn add(&mut self, batch: RecordBatch, _opened: &OpenedFile) -> Result<(), String> {
        for (column, acc) in self.plan.iter().zip(self.columns.iter_mut()) {
            if let ColumnAcc::Categorical(counts) = acc {
                let array = batch.column_by_name(&column.name).expect("projected");
                counts.add(array).map_err(|reason| format!("column {:?}: {reason}", column.name))?;
            }
        }
        if let (Some((p, _)), Some(file), Some(acc)) =
            (self.performance.as_ref(), self.file.as_mut(), self.metrics.as_mut())
        {
            let label = batch.column_by_name(&p.label).expect("projected");
            let prediction = batch.column_by_name(&p.prediction).expect("projected");
            add_performance(acc, file, label, prediction);
        }
        self.rows += batch.num_rows() as u64;
        if let (Some((_, options)), Some(acc)) = (self.performance.as_ref(), self.metrics.as_mut())
            && !acc.is_sketched()
            && options.sketches(self.file_rows.iter().sum::<u64>() + self.rows)
        {
            acc.sketch_scores();
        }
        Ok(())
    }

    fn end_file(&mut self) -> u64 {
        self.file_rows.push(self.rows);
        if self.performance.is_some() {
            let contribution = self.file.take().map(|mut file| {
                if file.error.is_some() {
                    file.rows = 0;
                }
                file
            });
            self.file_performance.push(contribution);
        }
        if self.reports { self.rows } else { 0 }
    }
}

/// What takes a window's record batches, file after file ([`read_files`]).
trait BatchSink: Send + 'static {
    /// The root columns to project from `opened`.
    fn roots(&self, opened: &OpenedFile) -> Result<Vec<usize>, String>;
    fn start_file(&mut self, _opened: &OpenedFile) {}
    fn add(&mut self, batch: RecordBatch, opened: &OpenedFile) -> Result<(), String>;
    /// The reason for a batch that does not decode.
    fn corrupt(&self, e: &dyn std::fmt::Display) -> String;
    /// The file is done; returns the rows it adds to the progress display's count (0 where
    /// another pass over the file counts them).
    fn end_file(&mut self) -> u64;
}

/// Feeds every record batch of `files`, one file after another in order, to `sink` and hands it
/// back; fails with the index of the file that could not be read. Local files are read by
/// Parquet's synchronous reader on a blocking thread (it reads pages as it decodes, where the async
/// reader buffers whole column chunks), S3 objects through ranged GETs.
async fn read_files<S: BatchSink>(
    ctx: &ReadContext,
    files: &[OpenedFile],
    spec: &RowSpec,
    mut sink: S,
) -> Result<S, (usize, String)> {
    if files.iter().all(|f| matches!(f.file.location, Location::Local(_))) {
        let (files, spec, progress) = (files.to_vec(), spec.clone(), Arc::clone(&ctx.progress));
        let task = tokio::task::spawn_blocking(move || {
            for (i, opened) in files.iter().enumerate() {
                let Location::Local(path) = &opened.file.location else { unreachable!("all local") };
                sink.start_file(opened);
                let roots = sink.roots(opened).map_err(|e| (i, e))?;
                for batch in sync_reader(opened, roots, &spec, path, progress.bytes()).map_err(|e| (i, e))? {
                    let batch = batch.map_err(|e| (i, sink.corrupt(&e)))?;
                    sink.add(batch, opened).map_err(|e| (i, e))?;
                }
                progress.files_done(1, sink.end_file());
            }
            Ok(sink)
        });
        return joined(task.await);
    }
    for (i, opened) in files.iter().enumerate() {
        sink.start_file(opened);
        let roots = sink.roots(opened).map_err(|e| (i, e))?;
        let mut batches = stream(ctx, opened, roots, spec).await.map_err(|e| (i, e))?;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| (i, sink.corrupt(&e)))?;
            sink.add(batch, opened).map_err(|e| (i, e))?;
        }
        ctx.progress.files_done(1, sink.end_file());
    }
    Ok(sink)
}

/// A blocking task's result; its panic goes on in the caller (a bug, not a file's fault).
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("a reading thread was cancelled: {e}"),
        },
    }
}

/// A local file that counts the bytes read through it.
struct CountingFile {
    file: std::fs::File,
    len: u64,
    counter: Arc<AtomicU64>,
}

struct CountingRead {
    inner: std::io::Take<std::io::BufReader<std::fs::File>>,
    counter: Arc<AtomicU64>,
}

impl std::io::Read for CountingRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl parquet::file::reader::Length for CountingFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl parquet::file::reader::ChunkReader for CountingFile {
    type T = CountingRead;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        let inner = std::io::BufReader::new(file).take(self.len.saturating_sub(start));
        Ok(CountingRead { inner, counter: Arc::clone(&self.counter) })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        // Read into the spare capacity: no zeroing of a buffer about to be overwritten.
        let mut buffer = Vec::with_capacity(length);
        file.take(length as u64).read_to_end(&mut buffer)?;
        if buffer.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at offset {start} wanted, {} there",
                buffer.len()
            )));
        }
        self.counter.fetch_add(length as u64, Ordering::Relaxed);
        Ok(Bytes::from(buffer))
    }
}

/// The synchronous reader of a local file, with the same projection, row groups and row filter as
/// [`stream`].
fn sync_reader(
    opened: &OpenedFile,
    roots: Vec<usize>,
    spec: &RowSpec,
    path: &std::path::Path,
    counter: Arc<AtomicU64>,
) -> Result<ParquetRecordBatchReader, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let len = file.metadata().map_err(|e| format!("cannot stat: {e}"))?.len();
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(
        CountingFile { file, len, counter },
        opened.metadata.clone(),
    );
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let filter = spec.row_filter(builder.schema(), builder.parquet_schema());
    let mut builder =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).with_row_groups(opened.row_groups.clone());
    if let Some(filter) = filter {
        builder = builder.with_row_filter(filter);
    }
    builder.build().map_err(|e| e.to_string())
}

/// A label as a boolean: booleans, integers 0/1, floats 0.0/1.0.
fn binary_values(array: &ArrayRef) -> Result<Vec<Option<bool>>, String> {
    if let DataType::Boolean = array.data_type() {
        return Ok(array.as_boolean().iter().collect());
    }
    let values = numeric_values(array).map_err(|_| {
        format!("label type {} is not boolean or 0/1 (classification metrics need binary labels)", array.data_type())
    })?;
    let mut labels = Vec::with_capacity(values.len());
    for v in values {
        labels.push(match v {
            None => None,
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            Some(x) => return Err(format!("label {x} is not 0 or 1 (classification metrics need binary labels)")),
        });
    }
    Ok(labels)
}

/// One numeric column of one window: its data quality and its finite values (sorted), or their
/// sketch when `sketch` is set. The files are read one after another with a projection of that
/// column only (the row filter reads its own columns); `rows` (the window's, from the scan)
/// sizes the values up front, in `buffer` (emptied; a previous column's, so that one allocation
/// serves every column). Fails with the index of the file that could not be read.
pub(crate) async fn numeric_window(
    ctx: &ReadContext,
    files: &[OpenedFile],
    rows: u64,
    name: &str,
    spec: &RowSpec,
    sketch: Option<u8>,
    buffer: Vec<f64>,
) -> Result<NumericPartial, (usize, String)> {
    let sink = NumericSink {
        name: name.to_owned(),
        values: ValueSink::new(sketch, rows, buffer).map_err(|e| (0, e))?,
        quality: DataQuality::default(),
    };
    let NumericSink { values, quality, .. } = read_files(ctx, files, spec, sink).await?;
    let values = joined(tokio::task::spawn_blocking(move || values.finish()).await);
    Ok(NumericPartial { quality, values })
}

/// One numeric column's values and data quality as its batches arrive.
struct NumericSink {
    name: String,
    values: ValueSink,
    quality: DataQuality,
}

impl BatchSink for NumericSink {
    fn roots(&self, opened: &OpenedFile) -> Result<Vec<usize>, String> {
        Ok(vec![opened.metadata.schema().index_of(&self.name).map_err(|e| e.to_string())?])
    }

    fn add(&mut self, batch: RecordBatch, _opened: &OpenedFile) -> Result<(), String> {
        self.values.add(batch.column(0), &mut self.quality)
    }

    fn corrupt(&self, e: &dyn std::fmt::Display) -> String {
        format!("corrupt data in column {:?}: {e}", self.name)
    }

    fn end_file(&mut self) -> u64 {
        0
    }
}

/// Finite values of a numeric column as they stream in: all of them (exact mode), or a sketch
/// whose memory does not grow with the rows.
enum ValueSink {
    Exact(Vec<f64>),
    /// Values are buffered and counted a batch at a time ([`LogHistogram::extend`]).
    Sketch {
        sketch: LogHistogram,
        buffer: Vec<f64>,
    },
}

/// Values buffered before a sketch counts them.
const SKETCH_BUFFER: usize = 64 * 1024;

impl ValueSink {
    /// A sink for a column of up to `rows` values, exact ones kept in `buffer`.
    fn new(sketch: Option<u8>, rows: u64, mut buffer: Vec<f64>) -> Result<Self, String> {
        Ok(match sketch {
            None => {
                buffer.clear();
                buffer.reserve_exact(usize::try_from(rows).unwrap_or(0));
                Self::Exact(buffer)
            }
            Some(precision) => Self::Sketch {
                sketch: LogHistogram::new(precision).map_err(|e| e.to_string())?,
                buffer: Vec::with_capacity(2 * SKETCH_BUFFER),
            },
        })
    }

    /// Adds one batch: counts nulls, NaN and infinities into `quality` and keeps the finite values
    /// (-0.0 as 0.0, so that the total order of the sorted values is the numeric order).
    fn add(&mut self, array: &ArrayRef, quality: &mut DataQuality) -> Result<(), String> {
        match self {
            Self::Exact(values) => add_numeric(array, quality, values),
            Self::Sketch { sketch, buffer } => {
                add_numeric(array, quality, buffer)?;
                if buffer.len() >= SKETCH_BUFFER {
                    sketch.extend(buffer);
                    buffer.clear();
                }
                Ok(())
            }
        }
    }

    /// Exact values sorted in total order, as the statistics (and partial merges) keep them.
    fn finish(self) -> NumericValues {
        match self {
            Self::Exact(values) => {
                // `add_numeric` keeps finite values only (-0.0 as 0.0).
                let sorted = SortedValues::sort(values).expect("the exact sink holds finite values only");
                NumericValues::Exact { sorted }
            }
            Self::Sketch { mut sketch, buffer } => {
                sketch.extend(&buffer);
                NumericValues::Sketch { sketch }
            }
        }
    }
}

/// The `match` on a numeric array's type: `$prim!(arrow type, conversion to f64)` for each numeric
/// type (64-bit integers beyond 2⁵³ rounded, decimals divided by their scale); any other type
/// returns an error from the enclosing function.
macro_rules! numeric_types {
    ($array:expr, $prim:ident) => {
        match $array.data_type() {
            DataType::Int8 => $prim!(Int8Type, |x| x as f64),
            DataType::Int16 => $prim!(Int16Type, |x| x as f64),
            DataType::Int32 => $prim!(Int32Type, |x| x as f64),
            DataType::Int64 => $prim!(Int64Type, |x| x as f64),
            DataType::UInt8 => $prim!(UInt8Type, |x| x as f64),
            DataType::UInt16 => $prim!(UInt16Type, |x| x as f64),
            DataType::UInt32 => $prim!(UInt32Type, |x| x as f64),
            DataType::UInt64 => $prim!(UInt64Type, |x| x as f64),
            DataType::Float16 => $prim!(Float16Type, f64::from),
            DataType::Float32 => $prim!(Float32Type, f64::from),
            DataType::Float64 => $prim!(Float64Type, |x| x),
            DataType::Decimal128(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal128Type, |x| x as f64 / div)
            }
            DataType::Decimal64(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal64Type, |x| x as f64 / div)
            }
            DataType::Decimal32(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal32Type, |x| x as f64 / div)
            }
            DataType::Decimal256(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal256Type, |x: arrow_buffer::i256| i256_to_f64(x) / div)
            }
            other => return Err(format!("type {other} is not numeric")),
        }
    };
}

/// A 256-bit decimal's unscaled value as `f64`: exact up to 2⁵³ like the narrower decimals, the
/// nearest `f64` of its decimal text beyond `i128`.
fn i256_to_f64(x: arrow_buffer::i256) -> f64 {
    match x.to_i128() {
        Some(v) => v as f64,
        None => x.to_string().parse().unwrap_or(f64::NAN),
    }
}

/// Appends each finite value of a numeric array to `keep` (as `f64`; 64-bit integers beyond 2⁵³
/// are rounded) and counts every value into `quality`. Reads the typed values slice and the null
/// bitmap directly.
fn add_numeric(array: &ArrayRef, quality: &mut DataQuality, keep: &mut Vec<f64>) -> Result<(), String> {
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let a = array.as_primitive::<$t>();
            count_values(a.values(), a.nulls(), $conv, quality, keep)
        }};
    }
    numeric_types!(array, prim);
    Ok(())
}

fn count_values<T: Copy>(
    values: &[T],
    nulls: Option<&arrow_buffer::NullBuffer>,
    to_f64: impl Fn(T) -> f64,
    quality: &mut DataQuality,
    keep: &mut Vec<f64>,
) {
    /// Values checked at once (four validity words), in lanes (vectorised).
    const BLOCK: usize = 256;
    const LANES: usize = 8;
    let nulls = nulls.filter(|n| n.null_count() > 0);
    quality.nulls += nulls.map_or(0, |n| n.null_count());
    // The validity bitmap 64 values at a time (bit i set: value i is not null); all set when the
    // array has no nulls.
    let bitmap = nulls.map(|n| n.inner().bit_chunks());
    let mut words = bitmap.iter().flat_map(|b| b.iter().chain(std::iter::once(b.remainder_bits())));
    let mut t = Tally::default();
    for block in values.chunks(BLOCK) {
        let mut valid = [0u64; BLOCK / 64];
        let mut present = 0;
        for (k, word) in valid.iter_mut().enumerate().take(block.len().div_ceil(64)) {
            *word = words.next().unwrap_or(u64::MAX);
            let width = (block.len() - 64 * k).min(64);
            present += (*word & (u64::MAX >> (64 - width))).count_ones() as usize;
        }
        if present == BLOCK {
            // The common case, no nulls and all finite: one pass in eight lanes (vectorised) for
            // the check and the extremes, comparisons instead of f64::min/max (which would look
            // for NaN), then a copy.
            let (mut finite, mut lo, mut hi) = ([true; LANES], [f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
            for lanes in block.chunks_exact(LANES) {
                for k in 0..LANES {
                    let x = to_f64(lanes[k]);
                    finite[k] &= x.is_finite();
                    lo[k] = if x < lo[k] { x } else { lo[k] };
                    hi[k] = if x > hi[k] { x } else { hi[k] };
                }
            }
            if finite.iter().all(|&f| f) {
                t.min = lo.iter().fold(t.min, |m, &x| if x < m { x } else { m });
                t.max = hi.iter().fold(t.max, |m, &x| if x > m { x } else { m });
                keep.extend(block.iter().map(|&v| to_f64(v) + 0.0));
                t.finite += BLOCK;
                continue;
            }
        }
        t.mixed(block, &valid, &to_f64, keep);
    }
    quality.total += values.len();
    quality.finite += t.finite;
    quality.nan += t.nan;
    quality.positive_infinity += t.positive;
    quality.negative_infinity += t.negative;
    if t.finite > 0 {
        quality.min = Some(quality.min.map_or(t.min, |m| m.min(t.min)));
        quality.max = Some(quality.max.map_or(t.max, |m| m.max(t.max)));
    }
}

/// What one batch of a numeric column holds, as [`count_values`] counts it.
struct Tally {
    finite: usize,
    nan: usize,
    positive: usize,
    negative: usize,
    min: f64,
    max: f64,
}

impl Default for Tally {
    fn default() -> Self {
        Self { finite: 0, nan: 0, positive: 0, negative: 0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Tally {
    /// A block of up to 256 values with nulls (bit i of `valid[i / 64]` clear), NaN or
    /// infinities: each present value counted by kind, the finite ones kept (-0.0 as 0.0). With
    /// selects and counts rather than branches, as such values come at random.
    fn mixed<T: Copy>(&mut self, block: &[T], valid: &[u64; 4], to_f64: &impl Fn(T) -> f64, keep: &mut Vec<f64>) {
        let mut kept = [0.0f64; 256];
        let mut n = 0;
        for (i, &v) in block.iter().enumerate() {
            let x = to_f64(v);
            let present = (valid[i / 64] >> (i % 64)) & 1 == 1;
            let finite = present & x.is_finite();
            kept[n] = x + 0.0;
            n += usize::from(finite);
            self.min = if finite & (x < self.min) { x } else { self.min };
            self.max = if finite & (x > self.max) { x } else { self.max };
            self.nan += usize::from(present & x.is_nan());
            self.positive += usize::from(present & (x == f64::INFINITY));
            self.negative += usize::from(present & (x == f64::NEG_INFINITY));
        }
        self.finite += n;
        keep.extend_from_slice(&kept[..n]);
    }
}

/// The values of a numeric array as `f64` (64-bit integers beyond 2⁵³ are rounded), nulls as
/// `None`; from the typed values slice and the null bitmap.
fn numeric_values(array: &ArrayRef) -> Result<Vec<Option<f64>>, String> {
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let a = array.as_primitive::<$t>();
            let conv = $conv;
            match a.nulls().filter(|n| n.null_count() > 0) {
                None => a.values().iter().map(|&x| Some(conv(x))).collect(),
                Some(n) => a.values().iter().enumerate().map(|(i, &x)| n.is_valid(i).then(|| conv(x))).collect(),
            }
        }};
    }
    Ok(numeric_types!(array, prim))
}

/// Calls `f` with each value of a categorical array as text (`None` for nulls); integers (a
/// column configured as categorical) as their decimal text.
pub(crate) fn visit_categories(array: &ArrayRef, f: &mut dyn FnMut(Option<&str>)) -> Result<(), String> {
    macro_rules! ints {
        ($t:ty) => {{
            let mut text = String::new();
            for v in array.as_primitive::<$t>().iter() {
                match v {
                    Some(v) => {
                        use std::fmt::Write;
                        text.clear();
                        write!(text, "{v}").expect("writing to a String");
                        f(Some(&text));
                    }
                    None => f(None),
                }
            }
        }};
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => array.as_string_view().iter().for_each(f),
        DataType::Boolean => array.as_boolean().iter().for_each(|b| f(b.map(|b| if b { "true" } else { "false" }))),
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
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

#[cfg(test)]
mod tests {
    use arrow_array::{DictionaryArray, StringArray};

    use super::*;

    fn counted(arrays: &[ArrayRef]) -> (BTreeMap<String, u64>, u64, u64) {
        let mut counts = CategoryCounts::default();
        for a in arrays {
            counts.add(a).unwrap();
        }
        let (total, nulls) = (counts.total, counts.nulls);
        (counts.into_sorted(), total, nulls)
    }

    /// A numeric batch with nulls (`None`), NaN, infinities and -0.0 at `specials`, sliced from
    /// `offset` on (so the validity bitmap starts mid-byte).
    fn numeric_batch(finite: &[f64], specials: &[(usize, Option<f64>)], offset: usize) -> (ArrayRef, Vec<Option<f64>>) {
        let mut values: Vec<Option<f64>> = finite.iter().copied().map(Some).collect();
        for &(at, v) in specials {
            if let Some(slot) = values.get_mut(at) {
                *slot = v;
            }
        }
        // Under a null, a value that would count were the null ignored (Arrow leaves it unspecified).
        let raw: Vec<f64> =
            values.iter().enumerate().map(|(i, v)| v.unwrap_or([f64::NAN, f64::INFINITY, 1.5][i % 3])).collect();
        let validity = arrow_buffer::NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<_>>());
        let array = arrow_array::Float64Array::new(raw.into(), Some(validity));
        let offset = offset.min(values.len());
        (Arc::new(array.slice(offset, values.len() - offset)), values.split_off(offset))
    }

    proptest::proptest! {
        #[test]
        fn numeric_batches_count_and_keep_what_the_domain_scan_does(
            finite in proptest::collection::vec(-1e6f64..1e6, 0..1300),
            specials in proptest::collection::vec(
                (0usize..1300, proptest::sample::select(vec![
                    None, Some(f64::NAN), Some(f64::INFINITY), Some(f64::NEG_INFINITY), Some(-0.0), Some(f64::MAX),
                ])),
                0..40,
            ),
            offset in 0usize..70,
        ) {
            let (array, values) = numeric_batch(&finite, &specials, offset);
            let (mut quality, mut kept) = (DataQuality::default(), vec![7.0]);
            add_numeric(&array, &mut quality, &mut kept).unwrap();
            let (expected, finite) = DataQuality::split_finite(values.iter().copied());
            proptest::prop_assert_eq!(&quality, &expected);
            // Appended after what the buffer held, in order, -0.0 as 0.0.
            let expected_kept: Vec<u64> = std::iter::once(7.0).chain(finite.iter().map(|x| x + 0.0)).map(f64::to_bits).collect();
            proptest::prop_assert_eq!(kept.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), expected_kept);
        }
    }

    #[test]
    fn a_numeric_batch_counts_every_kind_of_value_in_clean_and_mixed_blocks() {
        // 600 values: blocks 0 and 2 clean (the vectorised path), block 1 with one of each kind.
        let finite: Vec<f64> = (0..600).map(|i| f64::from(i) - 100.5).collect();
        let specials = [(300, None), (301, Some(f64::NAN)), (302, Some(f64::INFINITY)), (303, Some(f64::NEG_INFINITY))];
        let (array, _) = numeric_batch(&finite, &specials, 0);
        let (mut quality, mut kept) = (DataQuality::default(), Vec::new());
        add_numeric(&array, &mut quality, &mut kept).unwrap();
        assert_eq!((quality.total, quality.nulls, quality.nan), (600, 1, 1));
        assert_eq!((quality.positive_infinity, quality.negative_infinity, quality.finite), (1, 1, 596));
        assert_eq!((quality.min, quality.max), (Some(-100.5), Some(498.5)));
        assert_eq!(kept.len(), 596);
        assert_eq!((kept[299], kept[300]), (198.5, 203.5));
    }

    #[test]
    fn dictionaries_of_every_key_type_count_like_plain_text() {
        let texts = [Some("b"), None, Some("a"), Some("b"), Some("c"), Some("b"), None];
        let plain: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        let expected = counted(std::slice::from_ref(&plain));
        assert_eq!(expected.0.get("b"), Some(&3));
        assert_eq!((expected.1, expected.2), (7, 2));
        let with_null_keys: DictionaryArray<Int8Type> = texts.iter().copied().collect();
        let without_nulls: DictionaryArray<UInt16Type> = texts.iter().flatten().copied().collect();
        // Null keys in one batch, none in the next; keys of other widths.
        let split =
            [Arc::new(with_null_keys.slice(0, 3)) as ArrayRef, Arc::new(with_null_keys.slice(3, 4)) as ArrayRef];
        assert_eq!(counted(&split), expected);
        let mut without = counted(&[Arc::new(without_nulls) as ArrayRef]);
        without.1 += 2;
        without.2 += 2;
        assert_eq!(without, expected);
        // A null among the dictionary's values counts as a null wherever a key points at it.
        let keys = arrow_array::Int64Array::from(vec![0, 1, 1, 2]);
        let values = Arc::new(StringArray::from(vec![Some("a"), None, Some("b")]));
        let null_value = DictionaryArray::<Int64Type>::try_new(keys, values).unwrap();
        let (counts, total, nulls) = counted(&[Arc::new(null_value) as ArrayRef]);
        assert_eq!(
            (counts.into_iter().collect::<Vec<_>>(), total, nulls),
            (vec![("a".into(), 1), ("b".into(), 1)], 4, 2)
        );
    }
}
