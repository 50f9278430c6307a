//! The self-contained HTML report: inline CSS and SVG, no scripts, no external assets.

use std::fmt::Write;

use deltaone::drift::alerting::RunAlert;
use deltaone::drift::{ColumnVerdict, Correction, DecisionPolicy, DriftSeverity};

use crate::config::short_name;
use crate::drift_report::{ColumnResult, DriftReport, Histogram, Statistics};

/// A column's verdict as people read it: `DRIFT (high)`, `negligible`, …
pub fn verdict_label(verdict: ColumnVerdict, severity: Option<DriftSeverity>) -> String {
    match (verdict, severity) {
        (ColumnVerdict::Drift, Some(s)) => format!("DRIFT ({})", s.as_str()),
        (ColumnVerdict::Drift, None) => "DRIFT".to_owned(),
        (ColumnVerdict::Negligible, _) => "negligible".to_owned(),
        (ColumnVerdict::NotSignificant, _) => "not significant".to_owned(),
        (ColumnVerdict::NoDrift, _) => "ok".to_owned(),
    }
}

pub fn policy_label(policy: DecisionPolicy) -> &'static str {
    match policy {
        DecisionPolicy::EffectSize => "effect size",
        DecisionPolicy::PValue => "p-value",
    }
}

pub fn correction_label(correction: Correction) -> &'static str {
    match correction {
        Correction::BenjaminiHochberg => "Benjamini-Hochberg",
        Correction::Bonferroni => "Bonferroni",
        Correction::None => "no correction",
    }
}

/// How strongly a column's score speaks for drift, comparable across methods: a distance over
/// its threshold, or the threshold over a p-value.
fn strength(c: &ColumnResult) -> f64 {
    match c.score {
        None => f64::NEG_INFINITY,
        Some(s) if c.method.is_p_value() => c.threshold / s.max(f64::MIN_POSITIVE),
        Some(s) => s / c.threshold,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Columns most severe first: drifted before not drifted, then by how far the score is past
/// (or short of) its threshold — larger distances, smaller p-values — columns without
/// statistics last.
pub fn by_severity(columns: &[ColumnResult]) -> Vec<&ColumnResult> {
    let mut sorted: Vec<&ColumnResult> = columns.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |c: &ColumnResult| (c.score.is_none(), !c.drifted);
        key(a).cmp(&key(b)).then_with(|| strength(b).total_cmp(&strength(a)).then(a.column.cmp(&b.column)))
    });
    sorted
}

/// The serde name of a unit enum variant (`kolmogorov_smirnov`, `prediction`).
fn name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(
        || "–".to_owned(),
        |x| if x != 0.0 && x.abs() < 1e-3 { format!("{x:.2e}") } else { format!("{x:.4}") },
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}\
th{background:#f3f3f3}tr.drift td{background:#fde8e8}.ok{color:#1a7f37}.bad{color:#b42318;font-weight:bold}\
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}figure{margin:1.5em 0}";

/// The report as one HTML document: its sections in reading order.
pub fn html(report: &DriftReport) -> String {
    let mut h = String::new();
    let run = escape(&report.run_id);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Drift report {run}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>Drift report</h1>\n"
    );
    summary(&mut h, report);
    if let Some(alert) = &report.alert {
        alert_section(&mut h, alert);
    }
    windows(&mut h, report);
    columns_table(&mut h, report);
    h.push_str(&trend(report));
    quality_table(&mut h, report);
    performance(&mut h, report);
    skipped_files(&mut h, report);
    skipped_columns(&mut h, report);
    histograms(&mut h, report);
    h.push_str("</body>\n</html>\n");
    h
}

/// The headline: what was read, whether the dataset drifted, and how columns were decided.
fn summary(h: &mut String, report: &DriftReport) {
    let d = &report.dataset;
    let _ = writeln!(
        h,
        "<p>Run <code>{}</code>. Reference: {} rows in {} file(s); current: {} rows in {} file(s).</p>\n\
         <p>Dataset: <span class=\"{}\">{}</span> — {} of {} columns drifted ({:.1}%, threshold {:.1}%).</p>",
        escape(&report.run_id),
        report.windows.reference.rows,
        report.windows.reference.files.len(),
        report.windows.current.rows,
        report.windows.current.files.len(),
        if d.drifted { "bad" } else { "ok" },
        if d.drifted { "drifted" } else { "not drifted" },
        d.drifted_columns,
        d.columns,
        d.drifted_share * 100.0,
        d.threshold * 100.0,
    );
    let _ = writeln!(
        h,
        "<p>Decisions: {} policy, p-values {} (see <code>docs/drift-decisions.md</code>). {} column(s) changed \
         significantly but negligibly.</p>",
        policy_label(d.policy),
        match d.correction {
            deltaone::drift::Correction::None => "not adjusted".to_owned(),
            c => format!("adjusted by {}", correction_label(c)),
        },
        d.negligible_columns,
    );
}

