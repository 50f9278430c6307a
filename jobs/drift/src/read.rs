//! Reading a window's data from Parquet: footers several files at a time ([`open`]), then the
//! window's files one after another ([`batches`]) — categorical and performance columns in one
//! pass, each numeric column in a pass of its own.

pub(crate) mod batches;
pub(crate) mod categories;
pub(crate) mod error;
pub(crate) mod numeric;
pub(crate) mod open;
pub(crate) mod performance;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema};
use deltaone::classification::ClassificationAccumulator;
use deltaone::drift::DataQuality;
use deltaone::drift::partial::NumericPartial;
use futures::StreamExt;

use crate::filter::RowSpec;
use crate::plan::{ColumnKind, ColumnPlan};
use crate::source::InputFile;
use batches::{BatchSink, joined, read_files};
use categories::CategoryCounts;
use error::{DecodeError, ReadError};
use numeric::ValueSink;
use open::{FileOutcome, OpenedFile, Problem, ReadContext, open_file};
use performance::{FilePerformance, PerformanceOptions, PerformancePlan, add_performance};

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
                scan.problems.push(Problem { file: failed.file, reason: reason.to_string(), quarantine: true });
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
) -> Result<WindowAcc, (usize, ReadError)> {
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
    fn roots(&self, opened: &OpenedFile) -> Result<Vec<usize>, ReadError> {
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

    fn corrupt(&self, e: DecodeError) -> ReadError {
        ReadError::CorruptAfter { rows: self.rows, source: e }
    }

    fn add(&mut self, batch: RecordBatch, _opened: &OpenedFile) -> Result<(), ReadError> {
        for (column, acc) in self.plan.iter().zip(self.columns.iter_mut()) {
            if let ColumnAcc::Categorical(counts) = acc {
                let array = batch.column_by_name(&column.name).expect("projected");
                counts.add(array).map_err(|source| ReadError::Column { column: column.name.clone(), source })?;
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
) -> Result<NumericPartial, (usize, ReadError)> {
    let sink = NumericSink {
        name: name.to_owned(),
        values: ValueSink::new(sketch, rows, buffer).map_err(|e| (0, ReadError::Sketch(e)))?,
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
    fn roots(&self, opened: &OpenedFile) -> Result<Vec<usize>, ReadError> {
        Ok(vec![opened.metadata.schema().index_of(&self.name).map_err(ReadError::Projection)?])
    }

    fn add(&mut self, batch: RecordBatch, _opened: &OpenedFile) -> Result<(), ReadError> {
        self.values.add(batch.column(0), &mut self.quality).map_err(ReadError::Values)
    }

    fn corrupt(&self, e: DecodeError) -> ReadError {
        ReadError::CorruptColumn { column: self.name.clone(), source: e }
    }

    fn end_file(&mut self) -> u64 {
        0
    }
}
