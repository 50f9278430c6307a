//! The report's histograms of a column's two windows: equal-width bins for numeric columns, the
//! most common categories for categorical ones.

use std::collections::BTreeMap;

use crate::drift_report::Histogram;

/// Bars per numeric histogram in the report.
pub(crate) const HISTOGRAM_BINS: usize = 20;
/// Categories drawn per categorical histogram; the rest are summed as `(other)`.
const HISTOGRAM_CATEGORIES: usize = 15;

/// Equal-width bins over the pooled range of both samples (finite values sorted ascending, both
/// non-empty). Counted by binary search on the sorted values: a value's bin index does not decrease
/// with the value, so each bin is one run.
pub(crate) fn numeric_histogram(reference: &[f64], current: &[f64]) -> Histogram {
    let ends = |v: &[f64]| (v.first().copied(), v.last().copied());
    let (lo, hi) = match (ends(reference), ends(current)) {
        ((Some(a), Some(b)), (Some(c), Some(d))) => (a.min(c), b.max(d)),
        ((Some(a), Some(b)), _) | (_, (Some(a), Some(b))) => (a, b),
        _ => (f64::INFINITY, f64::NEG_INFINITY),
    };
    let bins = if hi > lo { HISTOGRAM_BINS } else { 1 };
    let width = (hi - lo) / bins as f64;
    let index = |x: f64| if width > 0.0 { (((x - lo) / width) as usize).min(bins - 1) } else { 0 };
    let shares = |values: &[f64]| {
        let mut shares = Vec::with_capacity(bins);
        let mut start = 0;
        for bin in 0..bins {
            let end = start + values[start..].partition_point(|&x| index(x) <= bin);
            shares.push((end - start) as f64 / values.len().max(1) as f64);
            start = end;
        }
        shares
    };
    let labels = (0..bins)
        .map(|i| {
            let a = lo + width * i as f64;
            let b = if i + 1 == bins { hi } else { lo + width * (i + 1) as f64 };
            format!("{} – {}", format_number(a), format_number(b))
        })
        .collect();
    Histogram { labels, reference: shares(reference), current: shares(current) }
}

/// The most common categories (by the larger of their two shares), the rest as `(other)`.
pub(crate) fn categorical_histogram(reference: &BTreeMap<String, u64>, current: &BTreeMap<String, u64>) -> Histogram {
    let total = |counts: &BTreeMap<String, u64>| counts.values().sum::<u64>().max(1) as f64;
    let (rt, ct) = (total(reference), total(current));
    let share = |counts: &BTreeMap<String, u64>, t: f64, k: &str| counts.get(k).copied().unwrap_or(0) as f64 / t;
    let mut keys: Vec<&String> = reference.keys().chain(current.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.sort_by(|a, b| {
        let m = |k: &str| share(reference, rt, k).max(share(current, ct, k));
        m(b).total_cmp(&m(a)).then_with(|| a.cmp(b))
    });
    let mut histogram = Histogram { labels: Vec::new(), reference: Vec::new(), current: Vec::new() };
    for k in keys.iter().take(HISTOGRAM_CATEGORIES) {
        histogram.labels.push((*k).clone());
        histogram.reference.push(share(reference, rt, k));
        histogram.current.push(share(current, ct, k));
    }
    if keys.len() > HISTOGRAM_CATEGORIES {
        let rest = &keys[HISTOGRAM_CATEGORIES..];
        histogram.labels.push("(other)".to_owned());
        histogram.reference.push(rest.iter().map(|k| share(reference, rt, k)).sum());
        histogram.current.push(rest.iter().map(|k| share(current, ct, k)).sum());
    }
    histogram
}

pub(crate) fn format_number(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) { format!("{x:.3e}") } else { format!("{x:.3}") }
}