/// What the alert rule decided for the run and its columns.
fn alert_section(h: &mut String, alert: &RunAlert) {
    let _ = writeln!(
        h,
        "<h2>Alert</h2>\n<p>Alert <strong>{}</strong>: {}.</p>",
        alert.action.as_str(),
        escape(&alert.reason)
    );
    if !alert.columns.is_empty() {
        h.push_str("<table>\n<tr><th>column</th><th>alert</th><th>severity</th><th>why</th></tr>\n");
        for c in &alert.columns {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.column),
                c.action.as_str(),
                c.severity.map_or("–", |s| s.as_str()),
                escape(&c.reason)
            );
        }
        h.push_str("</table>\n");
    }
}

/// Which rows were compared: the windows' time ranges and the model filter, when given.
fn windows(h: &mut String, report: &DriftReport) {
    for (side, w) in [("reference", &report.windows.reference), ("current", &report.windows.current)] {
        if let (Some(start), Some(end)) = (&w.start, &w.end) {
            let _ = writeln!(h, "<p>{side} window: {} to {} (end exclusive).</p>", escape(start), escape(end));
        }
    }
    if let Some(model) = &report.model_name {
        let version = report.model_version.as_deref().map(|v| format!(" version {}", escape(v))).unwrap_or_default();
        let _ = writeln!(h, "<p>Model: <code>{}</code>{version}.</p>", escape(model));
    }
}

/// Every analysed column's statistics and verdict, most severe first.
fn columns_table(h: &mut String, report: &DriftReport) {
    h.push_str(
        "<h2>Drift by column</h2>\n<table>\n<tr><th>column</th><th>role</th><th>kind</th><th>decided by</th>\
                <th>score</th><th>threshold</th><th>test</th><th>p-value</th><th>adjusted p</th><th>PSI</th>\
                <th>Jensen–Shannon</th><th>verdict</th><th>why</th><th>notes</th></tr>\n",
    );
    for c in by_severity(&report.columns) {
        let (psi, js, notes) = match &c.statistics {
            Some(Statistics::Numeric { psi, jensen_shannon, wasserstein_normalised, .. }) => {
                (*psi, *jensen_shannon, format!("Wasserstein (normalised) {}", opt(*wasserstein_normalised)))
            }
            Some(Statistics::NumericSketch {
                psi,
                jensen_shannon,
                wasserstein_normalised,
                ks_statistic,
                ks_statistic_error_bound,
                wasserstein_error_bound,
                ..
            }) => (
                *psi,
                *jensen_shannon,
                format!(
                    "sketched: KS D {} (+ at most {}), Wasserstein (normalised) {}, raw ± {}",
                    opt(*ks_statistic),
                    opt(*ks_statistic_error_bound),
                    opt(*wasserstein_normalised),
                    opt(*wasserstein_error_bound)
                ),
            ),
            Some(Statistics::Categorical { psi, jensen_shannon, new_categories, vanished_categories, .. }) => {
                let mut notes = Vec::new();
                if !new_categories.is_empty() {
                    notes.push(format!("new: {}", escape(&new_categories.join(", "))));
                }
                if !vanished_categories.is_empty() {
                    notes.push(format!("vanished: {}", escape(&vanished_categories.join(", "))));
                }
                (*psi, *jensen_shannon, notes.join("; "))
            }
            None => (None, None, escape(c.error.as_deref().unwrap_or(""))),
        };
        let verdict = match (c.score, c.verdict) {
            (Some(_), Some(v @ ColumnVerdict::Drift)) => {
                format!("<span class=\"bad\">{}</span>", verdict_label(v, c.severity))
            }
            (Some(_), Some(v)) => format!("<span class=\"ok\">{}</span>", verdict_label(v, c.severity)),
            _ => "<span>not computed</span>".to_owned(),
        };
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{verdict}</td><td>{}</td><td>{notes}</td></tr>",
            if c.drifted { " class=\"drift\"" } else { "" },
            escape(&c.column),
            name(&c.role),
            c.kind.as_str(),
            name(&c.method),
            opt(c.score),
            c.threshold,
            name(&c.test),
            opt(c.p_value),
            opt(c.p_value_adjusted),
            opt(psi),
            opt(js),
            escape(&c.reason),
        );
    }
    h.push_str("</table>\n");
}

