//! Per-column results: the drift statistics of each analysed column, and the decisions made over
//! all of a run's columns together.

use std::collections::BTreeMap;

use deltaone::drift::partial::{NumericPartial, NumericStatistics, NumericValues, SketchDrift, numeric_statistics};
use deltaone::drift::{Binning, CategoricalDrift, DecisionPolicy, DecisionSettings, DriftMethod};

use crate::drift_report::{ColumnResult, Histogram, QualityPair, Statistics, finite};
use crate::error::DriftJobError;
use crate::histogram::{categorical_histogram, format_number, numeric_histogram};
use crate::plan::{ColumnKind, ColumnPlan, method_of};

fn failed(column: &ColumnPlan, method: DriftMethod, quality: QualityPair, error: String) -> ColumnResult {
    ColumnResult {
        column: column.name.clone(),
        role: column.role,
        kind: column.kind,
        method,
        score: None,
        p_value: None,
        p_value_adjusted: None,
        test: test_of(column.kind),
        threshold: column.threshold.unwrap_or_else(|| method.default_threshold()),
        drifted: false,
        verdict: None,
        severity: None,
        reason: String::new(),
        new_category_share: None,
        error: Some(error),
        quality,
        statistics: None,
        histogram: None,
    }
}

/// The significance test of a kind of column.
fn test_of(kind: ColumnKind) -> DriftMethod {
    match kind {
        ColumnKind::Numeric => DriftMethod::KolmogorovSmirnov,
        ColumnKind::Categorical => DriftMethod::ChiSquare,
    }
}

/// A computed column: its score, test p-value and threshold. The verdict needs every column's
/// p-value (the correction), so [`decide`] makes it once all columns are computed.
fn judged(
    column: &ColumnPlan,
    quality: QualityPair,
    score: deltaone::drift::DriftScore,
    p_value: f64,
    new_category_share: Option<f64>,
    statistics: Statistics,
    histogram: Histogram,
) -> ColumnResult {
    ColumnResult {
        column: column.name.clone(),
        role: column.role,
        kind: column.kind,
        method: score.method,
        score: finite(score.value),
        p_value: finite(p_value),
        p_value_adjusted: None,
        test: test_of(column.kind),
        threshold: column.threshold.unwrap_or_else(|| score.method.default_threshold()),
        drifted: false,
        verdict: None,
        severity: None,
        reason: String::new(),
        new_category_share,
        error: None,
        quality,
        statistics: Some(statistics),
        histogram: Some(histogram),
    }
}

/// Decides every computed column of a run together (the correction needs all their p-values);
/// columns whose statistics failed keep no verdict.
pub(crate) fn decide(columns: &mut [ColumnResult], settings: &DecisionSettings) -> Result<(), DriftJobError> {
    let computed: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].error.is_none()).collect();
    let evidence: Vec<deltaone::drift::ColumnEvidence> = computed
        .iter()
        .map(|&i| {
            let c = &columns[i];
            deltaone::drift::ColumnEvidence {
                column: c.column.clone(),
                method: c.method,
                threshold: c.threshold,
                score: c.score.unwrap_or(f64::NAN),
                // A p-value computed a few ulps outside [0, 1] is the bound it meant.
                p_value: c.p_value.map_or(f64::NAN, |p| p.clamp(0.0, 1.0)),
                new_category_share: c.new_category_share.unwrap_or(0.0),
            }
        })
        .collect();
    let decisions = deltaone::drift::decide_columns(&evidence, settings)
        .map_err(|e| DriftJobError::InvalidOption(format!("deciding the columns: {e}")))?;
    for (&i, decision) in computed.iter().zip(decisions) {
        let c = &mut columns[i];
        c.verdict = Some(decision.verdict);
        c.drifted = decision.drifted;
        c.p_value_adjusted = finite(decision.p_value_adjusted);
        c.severity = decision.severity;
        c.reason = decision.reason;
    }
    Ok(())
}

