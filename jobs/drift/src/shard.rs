//! One code path from files to results, whether one process reads every file or AWS Batch array
//! children read a shard each: reading a set of files yields a [`RunPartial`] (the mergeable
//! [`PartialState`] of both windows plus what the report lists: files read, skipped and
//! quarantined files, labels and predictions per file), and [`finish`] computes statistics,
//! decisions and the report from a partial — the single process's own, or the merge of every
//! shard's ([`merge_partials`]).
//!
//! Exact numeric values merge as sorted sequences and categories as counts, so the merged state
//! is the single process's state bit for bit whatever the merge order; files, skipped files and
//! performance chunks are put back into the manifest's file order before the report is made.
//!
//! With a run **manifest** (written by the scheduler, see [`crate::schedule`]): [`map`] reads
//! shard `i` of the manifest's files and writes `<output>partials/<i>.json`; [`reduce`] reads
//! every shard's partial (a missing or corrupt one is an error naming the shard) and makes the
//! report; [`run_manifest`] reads every file of the manifest in one process.

use backon::Retryable;
use std::path::PathBuf;

use deltaone::drift::Side;
use deltaone::drift::partial::{
    CategoricalPartial, ColumnPartial, MAX_PARTIAL_COUNT, NumericPartial, NumericValues, PARTIAL_FORMAT_VERSION,
    PartialState,
};
use serde::{Deserialize, Serialize};

use super::read::open::{Problem, ReadContext, first_schema};
use super::read::performance::{FilePerformance, PerformancePlan, window_performance};
use super::read::{self, ColumnAcc};
use super::source::{InputFile, Location, parse_s3_url};
use super::{
    ColumnKind, ColumnPlan, DatasetSummary, DriftJobError, DriftReport, PerformancePair, Quality, QualityPair,
    RunOptions, SkippedColumn, SkippedFile, Window, Windows, filter, quarantine,
};
use deltaone::classification::ClassificationAccumulator;
use deltaone_app::schedule::plan::Manifest;

/// The version of a shard's partial file.
pub const SHARD_FORMAT_VERSION: u32 = 2;
/// Partial files live under `<output>partials/`.
pub const PARTIALS_DIR: &str = "partials";

/// One file read completely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRead {
    pub location: String,
    pub rows: u64,
    /// What its labels and predictions contributed, when performance is computed and the file
    /// has both columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<FilePerformance>,
}

/// What reading one window's files gave, besides the column state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SideRead {
    /// Files given (read, pruned or skipped).
    pub matched: usize,
    pub files: Vec<FileRead>,
    pub pruned: usize,
    pub skipped: Vec<SkippedFile>,
    /// The window's classification state (counts, exact log-loss sum, scores or their sketch),
    /// when performance is computed: merged across shards like the column state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<ClassificationAccumulator>,
}

/// The mergeable result of reading a set of files: a shard's output, or the whole run's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPartial {
    pub format: u32,
    /// The format of `state` ([`deltaone::drift::partial::PARTIAL_FORMAT_VERSION`]).
    pub state_format: u32,
    pub run_id: String,
    pub shard: u32,
    pub shards: u32,
    /// The analysed columns (from the first readable reference file of the whole run).
    pub columns: Vec<ColumnPlan>,
    pub skipped_columns: Vec<SkippedColumn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformancePlan>,
    pub reference: SideRead,
    pub current: SideRead,
    pub bytes_read: u64,
    pub state: PartialState,
    /// Results already computed by a single process that read every file: each numeric column's
    /// result as soon as its values were read (its values then dropped), so one process holds one
    /// numeric column's values at a time. Never serialized: map partials keep their values.
    #[serde(skip)]
    computed: Computed,
    /// The schema the columns were planned from (the first readable reference file's): the
    /// Parquet types `baseline` names its features' types by. Never serialized.
    #[serde(skip)]
    pub(crate) reference_schema: Option<arrow_schema::SchemaRef>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Computed {
    columns: std::collections::BTreeMap<String, super::ColumnResult>,
    performance: Option<Option<PerformancePair>>,
}