/// Nulls, NaN, infinities and ranges per column and window.
fn quality_table(h: &mut String, report: &DriftReport) {
    h.push_str(
        "<h2>Data quality</h2>\n<table>\n<tr><th>column</th><th>side</th><th>rows</th><th>nulls</th>\
                <th>NaN</th><th>+∞</th><th>−∞</th><th>valid</th><th>min</th><th>max</th></tr>\n",
    );
    for c in &report.columns {
        for (side, q) in [("reference", &c.quality.reference), ("current", &c.quality.current)] {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{side}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.column),
                q.total,
                q.nulls,
                q.nan,
                q.positive_infinity,
                q.negative_infinity,
                q.valid,
                opt(q.min),
                opt(q.max)
            );
        }
    }
    h.push_str("</table>\n");
}

/// The classification metrics of both windows, when the data has labels.
fn performance(h: &mut String, report: &DriftReport) {
    if let Some(p) = &report.performance {
        let _ = writeln!(
            h,
            "<h2>Performance</h2>\n<p>Label <code>{}</code>, prediction <code>{}</code>.</p>\n<table>\n\
             <tr><th>window</th><th>rows</th><th>skipped rows</th><th>accuracy</th><th>precision</th><th>recall</th>\
             <th>F1</th><th>AUROC</th><th>log-loss</th><th>notes</th></tr>",
            escape(&p.label_column),
            escape(&p.prediction_column)
        );
        for (side, w) in [("reference", &p.reference), ("current", &p.current)] {
            let m = w.metrics.as_ref();
            let _ = writeln!(
                h,
                "<tr><td>{side}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                w.rows,
                w.skipped_rows,
                opt(m.map(|m| m.accuracy)),
                opt(m.map(|m| m.precision)),
                opt(m.map(|m| m.recall)),
                opt(m.map(|m| m.f1)),
                opt(m.and_then(|m| m.auroc)),
                opt(m.and_then(|m| m.log_loss)),
                escape(&match (w.error.as_deref(), m.and_then(|m| m.auroc_error_bound)) {
                    (Some(e), _) => e.to_owned(),
                    (None, Some(bound)) => format!("AUROC from sketched scores, within {bound:.1e}"),
                    (None, None) => String::new(),
                })
            );
        }
        h.push_str("</table>\n");
    }
}

/// Files that could not be read, and where they were quarantined.
fn skipped_files(h: &mut String, report: &DriftReport) {
    if !report.skipped_files.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Skipped files</h2>\n<p>{} file(s) quarantined.</p>\n<table>\n\
             <tr><th>side</th><th>path</th><th>reason</th><th>quarantined to</th></tr>",
            report.quarantined_files
        );
        for f in &report.skipped_files {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.side,
                escape(&f.path),
                escape(&f.reason),
                escape(f.quarantined_to.as_deref().unwrap_or("–"))
            );
        }
        h.push_str("</table>\n");
    }
}

/// Columns left out of the analysis, with the reason.
fn skipped_columns(h: &mut String, report: &DriftReport) {
    if !report.skipped_columns.is_empty() {
        h.push_str("<h2>Skipped columns</h2>\n<table>\n<tr><th>column</th><th>reason</th></tr>\n");
        for c in &report.skipped_columns {
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", escape(&c.column), escape(&c.reason));
        }
        h.push_str("</table>\n");
    }
}

/// One histogram per column, reference and current side by side.
fn histograms(h: &mut String, report: &DriftReport) {
    h.push_str(
        "<h2>Distributions</h2>\n<p class=\"legend\">share of rows per bin or category:\
         <span style=\"background:#4c78a8\"></span>reference<span style=\"background:#f58518\"></span>current</p>\n",
    );
    for c in by_severity(&report.columns) {
        if let Some(histogram) = &c.histogram {
            let _ = writeln!(
                h,
                "<figure>\n<figcaption><strong>{}</strong> ({})</figcaption>\n{}</figure>",
                escape(&c.column),
                c.kind.as_str(),
                svg(histogram)
            );
        }
    }
}

