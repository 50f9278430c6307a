//! The run's CloudWatch metrics as Embedded Metric Format lines (`deltaone_app::emf`), written to
//! standard error: stdout stays the summary or the `--json` result a caller may parse, and on AWS
//! Batch both streams reach CloudWatch Logs, which extracts the metrics. One line per column
//! (dimensions Model and Column, rolled up per Model) and one for the run (dimension Model).

use std::time::Duration;

use deltaone_app::emf::{NAMESPACE, Record, Unit};

use crate::DriftReport;

/// Every record of a run, filed under `model` (the model its results are filed under in the drift
/// table): the columns' first, then the run's.
pub fn records(report: &DriftReport, model: &str, elapsed: Duration) -> Vec<Record> {
    let mut records: Vec<Record> = report
        .columns
        .iter()
        .filter_map(|c| {
            let score = c.score.filter(|s| s.is_finite())?;
            Some(
                Record::new(NAMESPACE)
                    .dimension("Model", model)
                    .dimension("Column", &c.column)
                    .rollup(&["Model"])
                    .property("RunId", report.run_id.as_str())
                    .property("Method", crate::config::short_name(c.method))
                    .property("Verdict", c.verdict.map(|v| v.as_str()).unwrap_or("none"))
                    .metric("DriftScore", score, Unit::None)
                    .metric("Drifted", if c.drifted { 1.0 } else { 0.0 }, Unit::Count),
            )
        })
        .collect();
    let rows = report.windows.reference.rows + report.windows.current.rows;
    records.push(
        Record::new(NAMESPACE)
            .dimension("Model", model)
            .property("RunId", report.run_id.as_str())
            .property("DatasetDrifted", report.dataset.drifted)
            .metric("DatasetDriftShare", report.dataset.drifted_share, Unit::None)
            .metric("DriftedColumns", report.dataset.drifted_columns as f64, Unit::Count)
            .metric("RowsRead", rows as f64, Unit::Count)
            .metric("BytesRead", report.bytes_read as f64, Unit::None)
            .metric("SkippedFiles", report.skipped_files.len() as f64, Unit::Count)
            .metric("RunDuration", elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds),
    );
    records
}

/// Whether to write them: `DELTAONE_DRIFT_EMF` says (`on`/`off`, also `1`/`0`, `true`/`false`);
/// unset, only under AWS Batch (`AWS_BATCH_JOB_ID`), so a run in a terminal stays quiet.
pub fn wanted(var: impl Fn(&str) -> Option<String>) -> Result<bool, crate::DriftJobError> {
    match var(crate::env::DRIFT_EMF).as_deref().map(str::trim) {
        None | Some("") => Ok(var(crate::env::AWS_BATCH_JOB_ID).is_some_and(|id| !id.is_empty())),
        Some("on" | "1" | "true") => Ok(true),
        Some("off" | "0" | "false") => Ok(false),
        Some(other) => {
            Err(crate::DriftJobError::InvalidOption(format!("{}={other:?}: expected on or off", crate::env::DRIFT_EMF)))
        }
    }
}

/// Writes the run's records to standard error, one line each.
pub fn emit(report: &DriftReport, model: &str, elapsed: Duration) {
    use std::io::Write as _;
    let now = deltaone_app::emf::now_ms();
    let mut err = std::io::stderr().lock();
    for record in records(report, model, elapsed) {
        let _ = writeln!(err, "{}", record.line(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn metrics_are_on_under_batch_or_when_asked_and_a_bad_value_is_named() {
        assert!(!wanted(vars(&[])).unwrap());
        assert!(wanted(vars(&[("AWS_BATCH_JOB_ID", "j-1")])).unwrap());
        assert!(!wanted(vars(&[("AWS_BATCH_JOB_ID", "j-1"), ("DELTAONE_DRIFT_EMF", "off")])).unwrap());
        assert!(wanted(vars(&[("DELTAONE_DRIFT_EMF", "on")])).unwrap());
        let e = wanted(vars(&[("DELTAONE_DRIFT_EMF", "sometimes")])).unwrap_err();
        assert_eq!(e.to_string(), "invalid option: DELTAONE_DRIFT_EMF=\"sometimes\": expected on or off");
    }

    #[test]
    fn a_sample_runs_records_are_valid_emf_per_column_and_for_the_run() {
        let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/drift");
        let options = crate::RunOptions::new(
            vec![format!("{samples}/reference.parquet")],
            vec![format!("{samples}/current.parquet")],
        );
        let report = crate::run(&options).unwrap();
        let records = records(&report, "churn", Duration::from_millis(250));
        let scored = report.columns.iter().filter(|c| c.score.is_some_and(f64::is_finite)).count();
        assert_eq!(records.len(), scored + 1, "one line per scored column and one for the run");
        for record in &records {
            let line = record.line(1_767_484_800_000);
            assert_eq!(deltaone_app::emf::validate(&line), Ok(()), "{line}");
        }
        let run: serde_json::Value = serde_json::from_str(&records.last().unwrap().line(0)).unwrap();
        assert_eq!(run["Model"], "churn");
        assert_eq!(run["DriftedColumns"].as_f64(), Some(report.dataset.drifted_columns as f64));
        assert_eq!(
            run["RowsRead"].as_f64(),
            Some((report.windows.reference.rows + report.windows.current.rows) as f64)
        );
        assert_eq!(run["RunDuration"].as_f64(), Some(250.0));
        let first: serde_json::Value = serde_json::from_str(&records[0].line(0)).unwrap();
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Model", "Column"], ["Model"]])
        );
        assert_eq!(first["Column"], report.columns[0].column.as_str());
    }
}
