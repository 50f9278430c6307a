//! Prediction logs as the drift job reads them: a Parquet file opened from disk, planned, scanned
//! and compared (`deltaone_drift::run_with`), the same file as both windows.

use std::path::PathBuf;

use deltaone_drift::{RunOptions, report, run_with};

use crate::support::{block_on, rejected};

thread_local! {
    /// A directory per thread for the file under test, kept for the whole campaign.
    static DIR: tempfile::TempDir = tempfile::tempdir().expect("a temporary directory");
}

/// The bytes as a prediction log, compared with itself:
///
/// * the run ends with a report or an error that says what was wrong;
/// * a report serialises (`drift.json`) and renders (`report.html`);
/// * the same rows in both windows drift in no column.
pub fn drift_parquet(data: &[u8]) {
    let path: PathBuf = DIR.with(|dir| dir.path().join("log.parquet"));
    std::fs::write(&path, data).expect("writing the file under test");
    let file = path.display().to_string();
    let mut options = RunOptions::new(vec![file.clone()], vec![file]);
    options.run_id = "fuzz".into();
    options.read_concurrency = 1;
    match block_on(run_with(&options, None)) {
        Ok(report) => {
            serde_json::to_string(&report).expect("a report serialises");
            let _ = report::html(&report);
            assert!(!report.dataset.drifted, "a window drifted from itself: {:?}", report.dataset);
        }
        Err(e) => rejected("drift_parquet", &e, &[]),
    }
}
