//! Drift of a categorical column, from the counts per category on each side.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::{DriftError, DriftMethod, DriftScore, Shares, Side};

/// Result of the chi-square test of independence on the 2×k table (reference and current
/// counts per category).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquareTest {
    /// Pearson's `Σ (observed − expected)² / expected` over the table's cells, with Yates'
    /// continuity correction when `dof == 1`.
    pub statistic: f64,
    /// Upper tail of the chi-square distribution with `dof` degrees of freedom at `statistic`;
    /// 1 when `dof == 0`. Values below the smallest `f64` come out as 0.
    pub p_value: f64,
    /// Degrees of freedom, `k − 1` for `k` categories seen on either side.
    pub dof: usize,
}

/// The chi-square test of independence on the 2×k contingency table whose rows are the
/// `reference` and `current` counts of the same k categories, as
/// `scipy.stats.chi2_contingency([reference, current])` with its default `correction=True`
/// (Yates' correction, applied only when `dof == 1`, moving each observed count towards its
/// expected count by at most ½).
///
/// Categories with a zero count on both sides are left out (SciPy would refuse the table). With
/// one category left, `dof = 0` and the result is `statistic = 0, p = 1`, as in SciPy.
///
/// The p-value comes from `statrs`' chi-square survival function (the regularized upper
/// incomplete gamma function); it agrees with SciPy's to about 1e-15 relative (see the fixture
/// tests), and underflows to 0 below about 1e-308 where SciPy returns denormals or 0.
pub fn chi_square_contingency(reference: &[u64], current: &[u64]) -> Result<ChiSquareTest, DriftError> {
    if reference.len() != current.len() {
        return Err(DriftError::LengthMismatch { reference: reference.len(), current: current.len() });
    }
    let (ref_total, cur_total) = (reference.iter().sum::<u64>(), current.iter().sum::<u64>());
    if ref_total == 0 {
        return Err(DriftError::EmptySample { side: Side::Reference });
    }
    if cur_total == 0 {
        return Err(DriftError::EmptySample { side: Side::Current });
    }
    let columns: Vec<(u64, u64)> =
        reference.iter().zip(current).map(|(&r, &c)| (r, c)).filter(|&(r, c)| r + c > 0).collect();
    let dof = columns.len() - 1;
    if dof == 0 {
        return Ok(ChiSquareTest { statistic: 0.0, p_value: 1.0, dof });
    }
    let total = (ref_total + cur_total) as f64;
    let mut statistic = 0.0;
    for (row_total, row) in [(ref_total, 0), (cur_total, 1)] {
        for &(r, c) in &columns {
            let observed = if row == 0 { r } else { c } as f64;
            let expected = row_total as f64 * (r + c) as f64 / total;
            let observed = if dof == 1 {
                let diff = expected - observed;
                observed + diff.signum() * diff.abs().min(0.5)
            } else {
                observed
            };
            statistic += (observed - expected) * (observed - expected) / expected;
        }
    }
    let p_value = ChiSquared::new(dof as f64).expect("dof ≥ 1 is a valid chi-square parameter").sf(statistic);
    Ok(ChiSquareTest { statistic, p_value, dof })
}

/// Drift of a categorical column: the chi-square test, PSI and Jensen–Shannon distance over the
/// category shares, and which categories appeared or vanished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoricalDrift<K> {
    /// Every category with a nonzero count on either side, ascending.
    pub categories: Vec<K>,
    /// Share of each category on each side, in the order of `categories`.
    pub shares: Shares,
    pub chi_square: ChiSquareTest,
    /// Population stability index over the shares (empty shares filled by Evidently's rule).
    pub psi: f64,
    /// Jensen–Shannon distance over the shares.
    pub jensen_shannon: f64,
    /// Categories in the current data that the reference never had.
    pub new_categories: Vec<K>,
    /// Categories of the reference that the current data no longer has.
    pub vanished_categories: Vec<K>,
}

