//! The drift batch job: Parquet prediction logs of a reference window and a current window →
//! per-column drift statistics (`drift.json`) and a self-contained HTML report (`report.html`).
//!
//! * **Inputs**: paths, directories (every `*.parquet` in them) or globs with `*` in the file
//!   name ([`expand_inputs`]). A file that cannot be read (missing, not Parquet, corrupt pages,
//!   missing or mistyped columns) is skipped with its reason in `skipped_files`; the run goes on.
//!   A window without readable rows is [`DriftJobError::EmptyWindow`].
//! * **Columns**: taken from the schema of the first readable reference file ([`plan_columns`]).
//!   Integers and floats are numeric; strings, dictionaries of strings and booleans are
//!   categorical. The label column is never analysed; the prediction column is always analysed
//!   (role `prediction`). Timestamps, dates, times and columns named like ids (`id`, `*_id`,
//!   `*Id`) are skipped, as are other types; every skipped column is listed with its reason.
//! * **Reading**: one streaming pass over every file decodes only the analysed columns, counts
//!   categories and data quality and validates the file; then, for each numeric column in turn,
//!   one more pass with a projection of that column only collects its finite values for the exact
//!   statistics. Memory is bounded by the largest numeric column.
//! * **Decision** ([`deltaone::drift::decide_columns`], `docs/drift-decisions.md`): by default
//!   an effect size decides — normalised Wasserstein for numeric columns, Jensen–Shannon distance
//!   for categorical ones, drift at 0.1 — gated by the KS or chi-square p-value, adjusted across
//!   the run's columns (Benjamini–Hochberg), below 0.05; a significant change below the threshold
//!   reads `negligible`. `--policy p_value` decides by the tests' p-values as the job did before.
//!   Every column reports its raw and adjusted p-value. The dataset has drifted when at least the
//!   share `--drift-share` (default 0.5) of the analysed columns drifted. Nulls, NaN and
//!   infinities are counted in `quality` and kept out of the tests.
//!
//! The crate root only declares the modules and re-exports the surface other crates use: the
//! engine lives in [`options`] (what a run compares), [`mod@plan`] (which columns), `columns` (each
//! column's statistics and the decisions), [`mod@run`] (the single-process run and its files),
//! [`shard`] (the sharded run), [`summary`] (the terminal text), [`report`] (the HTML) and
//! [`baseline`] (a reference window's Model Monitor files and reference profile).

pub mod baseline;
pub mod cli;
mod columns;
pub mod config;
pub mod deliver;
pub mod drift_report;
pub mod env;
pub mod error;
pub mod filter;
mod histogram;
pub mod metrics;
pub mod options;
pub mod plan;
pub mod progress;
mod quarantine;
mod read;
pub mod report;
pub mod results;
mod retry;
pub mod run;
pub mod samples;
pub mod shard;
pub mod source;
pub mod summary;

pub use config::{BinningChoice, ColumnConfig, JobConfig, Select};
pub use drift_report::{
    ColumnHistory, ColumnResult, DatasetSummary, DriftReport, Histogram, HistoryPoint, PerformancePair, Quality,
    QualityPair, SkippedFile, Statistics, Window, WindowPerformance, Windows,
};
pub use error::DriftJobError;
pub use filter::{FilterColumnError, RowSpec, TimeRange, TimeRangeError};
pub use options::{DEFAULT_EXACT_MAX_ROWS, DEFAULT_READ_CONCURRENCY, RunOptions, default_run_id};
pub use plan::{ColumnKind, ColumnPlan, Role, SkippedColumn, plan_columns};
pub use run::{REPORT_FILE, RESULT_FILE, run, run_with, write_outputs};
pub use source::{InputFile, Location, expand_inputs};
pub use summary::summary_text;

#[cfg(test)]
mod tests;
