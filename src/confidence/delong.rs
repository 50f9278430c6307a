//! DeLong's method for the difference of two correlated AUROCs (DeLong, DeLong & Clarke-Pearson
//! 1988), computed with Sun & Xu's midrank algorithm (2014): O(n log n), the same figures as the
//! quadratic original.
//!
//! For each model, the structural components are, per positive row `i` and negative row `j`,
//! `V10ᵢ = (Tzᵢ − Txᵢ) / n` and `V01ⱼ = 1 − (Tzⱼ − Tyⱼ) / m`, where `T` are midranks among all rows
//! (`z`), the `m` positives (`x`) or the `n` negatives (`y`). The AUC is the mean of `V10`; the
//! covariance of the two AUCs is `S10 / m + S01 / n` with `S10`, `S01` the sample covariances
//! (denominator `m − 1`, `n − 1`) of the components across the two models. The difference's
//! variance is `var₁ + var₂ − 2 cov`, `z = Δ / √var`, the p-value two-sided normal, and the
//! interval `Δ ± z₍₁₋α/₂₎ √var` — as MLstatkit's `Delong_test` and the reference implementation it
//! follows (yandexdataschool/roc_comparison).

use super::special::{normal_quantile, normal_sf};
use super::{ConfidenceError, Interval, Level, Method};

/// Both AUROCs and the variance of their difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelongFigures {
    pub auc_candidate: f64,
    pub auc_baseline: f64,
    pub variance_candidate: f64,
    pub variance_baseline: f64,
    pub covariance: f64,
}

impl DelongFigures {
    pub fn delta(&self) -> f64 {
        self.auc_candidate - self.auc_baseline
    }

    /// Variance of `auc_candidate − auc_baseline` (never below 0; rounding can make it −0.0).
    pub fn delta_variance(&self) -> f64 {
        (self.variance_candidate + self.variance_baseline - 2.0 * self.covariance).max(0.0)
    }

    /// `z` of the difference; `None` when its variance is 0 (e.g. identical scores).
    pub fn z(&self) -> Option<f64> {
        let var = self.delta_variance();
        (var > 0.0).then(|| self.delta() / var.sqrt())
    }

    /// Two-sided p-value of "equal AUROCs" (1 when the variance is 0 and the AUCs are equal).
    pub fn p_value(&self) -> f64 {
        match self.z() {
            Some(z) => (2.0 * normal_sf(z.abs())).min(1.0),
            None if self.delta() == 0.0 => 1.0,
            None => 0.0,
        }
    }
}

/// Midranks (1-based, ties averaged) of `values`, in their original order.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start..end (0-based) are tied: each gets the mean of start+1 ..= end.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Structural components `(V10, V01)` of one model's scores.
fn components(positives: &[f64], negatives: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (m, n) = (positives.len(), negatives.len());
    let all: Vec<f64> = positives.iter().chain(negatives).copied().collect();
    let tz = midranks(&all);
    let tx = midranks(positives);
    let ty = midranks(negatives);
    let v10 = (0..m).map(|i| (tz[i] - tx[i]) / n as f64).collect();
    let v01 = (0..n).map(|j| 1.0 - (tz[m + j] - ty[j]) / m as f64).collect();
    (v10, v01)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample covariance (denominator `len − 1`) of two equally long series.
fn covariance(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / (a.len() - 1) as f64
}

/// DeLong's figures for two models' scores on the same labelled rows.
pub fn figures(labels: &[bool], candidate: &[f64], baseline: &[f64]) -> Result<DelongFigures, ConfidenceError> {
    if candidate.len() != labels.len() || baseline.len() != labels.len() {
        return Err(ConfidenceError::Pairing(super::PairingError::LengthMismatch {
            candidate: candidate.len(),
            baseline: baseline.len(),
        }));
    }
    for (which, scores) in [("candidate", candidate), ("baseline", baseline)] {
        if let Some(&bad) = scores.iter().find(|s| !s.is_finite()) {
            return Err(ConfidenceError::NonFinite { what: format!("a {which} score"), value: bad });
        }
    }
    let split = |scores: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let positives = scores.iter().zip(labels).filter(|(_, l)| **l).map(|(s, _)| *s).collect();
        let negatives = scores.iter().zip(labels).filter(|(_, l)| !**l).map(|(s, _)| *s).collect();
        (positives, negatives)
    };
    let (cp, cn) = split(candidate);
    let (bp, bn) = split(baseline);
    // Covariances need two rows of each class.
    if cp.len() < 2 || cn.len() < 2 {
        return Err(ConfidenceError::OneClass(format!(
            "DeLong needs at least 2 positive and 2 negative rows, the paired set has {} and {}",
            cp.len(),
            cn.len()
        )));
    }
    let (m, n) = (cp.len() as f64, cn.len() as f64);
    let (c10, c01) = components(&cp, &cn);
    let (b10, b01) = components(&bp, &bn);
    let cov = |a10: &[f64], a01: &[f64], z10: &[f64], z01: &[f64]| covariance(a10, z10) / m + covariance(a01, z01) / n;
    Ok(DelongFigures {
        auc_candidate: mean(&c10),
        auc_baseline: mean(&b10),
        variance_candidate: cov(&c10, &c01, &c10, &c01),
        variance_baseline: cov(&b10, &b01, &b10, &b01),
        covariance: cov(&c10, &c01, &b10, &b01),
    })
}

