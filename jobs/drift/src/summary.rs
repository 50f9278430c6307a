//! The run's result as a few lines for a terminal.

use crate::config;
use crate::drift_report::DriftReport;
use crate::report;

/// A few lines for a terminal.
pub fn summary_text(report: &DriftReport) -> String {
    let mut out = format!(
        "drift run {}: reference {} rows in {} file(s), current {} rows in {} file(s)\n",
        report.run_id,
        report.windows.reference.rows,
        report.windows.reference.files.len(),
        report.windows.current.rows,
        report.windows.current.files.len(),
    );
    out.push_str(&format!(
        "  {:<24} {:<12} {:<20} {:<11} {:<11} {:<16} why\n",
        "column", "kind", "decided by", "p", "p adjusted", "verdict"
    ));
    let p = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |p| format!("{p:.2e}"));
    for c in report::by_severity(&report.columns) {
        let (verdict, why) = match (&c.error, c.verdict) {
            (Some(e), _) => ("not computed".to_owned(), e.clone()),
            (None, Some(v)) => (report::verdict_label(v, c.severity), c.reason.clone()),
            (None, None) => ("-".to_owned(), String::new()),
        };
        let score = c.score.map_or_else(|| "-".to_owned(), |s| format!("{s:.3e}"));
        let method = format!("{}={score}", config::short_name(c.method));
        out.push_str(&format!(
            "  {:<24} {:<12} {:<20} {:<11} {:<11} {:<16} {why}\n",
            c.column,
            c.kind.as_str(),
            method,
            p(c.p_value),
            p(c.p_value_adjusted),
            verdict
        ));
    }
    for f in &report.skipped_files {
        out.push_str(&format!("  skipped {} file {}: {}\n", f.side, f.path, f.reason));
        if let Some(to) = &f.quarantined_to {
            out.push_str(&format!("    quarantined to {to}\n"));
        }
    }
    if let Some(p) = &report.performance {
        for (side, w) in [("reference", &p.reference), ("current", &p.current)] {
            match (&w.metrics, &w.error) {
                (Some(m), _) => out.push_str(&format!(
                    "  performance {side}: accuracy {:.4}, F1 {:.4}, AUROC {} over {} rows\n",
                    m.accuracy,
                    m.f1,
                    match (m.auroc, m.auroc_error_bound) {
                        (Some(a), Some(bound)) => format!("{a:.4} (± {bound:.1e}, sketched)"),
                        (Some(a), None) => format!("{a:.4}"),
                        (None, _) => "-".to_owned(),
                    },
                    m.rows
                )),
                (None, Some(e)) => out.push_str(&format!("  performance {side}: not computed: {e}\n")),
                (None, None) => {}
            }
        }
    }
    out.push_str(&format!(
        "dataset: {} of {} columns drifted ({:.0}%, threshold {:.0}%){} → {}  [policy {}, {}]\n",
        report.dataset.drifted_columns,
        report.dataset.columns,
        report.dataset.drifted_share * 100.0,
        report.dataset.threshold * 100.0,
        match report.dataset.negligible_columns {
            0 => String::new(),
            n => format!(", {n} significant but negligible"),
        },
        if report.dataset.drifted { "DRIFTED" } else { "not drifted" },
        report::policy_label(report.dataset.policy),
        report::correction_label(report.dataset.correction),
    ));
    if let Some(alert) = &report.alert {
        out.push_str(&format!("alert: {} — {}\n", alert.action.as_str(), alert.reason));
        for c in &alert.columns {
            out.push_str(&format!("  {} {}: {}\n", c.column, c.action.as_str(), c.reason));
        }
    }
    out
}