/// Why bytes are not a shard's partial this build can merge.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    #[error("not a shard partial: {0}")]
    NotAPartial(#[source] serde_json::Error),
    #[error(
        "format {format}/{state_format} is not supported (this build reads {SHARD_FORMAT_VERSION}/{PARTIAL_FORMAT_VERSION})"
    )]
    Version { format: u32, state_format: u32 },
    #[error("not a valid partial: {0}")]
    Invalid(#[source] serde_json::Error),
    #[error(
        "{side}: files hold {} rows but the state counts {state}",
        files.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string())
    )]
    Rows { side: &'static str, files: Option<u64>, state: u64 },
    #[error("not a valid partial: {0}")]
    State(#[source] deltaone::drift::partial::PartialError),
    #[error("{what} is {count}, more than a shard's partial holds (at most 2^48)")]
    Count { what: &'static str, count: u64 },
    #[error("{side}: no state for column {column:?}")]
    NoColumn { side: &'static str, column: String },
    #[error("{side}: column {column:?} holds {held} values but counts {finite} finite ones")]
    Values { side: &'static str, column: String, held: u64, finite: u64 },
    #[error("{side}: column {column:?} has a state of another kind")]
    Kind { side: &'static str, column: String },
}

/// Why the bytes at a location (a manifest, a partial) could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GetError {
    #[error("{0}")]
    Local(#[source] std::io::Error),
    #[error("an S3 location needs an S3 client")]
    NoS3Client,
    #[error("no such object")]
    NoSuchObject,
    #[error("{}", aws_sdk_s3::error::DisplayErrorContext(.0))]
    GetObject(#[source] Box<aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::get_object::GetObjectError>>),
    /// The object's body broke off.
    #[error("{0}")]
    Body(#[source] aws_sdk_s3::primitives::ByteStreamError),
}

impl RunPartial {
    /// The serialized form (JSON; exact values and per-row vectors packed as base64).
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("a partial serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Reads [`encode`](Self::encode)'s output, validating versions and counts.
    pub fn decode(bytes: &[u8]) -> Result<Self, PartialError> {
        #[derive(Deserialize)]
        struct Versions {
            format: u32,
            state_format: u32,
        }
        let versions: Versions = serde_json::from_slice(bytes).map_err(PartialError::NotAPartial)?;
        if versions.format != SHARD_FORMAT_VERSION || versions.state_format != PARTIAL_FORMAT_VERSION {
            return Err(PartialError::Version { format: versions.format, state_format: versions.state_format });
        }
        let partial: RunPartial = serde_json::from_slice(bytes).map_err(PartialError::Invalid)?;
        // What the reduce step adds up over the shards stays within what a shard can hold, so the
        // sums of up to the most shards a run has cannot overflow.
        partial.state.check().map_err(PartialError::State)?;
        if partial.bytes_read > MAX_PARTIAL_COUNT {
            return Err(PartialError::Count { what: "bytes_read", count: partial.bytes_read });
        }
        check_window("reference", &partial.reference, &partial.state.reference, &partial.columns)?;
        check_window("current", &partial.current, &partial.state.current, &partial.columns)?;
        Ok(partial)
    }
}

/// Checks a decoded window against what was read: counts a shard can hold, its files' rows, a
/// state of the planned kind for every column, as many numeric values held as counted.
pub(crate) fn check_window(
    side: &'static str,
    read: &SideRead,
    window: &deltaone::drift::partial::WindowPartial,
    columns: &[ColumnPlan],
) -> Result<(), PartialError> {
    for (what, count) in [("matched", read.matched), ("pruned", read.pruned), ("files", read.files.len())] {
        if count as u64 > MAX_PARTIAL_COUNT {
            return Err(PartialError::Count { what, count: count as u64 });
        }
    }
    let rows = read.files.iter().try_fold(0u64, |sum, f| sum.checked_add(f.rows));
    if rows != Some(window.rows) {
        return Err(PartialError::Rows { side, files: rows, state: window.rows });
    }
    for column in columns {
        let Some(state) = window.columns.get(&column.name) else {
            return Err(PartialError::NoColumn { side, column: column.name.clone() });
        };
        match (column.kind, state) {
            (ColumnKind::Numeric, ColumnPartial::Numeric(n)) => {
                let held = match &n.values {
                    NumericValues::Exact { sorted } => sorted.len() as u64,
                    NumericValues::Sketch { sketch } => sketch.count(),
                };
                if held != n.quality.finite as u64 {
                    return Err(PartialError::Values {
                        side,
                        column: column.name.clone(),
                        held,
                        finite: n.quality.finite as u64,
                    });
                }
            }
            (ColumnKind::Categorical, ColumnPartial::Categorical(_)) => {}
            _ => return Err(PartialError::Kind { side, column: column.name.clone() }),
        }
    }
    Ok(())
}

/// What [`scan`] reads, and for which part of the run.
pub(crate) struct ScanRequest<'a> {
    pub ctx: &'a ReadContext,
    pub options: &'a RunOptions,
    /// The whole run's reference files: the columns come from the first readable one, so that
    /// every shard analyses the same columns.
    pub schema_files: &'a [InputFile],
    /// The files this process reads (quarantining unreadable ones).
    pub reference_files: &'a [InputFile],
    pub current_files: &'a [InputFile],
    /// This process's shard, of `shards` (0 of 1 for a single process).
    pub shard: u32,
    pub shards: u32,
    /// A single process over every file (never a map shard): each numeric column is computed as
    /// soon as it is read and its values dropped (bounded by one column), and performance is
    /// accumulated (the per-file labels and predictions dropped) — the partial is then only good
    /// for [`finish`].
    pub inline: bool,
}

impl<'a> ScanRequest<'a> {
    /// One process reading every file of the run.
    pub fn whole_run(
        ctx: &'a ReadContext,
        options: &'a RunOptions,
        reference_files: &'a [InputFile],
        current_files: &'a [InputFile],
    ) -> Self {
        Self {
            ctx,
            options,
            schema_files: reference_files,
            reference_files,
            current_files,
            shard: 0,
            shards: 1,
            inline: true,
        }
    }
}

/// The columns a run analyses, from its reference schema.
struct RunPlan {
    schema: arrow_schema::SchemaRef,
    columns: Vec<ColumnPlan>,
    skipped_columns: Vec<SkippedColumn>,
    /// When the schema has both the label and the prediction column.
    performance: Option<PerformancePlan>,
}

/// Both windows read: their scans, the partial state and what was computed inline.
struct WindowsRead {
    reference: read::WindowScan,
    current: read::WindowScan,
    state: PartialState,
    computed: Computed,
    performance: Option<Option<PerformancePair>>,
}

/// Reads the request's files into a partial (see [`ScanRequest`]).
pub(crate) async fn scan(request: ScanRequest<'_>) -> Result<RunPartial, DriftJobError> {
    let ScanRequest { ctx, options, reference_files, current_files, shard, shards, .. } = request;
    let quarantine = options.quarantine_destination();
    let q = quarantine.as_ref();
    let plan = plan_run(&request, q).await?;
    let WindowsRead { mut reference, mut current, state, mut computed, performance } =
        read_windows(&request, &plan).await?;
    let mut skipped_reference = Vec::new();
    let mut skipped_current = Vec::new();
    let problems = std::mem::take(&mut reference.problems);
    quarantine::quarantine_all(ctx, &options.run_id, Side::Reference, problems, q, &mut skipped_reference).await;
    let problems = std::mem::take(&mut current.problems);
    quarantine::quarantine_all(ctx, &options.run_id, Side::Current, problems, q, &mut skipped_current).await;

    let reference = side_read(reference, reference_files.len(), skipped_reference);
    let current = side_read(current, current_files.len(), skipped_current);
    if let Some(performance) = performance {
        computed.performance = Some(performance);
    }
    Ok(RunPartial {
        format: SHARD_FORMAT_VERSION,
        state_format: PARTIAL_FORMAT_VERSION,
        run_id: options.run_id.clone(),
        shard,
        shards,
        columns: plan.columns,
        skipped_columns: plan.skipped_columns,
        performance: plan.performance,
        reference,
        current,
        bytes_read: ctx.progress.bytes_read(),
        state,
        computed,
        reference_schema: Some(plan.schema),
    })
}

/// The run's columns from the first readable file of the schema files; without one, the reference
/// window is empty (its unreadable files quarantined).
async fn plan_run(request: &ScanRequest<'_>, q: Option<&quarantine::Destination>) -> Result<RunPlan, DriftJobError> {
    let ScanRequest { ctx, options, schema_files, reference_files, .. } = *request;
    let reference_spec = options.spec(options.reference_window);
    let Some(schema) = first_schema(ctx, schema_files, &reference_spec).await else {
        let scan = read::scan_window(ctx, reference_files, &[], &reference_spec, None).await;
        let mut skipped = Vec::new();
        quarantine::quarantine_all(ctx, &options.run_id, Side::Reference, scan.problems, q, &mut skipped).await;
        return Err(DriftJobError::EmptyWindow {
            side: Side::Reference,
            files: schema_files.len(),
            skipped: skipped.len(),
            unreadable: skipped.into_iter().map(|f| (f.path, f.reason)).collect(),
        });
    };
    let (columns, skipped_columns) = crate::options::plan_for(&schema, options)?;
    if columns.is_empty() {
        let skipped = skipped_columns.iter().map(|c| format!("{} ({})", c.column, c.reason)).collect::<Vec<_>>();
        return Err(DriftJobError::NoColumns { skipped: skipped.join(", ") });
    }
    let performance = (schema.index_of(&options.label_column).is_ok()
        && schema.index_of(&options.prediction_column).is_ok())
    .then(|| PerformancePlan { label: options.label_column.clone(), prediction: options.prediction_column.clone() });
    Ok(RunPlan { schema, columns, skipped_columns, performance })
}

/// Scans both windows and reads their numeric columns; a file whose pages fail in a numeric pass
/// is left out and both windows are read again without it (its problem kept for quarantine).
async fn read_windows(request: &ScanRequest<'_>, run: &RunPlan) -> Result<WindowsRead, DriftJobError> {
    let ScanRequest { ctx, options, reference_files, current_files, inline, .. } = *request;
    let (plan, performance_plan) = (&run.columns, &run.performance);
    let reference_spec = options.spec(options.reference_window);
    let current_spec = options.spec(options.current_window);
    let performance_options = options.performance_options();
    // Files whose pages failed in a numeric pass: the windows are read again without them.
    let mut failed: Vec<(Side, Problem)> = Vec::new();
    let (mut reference, mut current, state, computed, performance) = loop {
        let keep = |side: Side, files: &[InputFile]| -> Vec<InputFile> {
            let failed_here = |f: &InputFile| failed.iter().any(|(s, p)| *s == side && p.file.location == f.location);
            files.iter().filter(|f| !failed_here(f)).cloned().collect()
        };
        let (reference_files, current_files) =
            (keep(Side::Reference, reference_files), keep(Side::Current, current_files));
        let passes = read::scan_passes(plan, performance_plan.is_some());
        ctx.progress.stage("scan", (reference_files.len() + current_files.len()) * passes as usize);
        let p = performance_plan.as_ref().map(|p| (p, performance_options));
        let (mut reference, mut current) = futures::join!(
            read::scan_window(ctx, &reference_files, plan, &reference_spec, p),
            read::scan_window(ctx, &current_files, plan, &current_spec, p),
        );
        // A single process finishes the metrics now, so the scores kept for the AUROC are gone
        // before the numeric columns are read.
        let performance = inline.then(|| {
            performance_plan.as_ref().map(|p| {
                // Both windows at once (each sorts its scores for the AUROC).
                let (reference, current) = std::thread::scope(|s| {
                    let r = s.spawn(|| scanned_performance(options, &mut reference));
                    let c = scanned_performance(options, &mut current);
                    (r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), c)
                });
                PerformancePair {
                    reference,
                    current,
                    label_column: p.label.clone(),
                    prediction_column: p.prediction.clone(),
                }
            })
        });
        let specs = (&reference_spec, &current_spec);
        match numeric_pass(ctx, options, plan, (&mut reference, &mut current), specs, inline).await {
            Ok((state, computed)) => break (reference, current, state, computed, performance),
            Err(NumericFailure::File { side, index, reason }) => {
                let scan = if side == Side::Reference { &reference } else { &current };
                let file = scan.files[index].file.clone();
                tracing::warn!(file = %file.location, %reason, "unreadable: reading both windows again without it");
                failed.push((side, Problem { file, reason: reason.to_string(), quarantine: true }));
            }
            Err(NumericFailure::Job(e)) => return Err(e),
        }
    };
    for (side, problem) in failed {
        let scan = if side == Side::Reference { &mut reference } else { &mut current };
        scan.problems.push(problem);
    }
    Ok(WindowsRead { reference, current, state, computed, performance })
}

/// What the report lists of one window's scan: the files read with their rows and performance
/// contributions, the pruned and skipped ones.
fn side_read(scan: read::WindowScan, matched: usize, skipped: Vec<SkippedFile>) -> SideRead {
    let mut contributions = scan.performance.into_iter();
    SideRead {
        matched,
        files: scan
            .files
            .iter()
            .zip(scan.file_rows.iter())
            .map(|(f, &rows)| FileRead {
                location: f.file.location.to_string(),
                rows,
                performance: contributions.next().flatten(),
            })
            .collect(),
        pruned: scan.pruned,
        skipped,
        performance: scan.metrics,
    }
}

/// Why a numeric pass stopped: a file to leave out (by its index among the window's files read),
/// or an error of the run.
enum NumericFailure {
    File { side: Side, index: usize, reason: read::error::ReadError },
    Job(DriftJobError),
}

/// The partial state of both windows: categorical counts from the scans, then each numeric column
/// read for both windows at once (two threads) with the values held sorted — or, `inline`, its
/// result computed right away and its values dropped, so that one numeric column is in memory at
/// a time.
async fn numeric_pass(
    ctx: &ReadContext,
    options: &RunOptions,
    plan: &[ColumnPlan],
    (reference, current): (&mut read::WindowScan, &mut read::WindowScan),
    (reference_spec, current_spec): (&filter::RowSpec, &filter::RowSpec),
    inline: bool,
) -> Result<(PartialState, Computed), NumericFailure> {
    let mut computed = Computed::default();
    let mut state = PartialState::default();
    state.reference.rows = reference.rows;
    state.current.rows = current.rows;
    let numeric = plan.iter().filter(|c| c.kind == ColumnKind::Numeric).count();
    ctx.progress.stage("numeric columns", numeric * (reference.files.len() + current.files.len()));
    // Inline, each window's values buffer is reused from column to column.
    let (mut reference_buffer, mut current_buffer) = (Vec::new(), Vec::new());
    for (i, column) in plan.iter().enumerate() {
        if column.kind == ColumnKind::Categorical {
            for (window, scan) in [(&mut state.reference, &mut *reference), (&mut state.current, &mut *current)] {
                let ColumnAcc::Categorical(counts) = std::mem::replace(&mut scan.columns[i], ColumnAcc::Numeric) else {
                    unreachable!("the scan counts categorical columns");
                };
                let partial =
                    CategoricalPartial { total: counts.total, nulls: counts.nulls, counts: counts.into_sorted() };
                window.columns.insert(column.name.clone(), ColumnPartial::Categorical(partial));
            }
            continue;
        }
        let name = column.name.as_str();
        let (r, c) = futures::join!(
            read::numeric_window(
                ctx,
                &reference.files,
                reference.rows,
                name,
                reference_spec,
                options.sketch_for(reference.rows),
                std::mem::take(&mut reference_buffer),
            ),
            read::numeric_window(
                ctx,
                &current.files,
                current.rows,
                name,
                current_spec,
                options.sketch_for(current.rows),
                std::mem::take(&mut current_buffer),
            ),
        );
        let fail = |side: Side| {
            move |(index, reason): (usize, read::error::ReadError)| NumericFailure::File { side, index, reason }
        };
        let (r, c) = (r.map_err(fail(Side::Reference))?, c.map_err(fail(Side::Current))?);
        state.reference.columns.insert(column.name.clone(), ColumnPartial::Numeric(r));
        state.current.columns.insert(column.name.clone(), ColumnPartial::Numeric(c));
        if inline && state.reference.rows > 0 && state.current.rows > 0 {
            let result = column_result(options, column, &state).map_err(NumericFailure::Job)?;
            computed.columns.insert(column.name.clone(), result);
            for (window, buffer) in
                [(&mut state.reference, &mut reference_buffer), (&mut state.current, &mut current_buffer)]
            {
                if let Some(ColumnPartial::Numeric(n)) = window.columns.get_mut(&column.name) {
                    let values = std::mem::replace(&mut n.values, NumericValues::Exact { sorted: Default::default() });
                    if let NumericValues::Exact { sorted } = values {
                        *buffer = sorted.into_vec();
                    }
                }
            }
        }
    }
    Ok((state, computed))
}

/// A window's classification metrics from its scan, as [`performance_of`] computes them from a
/// partial (the scan's state is taken).
fn scanned_performance(options: &RunOptions, scan: &mut read::WindowScan) -> super::WindowPerformance {
    let acc = scan.metrics.take().unwrap_or_else(|| empty_performance(options));
    let locations: Vec<String> = scan.files.iter().map(|f| f.file.location.to_string()).collect();
    window_performance(acc, locations.iter().map(String::as_str).zip(scan.performance.iter().map(Option::as_ref)))
}

fn empty_performance(options: &RunOptions) -> ClassificationAccumulator {
    options.performance_options().accumulator()
}

/// The classification metrics of both windows from their merged state and their files'
/// contributions in file order (the state is taken).
fn performance_of(
    options: &RunOptions,
    plan: Option<&PerformancePlan>,
    reference: &mut SideRead,
    current: &mut SideRead,
) -> Option<PerformancePair> {
    let p = plan?;
    let window = |read: &mut SideRead| {
        let mut acc = read.performance.take().unwrap_or_else(|| empty_performance(options));
        // Shards below the limit kept their scores; the merged window may be past it.
        if options.performance_options().sketches(read.files.iter().map(|f| f.rows).sum()) {
            acc.sketch_scores();
        }
        window_performance(acc, read.files.iter().map(|f| (f.location.as_str(), f.performance.as_ref())))
    };
    Some(PerformancePair {
        reference: window(reference),
        current: window(current),
        label_column: p.label.clone(),
        prediction_column: p.prediction.clone(),
    })
}

/// One column's result from the state of both windows.
fn column_result(
    options: &RunOptions,
    column: &ColumnPlan,
    state: &PartialState,
) -> Result<super::ColumnResult, DriftJobError> {
    let binning = options.binning.binning();
    let states = (state.reference.columns.get(&column.name), state.current.columns.get(&column.name));
    let result = match states {
        (Some(ColumnPartial::Numeric(r)), Some(ColumnPartial::Numeric(c))) => {
            let quality = QualityPair { reference: r.quality.into(), current: c.quality.into() };
            crate::columns::numeric_result(column, quality, r, c, binning, options.decision.policy)
        }
        (Some(ColumnPartial::Categorical(r)), Some(ColumnPartial::Categorical(c))) => {
            let quality = |p: &CategoricalPartial| Quality {
                total: p.total,
                nulls: p.nulls,
                valid: p.total - p.nulls,
                ..Quality::default()
            };
            let quality = QualityPair { reference: quality(r), current: quality(c) };
            crate::columns::categorical_result(column, quality, &r.counts, &c.counts, options.decision.policy)
        }
        _ => {
            return Err(DriftJobError::Partial {
                shard: "merged".to_owned(),
                reason: format!("column {:?} has no state of its kind in both windows", column.name),
            });
        }
    };
    tracing::info!(column = %result.column, score = ?result.score, p_value = ?result.p_value, "column analysed");
    Ok(result)
}

/// Statistics, decisions and the report from a run's partial (one process's, or the merge of
/// every shard's).
pub fn finish(options: &RunOptions, partial: RunPartial) -> Result<DriftReport, DriftJobError> {
    for (side, read, window) in [
        (Side::Reference, &partial.reference, &partial.state.reference),
        (Side::Current, &partial.current, &partial.state.current),
    ] {
        if window.rows == 0 {
            return Err(DriftJobError::EmptyWindow {
                side,
                files: read.matched,
                skipped: read.skipped.len(),
                unreadable: read.skipped.iter().map(|f| (f.path.clone(), f.reason.clone())).collect(),
            });
        }
    }
    let mut partial = partial;
    let mut columns = Vec::with_capacity(partial.columns.len());
    for column in &partial.columns {
        let result = match partial.computed.columns.remove(&column.name) {
            Some(result) => result,
            None => column_result(options, column, &partial.state)?,
        };
        columns.push(result);
    }
    crate::columns::decide(&mut columns, &options.decision)?;
    let decisions: Vec<deltaone::drift::ColumnDrift> = columns
        .iter()
        .filter_map(|c| {
            c.score.map(|value| deltaone::drift::ColumnDrift {
                column: c.column.clone(),
                score: deltaone::drift::DriftScore { method: c.method, value },
                threshold: c.threshold,
                drifted: c.drifted,
            })
        })
        .collect();
    let negligible_columns =
        columns.iter().filter(|c| c.verdict == Some(deltaone::drift::ColumnVerdict::Negligible)).count();
    let dataset = deltaone::drift::DatasetDrift::from_columns(decisions, Some(options.drift_share));
    let performance = match partial.computed.performance.take() {
        Some(performance) => performance,
        None => performance_of(options, partial.performance.as_ref(), &mut partial.reference, &mut partial.current),
    };
    let window = |read: &SideRead, rows: u64, range: Option<super::TimeRange>| Window {
        files: read.files.iter().map(|f| f.location.clone()).collect(),
        rows,
        start: range.map(|r| filter::rfc3339_seconds(r.start)),
        end: range.map(|r| filter::rfc3339_seconds(r.end)),
        pruned_files: read.pruned,
    };
    let mut skipped_files = partial.reference.skipped.clone();
    skipped_files.extend(partial.current.skipped.iter().cloned());
    let quarantined_files = skipped_files.iter().filter(|f| f.quarantined_to.is_some()).count();
    Ok(DriftReport {
        run_id: options.run_id.clone(),
        model_name: options.model_name.clone(),
        model_version: options.model_version.clone(),
        binning: options.binning,
        windows: Windows {
            reference: window(&partial.reference, partial.state.reference.rows, options.reference_window),
            current: window(&partial.current, partial.state.current.rows, options.current_window),
        },
        skipped_files,
        skipped_columns: partial.skipped_columns,
        columns,
        dataset: DatasetSummary {
            columns: dataset.columns.len(),
            drifted_columns: dataset.drifted_columns,
            drifted_share: dataset.drifted_share,
            threshold: dataset.threshold,
            drifted: dataset.drifted,
            negligible_columns,
            policy: options.decision.policy,
            correction: options.decision.correction,
            alpha: options.decision.alpha,
        },
        quarantined_files,
        bytes_read: partial.bytes_read,
        performance,
        history: Vec::new(),
        alert: None,
    })
}

/// Merges the partials of every shard of a run, in the order given (the state merge is
/// associative and commutative); files and skipped files are put in `order` (their index in the
/// manifest), so the report lists them as the single process does. `partials` pairs each partial
/// with the shard it was read for, which errors name.
pub fn merge_partials(
    partials: Vec<(u32, RunPartial)>,
    order: &dyn Fn(&str) -> usize,
) -> Result<RunPartial, DriftJobError> {
    let mut partials = partials.into_iter();
    let Some((_, mut merged)) = partials.next() else {
        return Err(DriftJobError::Partial { shard: "any".to_owned(), reason: "no partials to merge".to_owned() });
    };
    for (shard, partial) in partials {
        let bad = |reason: String| DriftJobError::Partial { shard: shard.to_string(), reason };
        if partial.columns != merged.columns || partial.performance != merged.performance {
            return Err(bad("its columns differ from the other shards' (read with another schema or options)".into()));
        }
        if partial.run_id != merged.run_id {
            return Err(bad(format!("it belongs to run {:?}, not {:?}", partial.run_id, merged.run_id)));
        }
        merged.state.merge(&partial.state).map_err(|e| bad(e.to_string()))?;
        for (ours, theirs) in [(&mut merged.reference, partial.reference), (&mut merged.current, partial.current)] {
            // Files of different kinds (scores, hard predictions) are not merged: they are reported
            // from the files' own kinds when the metrics are finished.
            let compatible = |a: &ClassificationAccumulator, b: &ClassificationAccumulator| {
                a.kind().is_none() || b.kind().is_none() || a.kind() == b.kind()
            };
            match (&mut ours.performance, theirs.performance) {
                (Some(acc), Some(other)) if compatible(acc, &other) => {
                    acc.merge(&other).map_err(|e| bad(e.to_string()))?;
                }
                (ours @ None, Some(other)) => *ours = Some(other),
                _ => {}
            }
            ours.matched += theirs.matched;
            ours.pruned += theirs.pruned;
            ours.files.extend(theirs.files);
            ours.skipped.extend(theirs.skipped);
        }
        merged.bytes_read += partial.bytes_read;
    }
    for side in [&mut merged.reference, &mut merged.current] {
        side.files
            .sort_by(|a, b| order(&a.location).cmp(&order(&b.location)).then_with(|| a.location.cmp(&b.location)));
        side.skipped.sort_by(|a, b| order(&a.path).cmp(&order(&b.path)).then_with(|| a.path.cmp(&b.path)));
    }
    merged.shard = 0;
    Ok(merged)
}

/// The input files of a manifest list.
pub fn manifest_files(list: &[deltaone::sharding::InputFile]) -> Vec<InputFile> {
    list.iter()
        .map(|f| {
            let location = match parse_s3_url(&f.uri) {
                Some((bucket, key)) => Location::S3 { bucket, key },
                None => Location::Local(PathBuf::from(&f.uri)),
            };
            InputFile::new(location, Some(f.bytes))
        })
        .collect()
}

/// The options of a manifest's run: its run id, files, windows, timestamp column and drift share
/// over `base` (the command line's other options).
pub fn manifest_options(base: &RunOptions, manifest: &Manifest) -> Result<RunOptions, DriftJobError> {
    let mut options = base.clone();
    options.run_id = manifest.run_id.clone();
    options.reference = manifest.reference.iter().map(|f| f.uri.clone()).collect();
    options.current = manifest.current.iter().map(|f| f.uri.clone()).collect();
    let range = |r: &deltaone_app::schedule::plan::TimeRange| {
        format!("{}..{}", r.start, r.end)
            .parse::<super::TimeRange>()
            .map_err(|e| DriftJobError::InvalidOption(format!("manifest window: {e}")))
    };
    if let Some(column) = &manifest.timestamp_column {
        options.timestamp_column = Some(column.clone());
        options.reference_window = manifest.reference_window.as_ref().map(range).transpose()?;
        options.current_window = Some(range(&manifest.current_window)?);
    }
    if let Some(share) = manifest.drift_share {
        options.drift_share = share;
    }
    Ok(options)
}

/// Where a manifest's partial of `shard` lives.
pub fn partial_location(manifest: &Manifest, shard: u32) -> Location {
    quarantine::Destination::parse(&manifest.output).join(&format!("{PARTIALS_DIR}/{shard}.json"))
}

/// Where a manifest's results go, as the `out` of [`super::deliver::DeliverOptions`]: its output
/// without the trailing `<run id>/` that delivery adds for S3 prefixes.
pub fn manifest_out(manifest: &Manifest) -> String {
    let suffix = format!("{}/", manifest.run_id);
    match manifest.output.strip_suffix(&suffix) {
        Some(parent) if manifest.output.starts_with("s3://") => parent.to_owned(),
        _ => manifest.output.clone(),
    }
}

/// Reads a manifest from a local path or an `s3://` address.
pub async fn load_manifest(uri: &str, s3: Option<&aws_sdk_s3::Client>) -> Result<Manifest, DriftJobError> {
    let location = match parse_s3_url(uri) {
        Some((bucket, key)) => Location::S3 { bucket, key },
        None => Location::Local(PathBuf::from(uri)),
    };
    let bytes =
        get(s3, &location).await.map_err(|e| DriftJobError::Read { path: uri.to_owned(), reason: e.to_string() })?;
    deltaone_app::schedule::read_manifest(&bytes)
        .map_err(|e| DriftJobError::Read { path: uri.to_owned(), reason: format!("not a run manifest: {e}") })
}

/// Reads the bytes at a location (S3 reads retried on transient errors).
pub(crate) async fn get(s3: Option<&aws_sdk_s3::Client>, location: &Location) -> Result<Vec<u8>, GetError> {
    match location {
        Location::Local(path) => tokio::fs::read(path).await.map_err(GetError::Local),
        Location::S3 { bucket, key } => {
            let client = s3.ok_or(GetError::NoS3Client)?;
            let missing = |e: &aws_sdk_s3::error::SdkError<_, _>| {
                e.as_service_error().is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key)
            };
            let output = (|| client.get_object().bucket(bucket).key(key).send())
                .retry(crate::retry::aws_pauses())
                .when(|e| !missing(e))
                .await
                .map_err(|e| if missing(&e) { GetError::NoSuchObject } else { GetError::GetObject(Box::new(e)) })?;
            output.body.collect().await.map(|b| b.to_vec()).map_err(GetError::Body)
        }
    }
}

/// The shard index of a map child: `--shard`, else `AWS_BATCH_JOB_ARRAY_INDEX`, else 0 (an array
/// of one runs as a plain job, without the variable).
pub fn shard_index(flag: Option<u32>, env: Option<&str>) -> Result<u32, DriftJobError> {
    match (flag, env) {
        (Some(i), _) => Ok(i),
        (None, Some(text)) => text.trim().parse().map_err(|_| {
            DriftJobError::InvalidOption(format!(
                "{} {text:?} is not a shard index",
                crate::env::AWS_BATCH_JOB_ARRAY_INDEX
            ))
        }),
        (None, None) => Ok(0),
    }
}

/// Map: reads shard `shard` of `shards` of the manifest's files and writes its partial to
/// `<output>partials/<shard>.json`. The same shard always reads the same files and writes the
/// same bytes, so re-running it is harmless. Returns where the partial went.
pub async fn map(
    base: &RunOptions,
    manifest: &Manifest,
    shard: u32,
    shards: Option<u32>,
    s3: Option<aws_sdk_s3::Client>,
) -> Result<String, DriftJobError> {
    let options = manifest_options(base, manifest)?;
    options.validate()?;
    let shards = shards.unwrap_or(manifest.shards).max(1);
    if shard >= shards {
        return Err(DriftJobError::InvalidOption(format!("shard {shard} is not in 0..{shards}")));
    }
    let reference = manifest_files(&manifest.reference);
    let pick = |list: &[deltaone::sharding::InputFile]| {
        manifest_files(&deltaone::sharding::assign(list, shards).swap_remove(shard as usize))
    };
    let (shard_reference, shard_current) = (pick(&manifest.reference), pick(&manifest.current));
    let ctx = options.read_context(s3.clone());
    let partial = scan(ScanRequest {
        ctx: &ctx,
        options: &options,
        schema_files: &reference,
        reference_files: &shard_reference,
        current_files: &shard_current,
        shard,
        shards,
        inline: false,
    })
    .await?;
    ctx.progress.finish();
    let location = quarantine::Destination::parse(&manifest.output).join(&format!("{PARTIALS_DIR}/{shard}.json"));
    quarantine::put(s3.as_ref(), &location, partial.encode(), "application/json")
        .await
        .map_err(|e| DriftJobError::Aws(format!("writing the partial of shard {shard}: {e}")))?;
    tracing::info!(shard, shards, partial = %location, "wrote the shard's partial");
    Ok(location.to_string())
}

/// Reduce: reads the partials of every shard of the manifest, merges them and makes the report.
/// A missing or unreadable partial fails with an error naming its shard.
pub async fn reduce(
    base: &RunOptions,
    manifest: &Manifest,
    s3: Option<aws_sdk_s3::Client>,
) -> Result<DriftReport, DriftJobError> {
    let options = manifest_options(base, manifest)?;
    options.validate()?;
    let mut partials = Vec::with_capacity(manifest.shards as usize);
    for shard in 0..manifest.shards.max(1) {
        let location = partial_location(manifest, shard);
        let bad = |reason: String| DriftJobError::Partial { shard: shard.to_string(), reason };
        let bytes = get(s3.as_ref(), &location).await.map_err(|e| bad(format!("reading {location}: {e}")))?;
        let partial = RunPartial::decode(&bytes).map_err(|e| bad(format!("{location}: {e}")))?;
        if partial.shard != shard || partial.shards != manifest.shards.max(1) {
            return Err(bad(format!(
                "{location} is shard {} of {}, not {shard} of {}",
                partial.shard, partial.shards, manifest.shards
            )));
        }
        partials.push((shard, partial));
    }
    sketch_large_columns(&options, &mut partials)?;
    let merged = merge_partials(partials, &manifest_order(manifest))?;
    finish(&options, merged).map(|report| with_manifest_windows(report, manifest))
}

/// The numeric columns of a window whose rows over all shards exceed `exact_max_rows` (or every
/// column, with `--sketch`) are sketched in every shard before merging — as the single process
/// decides on the whole window's rows — so the merged state is what one process would hold.
fn sketch_large_columns(options: &RunOptions, partials: &mut [(u32, RunPartial)]) -> Result<(), DriftJobError> {
    let Some((_, first)) = partials.first() else { return Ok(()) };
    let names: Vec<String> =
        first.columns.iter().filter(|c| c.kind == ColumnKind::Numeric).map(|c| c.name.clone()).collect();
    for name in names {
        for current in [false, true] {
            fn window(p: &mut RunPartial, current: bool) -> &mut deltaone::drift::partial::WindowPartial {
                if current { &mut p.state.current } else { &mut p.state.reference }
            }
            let rows: u64 = partials.iter_mut().map(|(_, p)| window(p, current).rows).sum();
            let Some(precision) = options.sketch_for(rows) else { continue };
            for (shard, partial) in partials.iter_mut() {
                if let Some(ColumnPartial::Numeric(n)) = window(partial, current).columns.get_mut(&name) {
                    let exact = std::mem::replace(n, NumericPartial::exact());
                    *n = exact.into_sketch(precision).map_err(|e| DriftJobError::Partial {
                        shard: shard.to_string(),
                        reason: format!("column {name:?}: {e}"),
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// The manifest's windows on a report whose rows were chosen by files (no timestamp column): the
/// scheduler picked the files by these windows, and the results are keyed by them.
fn with_manifest_windows(mut report: DriftReport, manifest: &Manifest) -> DriftReport {
    let current = &mut report.windows.current;
    if current.start.is_none() && current.end.is_none() {
        current.start = Some(manifest.current_window.start.clone());
        current.end = Some(manifest.current_window.end.clone());
    }
    let reference = &mut report.windows.reference;
    if let (None, None, Some(window)) = (&reference.start, &reference.end, &manifest.reference_window) {
        reference.start = Some(window.start.clone());
        reference.end = Some(window.end.clone());
    }
    report
}

/// Single process over a manifest's files (a small window, or no Batch array).
pub async fn run_manifest(
    base: &RunOptions,
    manifest: &Manifest,
    s3: Option<aws_sdk_s3::Client>,
) -> Result<DriftReport, DriftJobError> {
    let options = manifest_options(base, manifest)?;
    options.validate()?;
    let reference = manifest_files(&manifest.reference);
    let current = manifest_files(&manifest.current);
    let ctx = options.read_context(s3);
    let partial = scan(ScanRequest::whole_run(&ctx, &options, &reference, &current)).await?;
    ctx.progress.finish();
    finish(&options, partial).map(|report| with_manifest_windows(report, manifest))
}

/// A file's position in the manifest (reference files first), for ordering merged lists.
pub fn manifest_order(manifest: &Manifest) -> impl Fn(&str) -> usize + use<> {
    let mut index = std::collections::HashMap::new();
    for (i, f) in manifest.reference.iter().chain(&manifest.current).enumerate() {
        index.entry(f.uri.clone()).or_insert(i);
        index.entry(Location::Local(PathBuf::from(&f.uri)).to_string()).or_insert(i);
    }
    move |location: &str| index.get(location).copied().unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests;