/// The trend section: per column, its score over the previous runs and this one, as a small SVG
/// line (p-values on a −log₁₀ scale, so that drift points up) and the last values.
fn trend(report: &DriftReport) -> String {
    let mut h = String::new();
    if report.history.is_empty() {
        return h;
    }
    h.push_str(
        "<h2>Trend</h2>\n<p>Each column's score in the model's previous runs (oldest first) and in this run \
         (last point); red points drifted. p-values are drawn as −log10(p), so higher means more drift.</p>\n\
         <table>\n<tr><th>column</th><th>method</th><th>runs</th><th>trend</th><th>previous</th><th>this run</th></tr>\n",
    );
    for history in &report.history {
        let Some(column) = report.columns.iter().find(|c| c.column == history.column) else { continue };
        let method = short_name(column.method);
        let p_value = column.method.is_p_value();
        let mut points: Vec<(Option<f64>, bool)> = history.runs.iter().map(|r| (r.score, r.drifted)).collect();
        points.push((column.score, column.drifted));
        let previous = history.runs.last().map(|r| opt(r.score)).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{method}</td><td>{}</td><td>{}</td><td>{previous}</td><td>{}</td></tr>",
            escape(&column.column),
            points.len(),
            sparkline(&points, p_value),
            opt(column.score),
        );
    }
    h.push_str("</table>\n");
    h
}

/// A 160×32 polyline of the scores, a circle per run.
fn sparkline(points: &[(Option<f64>, bool)], p_value: bool) -> String {
    let (width, height, pad) = (160.0, 32.0, 4.0);
    let y = |s: f64| if p_value { -(s.max(1e-300)).log10() } else { s };
    let values: Vec<Option<f64>> = points.iter().map(|(s, _)| s.filter(|s| s.is_finite()).map(y)).collect();
    let (lo, hi) = values.iter().flatten().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = if points.len() > 1 { (width - 2.0 * pad) / (points.len() - 1) as f64 } else { 0.0 };
    let at = |i: usize, v: f64| (pad + step * i as f64, height - pad - (v - lo) / span * (height - 2.0 * pad));
    let mut s =
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\">");
    let line: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| at(i, v)))
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = write!(s, "<polyline fill=\"none\" stroke=\"#888\" points=\"{}\"/>", line.join(" "));
    for (i, (v, (_, drifted))) in values.iter().zip(points).enumerate() {
        if let Some(v) = v {
            let (x, y) = at(i, *v);
            let colour = if *drifted { "#b42318" } else { "#1a7f37" };
            let _ = write!(s, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"{colour}\"/>");
        }
    }
    s.push_str("</svg>");
    s
}

/// Grouped bars, reference and current side by side per bin; each bar has a `<title>` tooltip.
fn svg(histogram: &Histogram) -> String {
    const HEIGHT: f64 = 160.0;
    const TOP: f64 = 10.0;
    const LEFT: f64 = 40.0;
    const LABELS: f64 = 60.0;
    let n = histogram.labels.len().max(1);
    let group = (640.0 / n as f64).clamp(14.0, 60.0);
    let bar = group * 0.4;
    let width = LEFT + group * n as f64 + 10.0;
    let max = histogram.reference.iter().chain(&histogram.current).copied().fold(0.0, f64::max).max(1e-12);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{:.0}\" role=\"img\">",
        TOP + HEIGHT + LABELS
    );
    let _ = writeln!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{width:.1}\" y2=\"{y:.1}\" stroke=\"#888\"/>\
         <text x=\"{x:.1}\" y=\"{t:.1}\" font-size=\"10\" text-anchor=\"end\">{max:.1}%</text>",
        y = TOP + HEIGHT,
        x = LEFT - 4.0,
        t = TOP + 8.0,
        max = max * 100.0
    );
    for (i, label) in histogram.labels.iter().enumerate() {
        let x0 = LEFT + group * i as f64 + group * 0.1;
        for (j, (share, colour, side)) in
            [(histogram.reference[i], "#4c78a8", "reference"), (histogram.current[i], "#f58518", "current")]
                .into_iter()
                .enumerate()
        {
            let hgt = share / max * HEIGHT;
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{hgt:.1}\" fill=\"{colour}\">\
                 <title>{} — {side}: {:.2}%</title></rect>",
                x0 + bar * j as f64,
                TOP + HEIGHT - hgt,
                escape(label),
                share * 100.0
            );
        }
        let lx = x0 + bar;
        let ly = TOP + HEIGHT + 10.0;
        let short: String = label.chars().take(14).collect();
        let _ = writeln!(
            s,
            "<text x=\"{lx:.1}\" y=\"{ly:.1}\" font-size=\"9\" text-anchor=\"end\" transform=\"rotate(-45 {lx:.1} {ly:.1})\">{}</text>",
            escape(&short)
        );
    }
    s.push_str("</svg>\n");
    s
}