pub(crate) fn numeric_result(
    column: &ColumnPlan,
    quality: QualityPair,
    reference: &NumericPartial,
    current: &NumericPartial,
    binning: Binning,
    policy: DecisionPolicy,
) -> ColumnResult {
    let method = method_of(column, policy);
    let statistics = match numeric_statistics(reference, current, binning) {
        Ok(s) => s,
        Err(e) => return failed(column, method, quality, e.to_string()),
    };
    let drift = match statistics {
        NumericStatistics::Exact(drift) => drift,
        NumericStatistics::Sketch(sketch) => return sketch_result(column, quality, method, &sketch),
    };
    let Some(score) = drift.score(method) else {
        return failed(column, method, quality, format!("{method:?} does not apply to a numeric column"));
    };
    let statistics = Statistics::Numeric {
        ks_statistic: finite(drift.ks.statistic),
        ks_p_value: finite(drift.ks.p_value),
        wasserstein: finite(drift.wasserstein.raw),
        wasserstein_normalised: finite(drift.wasserstein.normalised),
        psi: finite(drift.psi),
        jensen_shannon: finite(drift.jensen_shannon),
        bins: drift.bins.layout.bin_count(),
        reference_mean: finite(drift.reference.mean),
        current_mean: finite(drift.current.mean),
        reference_std: finite(drift.reference.std),
        current_std: finite(drift.current.std),
    };
    fn exact(p: &NumericPartial) -> &[f64] {
        match &p.values {
            NumericValues::Exact { sorted } => sorted,
            NumericValues::Sketch { .. } => &[],
        }
    }
    let histogram = numeric_histogram(exact(reference), exact(current));
    judged(column, quality, score, drift.ks.p_value, None, statistics, histogram)
}

/// A numeric column whose values were sketched: the statistics with their error bounds, and a
/// histogram over the PSI bins (reference quantiles).
fn sketch_result(column: &ColumnPlan, quality: QualityPair, method: DriftMethod, drift: &SketchDrift) -> ColumnResult {
    let value = match method {
        DriftMethod::KolmogorovSmirnov => drift.ks.p_value,
        DriftMethod::Wasserstein => drift.wasserstein.normalised,
        DriftMethod::JensenShannon => drift.psi.jensen_shannon,
        DriftMethod::Psi => drift.psi.psi,
        DriftMethod::ChiSquare => {
            return failed(column, method, quality, format!("{method:?} does not apply to a numeric column"));
        }
    };
    let statistics = Statistics::NumericSketch {
        ks_statistic: finite(drift.ks.statistic),
        ks_statistic_error_bound: finite(drift.ks.error_bound),
        ks_p_value: finite(drift.ks.p_value),
        ks_p_value_lower: finite(drift.ks.p_value_lower),
        wasserstein: finite(drift.wasserstein.raw),
        wasserstein_error_bound: finite(drift.wasserstein.error_bound),
        wasserstein_normalised: finite(drift.wasserstein.normalised),
        psi: finite(drift.psi.psi),
        jensen_shannon: finite(drift.psi.jensen_shannon),
        psi_edge_share_error: finite(drift.psi.edge_share_error),
        bins: drift.psi.edges.len() + 1,
        reference_mean: finite(drift.reference.mean),
        current_mean: finite(drift.current.mean),
        reference_std: finite(drift.reference.std),
        current_std: finite(drift.current.std),
    };
    let edges = &drift.psi.edges;
    let labels = (0..=edges.len())
        .map(|i| {
            let lo = if i == 0 { "−∞".to_owned() } else { format_number(edges[i - 1]) };
            let hi = if i == edges.len() { "+∞".to_owned() } else { format_number(edges[i]) };
            format!("{lo} – {hi}")
        })
        .collect();
    let histogram = Histogram {
        labels,
        reference: drift.psi.shares.reference().to_vec(),
        current: drift.psi.shares.current().to_vec(),
    };
    let score = deltaone::drift::DriftScore { method, value };
    judged(column, quality, score, drift.ks.p_value, None, statistics, histogram)
}

pub(crate) fn categorical_result(
    column: &ColumnPlan,
    quality: QualityPair,
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
    policy: DecisionPolicy,
) -> ColumnResult {
    let method = method_of(column, policy);
    let drift = match CategoricalDrift::compute(reference, current) {
        Ok(d) => d,
        Err(e) => return failed(column, method, quality, e.to_string()),
    };
    let Some(score) = drift.score(method) else {
        return failed(column, method, quality, format!("{method:?} does not apply to a categorical column"));
    };
    let statistics = Statistics::Categorical {
        chi_square: finite(drift.chi_square.statistic),
        chi_square_p_value: finite(drift.chi_square.p_value),
        dof: drift.chi_square.dof,
        psi: finite(drift.psi),
        jensen_shannon: finite(drift.jensen_shannon),
        categories: drift.categories.len(),
        new_categories: drift.new_categories.clone(),
        vanished_categories: drift.vanished_categories.clone(),
    };
    let histogram = categorical_histogram(reference, current);
    let new_share = Some(drift.new_category_share());
    judged(column, quality, score, drift.chi_square.p_value, new_share, statistics, histogram)
}
