//! Why a drift run fails.

use deltaone::drift::Side;

/// What an empty window's inputs were: nothing found, or files none of whose rows could be used.
pub(crate) fn empty_window_detail(files: usize, skipped: usize) -> String {
    match (files, skipped) {
        (0, _) => "no input file found".to_owned(),
        (files, 0) => format!("{files} input file(s), no row of them in the window"),
        (files, skipped) if skipped == files => {
            format!("{files} input file(s), all skipped as unreadable: the warnings above give each reason")
        }
        (files, skipped) => format!(
            "{files} input file(s): {skipped} skipped as unreadable (the warnings above give each reason), \
             no row of the others in the window"
        ),
    }
}

/// The files a window skipped, named with their reasons (the first three), for an empty window's
/// message; empty when none was skipped.
pub(crate) fn unreadable_detail(unreadable: &[(String, String)]) -> String {
    if unreadable.is_empty() {
        return String::new();
    }
    let named: Vec<String> = unreadable.iter().take(3).map(|(path, reason)| format!("{path}: {reason}")).collect();
    let more = unreadable.len().saturating_sub(3);
    let more = if more > 0 { format!("; and {more} more") } else { String::new() };
    format!(" — {}{more}", named.join("; "))
}

/// Why the job failed.
#[derive(Debug, thiserror::Error)]
pub enum DriftJobError {
    #[error(
        "the {side} window has no readable rows ({}){}",
        empty_window_detail(*files, *skipped),
        unreadable_detail(unreadable)
    )]
    EmptyWindow {
        side: Side,
        files: usize,
        skipped: usize,
        /// The skipped files (path, reason), so the error names them.
        unreadable: Vec<(String, String)>,
    },
    #[error("input {pattern:?}: {reason}")]
    BadInput { pattern: String, reason: String },
    #[error("the reference schema has no column to analyse (skipped: {skipped})")]
    NoColumns { skipped: String },
    #[error("reading {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("configuration {path}: key `{key}`: {reason}")]
    Config { path: String, key: String, reason: String },
    #[error("{0}")]
    Aws(String),
    #[error("partial of shard {shard}: {reason}")]
    Partial { shard: String, reason: String },
}
