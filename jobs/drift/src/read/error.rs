//! Why a file's data could not be read: the reasons a file is left out of its window (written to
//! `drift.json` as its skipped reason, so the messages are part of the report), and why a column's
//! values could not be taken from an Arrow array.

use arrow_schema::{ArrowError, DataType};
use deltaone::drift::sketch::SketchError;
use parquet::errors::ParquetError;

use crate::source::OpenError;

/// Why an Arrow array's values cannot be taken as the column kind asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ValueError {
    #[error("type {0} is not numeric")]
    NotNumeric(DataType),
    #[error("type {0} is not categorical")]
    NotCategorical(DataType),
    #[error("dictionary keys of type {0}")]
    DictionaryKeys(DataType),
}

/// A record batch that did not decode: the synchronous reader of local files reports Arrow's
/// error, the asynchronous one of S3 objects Parquet's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
}

/// Why a file's data could not be read once its footer was: the file is left out of its window.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("cannot open: {0}")]
    Open(#[source] std::io::Error),
    #[error("cannot stat: {0}")]
    Stat(#[source] std::io::Error),
    /// The object (or file) could not be opened for ranged reads.
    #[error("{0}")]
    Object(#[from] OpenError),
    /// The column to read is not in the file's schema.
    #[error("{0}")]
    Projection(#[source] ArrowError),
    /// Parquet's reader could not be built (projection, row groups, row filter).
    #[error("{0}")]
    Reader(#[source] ParquetError),
    #[error("corrupt data after {rows} rows: {source}")]
    CorruptAfter { rows: u64, source: DecodeError },
    #[error("corrupt data in column {column:?}: {source}")]
    CorruptColumn { column: String, source: DecodeError },
    /// A categorical column's values.
    #[error("column {column:?}: {source}")]
    Column { column: String, source: ValueError },
    /// A numeric column's values (its pass reads that column only: the file's skipped reason
    /// has always named the type alone).
    #[error("{0}")]
    Values(#[source] ValueError),
    /// The sketch asked for cannot be built.
    #[error("{0}")]
    Sketch(#[source] SketchError),
}
