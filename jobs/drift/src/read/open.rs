//! Opening a window's files: reading each footer, checking it against the column plan and the
//! row filter, and keeping the row groups that may hold rows of the window.

use std::sync::Arc;

use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::filter::RowSpec;
use crate::plan::{ColumnKind, ColumnPlan};
use crate::progress::Progress;
use crate::source::{FileReader, InputFile, OpenError};

use super::performance::PerformancePlan;

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

pub(crate) enum FileOutcome {
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

/// Reads a file's footer and checks it against the plan: every planned column present with a
/// type of its kind, the row filter's columns usable, some row group in the window.
pub(crate) async fn open_file(
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
        return problem(reason.to_string());
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