/// The interval of `AUROC(candidate) − AUROC(baseline)`.
pub fn interval(
    labels: &[bool],
    candidate: &[f64],
    baseline: &[f64],
    level: Level,
) -> Result<Interval, ConfidenceError> {
    let f = figures(labels, candidate, baseline)?;
    let half = normal_quantile(1.0 - level.tail()) * f.delta_variance().sqrt();
    Ok(Interval {
        method: Method::Delong,
        level: level.get(),
        rows: labels.len() as u64,
        estimate: f.delta(),
        lower: f.delta() - half,
        upper: f.delta() + half,
        p_value: Some(f.p_value()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AUROC by counting pairs, ties one half: the definition.
    fn auc_by_pairs(labels: &[bool], scores: &[f64]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            for (j, &lj) in labels.iter().enumerate() {
                if li && !lj {
                    pairs += 1.0;
                    wins += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        wins / pairs
    }

    #[test]
    fn midranks_average_ties() {
        assert_eq!(midranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn the_aucs_equal_the_pair_count_definition() {
        let labels = [true, false, true, true, false, false, true, false];
        let a = [0.9, 0.3, 0.6, 0.6, 0.6, 0.1, 0.8, 0.7];
        let b = [0.2, 0.4, 0.9, 0.5, 0.5, 0.3, 0.7, 0.6];
        let f = figures(&labels, &a, &b).unwrap();
        assert!((f.auc_candidate - auc_by_pairs(&labels, &a)).abs() < 1e-15);
        assert!((f.auc_baseline - auc_by_pairs(&labels, &b)).abs() < 1e-15);
    }

    #[test]
    fn identical_scores_have_zero_variance_and_p_one() {
        let labels = [true, false, true, false, true, false];
        let s = [0.9, 0.1, 0.4, 0.6, 0.7, 0.2];
        let i = interval(&labels, &s, &s, Level::default()).unwrap();
        assert_eq!((i.estimate, i.lower, i.upper, i.p_value), (0.0, 0.0, 0.0, Some(1.0)));
    }

    #[test]
    fn one_class_and_non_finite_scores_are_typed_errors() {
        let err = figures(&[true, true, false], &[0.1, 0.2, 0.3], &[0.1, 0.2, 0.3]).unwrap_err();
        assert!(matches!(err, ConfidenceError::OneClass(_)), "{err}");
        let err = figures(&[true, true, false, false], &[0.1, f64::NAN, 0.3, 0.4], &[0.1, 0.2, 0.3, 0.4]).unwrap_err();
        assert!(err.to_string().contains("candidate score"), "{err}");
    }
}
