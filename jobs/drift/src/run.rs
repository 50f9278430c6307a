//! The single-process run over local files and S3 objects, and its output files.

use std::path::{Path, PathBuf};

use crate::drift_report::DriftReport;
use crate::error::DriftJobError;
use crate::options::RunOptions;
use crate::{report, shard, source};

/// The JSON result file in the output directory.
pub const RESULT_FILE: &str = "drift.json";
/// The HTML report in the output directory.
pub const REPORT_FILE: &str = "report.html";

/// Runs the comparison over local files (reads, computes, quarantines if asked); writes no results.
/// Usable inside or outside an async runtime (it runs on a thread of its own).
pub fn run(options: &RunOptions) -> Result<DriftReport, DriftJobError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| DriftJobError::InvalidOption(format!("cannot start the async runtime: {e}")))?;
                runtime.block_on(run_with(options, None))
            })
            .join()
            .unwrap_or_else(|_| Err(DriftJobError::InvalidOption("the drift run panicked".to_owned())))
    })
}

/// Runs the comparison over local files and S3 objects (with `s3`); unreadable files are
/// quarantined and the run continues.
pub async fn run_with(options: &RunOptions, s3: Option<aws_sdk_s3::Client>) -> Result<DriftReport, DriftJobError> {
    options.validate()?;
    let exclude = options.quarantine_exclude();
    let reference_files = source::expand(&options.reference, s3.as_ref(), exclude.as_ref()).await?;
    let current_files = source::expand(&options.current, s3.as_ref(), exclude.as_ref()).await?;
    let ctx = options.read_context(s3);
    let partial = shard::scan(shard::ScanRequest::whole_run(&ctx, options, &reference_files, &current_files)).await?;
    let report = shard::finish(options, partial);
    ctx.progress.finish();
    report
}

/// Writes `drift.json` and `report.html` into `out` (created if missing); returns their paths.
pub fn write_outputs(report: &DriftReport, out: &Path) -> Result<(PathBuf, PathBuf), DriftJobError> {
    let write_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| DriftJobError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(write_err(out))?;
    let json_path = out.join(RESULT_FILE);
    let json = serde_json::to_string_pretty(report).expect("the report serialises");
    std::fs::write(&json_path, json + "\n").map_err(write_err(&json_path))?;
    let html_path = out.join(REPORT_FILE);
    std::fs::write(&html_path, report::html(report)).map_err(write_err(&html_path))?;
    Ok((json_path, html_path))
}