impl<K: Ord + Clone> CategoricalDrift<K> {
    /// Compares counts per category; a category with count 0 is the same as an absent one.
    /// Fails when either side has no counts at all.
    pub fn compute(reference: &BTreeMap<K, u64>, current: &BTreeMap<K, u64>) -> Result<Self, DriftError> {
        let present = |counts: &BTreeMap<K, u64>, k: &K| counts.get(k).is_some_and(|&c| c > 0);
        let mut categories: Vec<K> = reference.keys().chain(current.keys()).cloned().collect();
        categories.sort();
        categories.dedup();
        categories.retain(|k| present(reference, k) || present(current, k));

        let counts_of = |counts: &BTreeMap<K, u64>| -> Vec<u64> {
            categories.iter().map(|k| counts.get(k).copied().unwrap_or(0)).collect()
        };
        let (ref_counts, cur_counts) = (counts_of(reference), counts_of(current));
        let chi_square = chi_square_contingency(&ref_counts, &cur_counts)?;
        let shares = Shares::from_counts(&ref_counts, &cur_counts)?;
        let new_categories = categories.iter().filter(|k| !present(reference, k)).cloned().collect();
        let vanished_categories = categories.iter().filter(|k| !present(current, k)).cloned().collect();
        Ok(Self {
            psi: shares.psi(),
            jensen_shannon: shares.jensen_shannon(),
            categories,
            shares,
            chi_square,
            new_categories,
            vanished_categories,
        })
    }

    /// Share of the current values in categories the reference never had.
    pub fn new_category_share(&self) -> f64 {
        // An empty f64 sum is -0.0; none is plain 0.
        if self.new_categories.is_empty() {
            return 0.0;
        }
        self.categories
            .iter()
            .zip(self.shares.current())
            .filter(|(k, _)| self.new_categories.contains(k))
            .map(|(_, share)| share)
            .sum()
    }

    /// The score of this column under `method`; `None` for methods that need numeric values.
    pub fn score(&self, method: DriftMethod) -> Option<DriftScore> {
        let value = match method {
            DriftMethod::ChiSquare => self.chi_square.p_value,
            DriftMethod::Psi => self.psi,
            DriftMethod::JensenShannon => self.jensen_shannon,
            DriftMethod::KolmogorovSmirnov | DriftMethod::Wasserstein => return None,
        };
        Some(DriftScore { method, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn empty_sides_are_errors() {
        let some = counts(&[("a", 3)]);
        let none = counts(&[("a", 0)]);
        assert_eq!(CategoricalDrift::compute(&none, &some), Err(DriftError::EmptySample { side: Side::Reference }));
        assert_eq!(
            CategoricalDrift::compute(&some, &BTreeMap::new()),
            Err(DriftError::EmptySample { side: Side::Current })
        );
        assert_eq!(chi_square_contingency(&[1, 2], &[1]), Err(DriftError::LengthMismatch { reference: 2, current: 1 }));
    }

    #[test]
    fn single_category_has_no_degrees_of_freedom() {
        let drift = CategoricalDrift::compute(&counts(&[("a", 10)]), &counts(&[("a", 3), ("b", 0)])).unwrap();
        assert!(drift.new_category_share().is_sign_positive() && drift.new_category_share() == 0.0);
        assert_eq!(drift.chi_square, ChiSquareTest { statistic: 0.0, p_value: 1.0, dof: 0 });
        assert_eq!(drift.categories, vec!["a"]);
        assert_eq!((drift.psi, drift.jensen_shannon), (0.0, 0.0));
        assert!(drift.new_categories.is_empty() && drift.vanished_categories.is_empty());
    }

    #[test]
    fn zero_counts_count_as_absent_categories() {
        let drift = CategoricalDrift::compute(&counts(&[("a", 5), ("b", 5), ("c", 0)]), &counts(&[("a", 5), ("c", 2)]))
            .unwrap();
        assert_eq!(drift.categories, vec!["a", "b", "c"]);
        assert_eq!(drift.new_categories, vec!["c"]);
        assert!((drift.new_category_share() - 2.0 / 7.0).abs() < 1e-15);
        assert_eq!(drift.vanished_categories, vec!["b"]);
        assert_eq!(drift.chi_square.dof, 2);
    }

    #[test]
    fn yates_correction_applies_only_with_one_degree_of_freedom() {
        // 2×2 table [[10, 20], [20, 10]]: expected 15 everywhere, |o − e| = 5 → 4.5 after Yates.
        let t = chi_square_contingency(&[10, 20], &[20, 10]).unwrap();
        assert!((t.statistic - 4.0 * 4.5 * 4.5 / 15.0).abs() < 1e-12);
        // 2×3 table: no correction.
        let t = chi_square_contingency(&[10, 20, 15], &[20, 10, 15]).unwrap();
        assert!((t.statistic - 4.0 * 25.0 / 15.0).abs() < 1e-12);
        assert_eq!(t.dof, 2);
        // χ²₂ survival function is exp(−x/2).
        assert!((t.p_value - (-t.statistic / 2.0).exp()).abs() < 1e-15);
    }
}
