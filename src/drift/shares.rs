//! Reference and current shares over common bins or categories, and the distances between them:
//! the population stability index and the Jensen–Shannon distance.

use serde::Serialize;

use super::{DriftError, Side};

/// Share given to an empty bin (Evidently's rule, see [`fill_empty_shares`]).
const EMPTY_BIN_SHARE: f64 = 1e-4;

/// The shares of reference and current values falling into each of the same bins or categories.
///
/// Shares are as observed (counts divided by the sample size); empty bins are kept as 0 here and
/// only replaced inside [`Shares::psi`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shares {
    reference: Vec<f64>,
    current: Vec<f64>,
}

impl Shares {
    /// Pairs the shares of the same bins; both sides need the same length, finite non-negative
    /// shares and a positive total.
    pub fn new(reference: Vec<f64>, current: Vec<f64>) -> Result<Self, DriftError> {
        if reference.len() != current.len() {
            return Err(DriftError::LengthMismatch { reference: reference.len(), current: current.len() });
        }
        for (side, shares) in [(Side::Reference, &reference), (Side::Current, &current)] {
            if let Some((index, &value)) = shares.iter().enumerate().find(|(_, s)| !(s.is_finite() && **s >= 0.0)) {
                return Err(DriftError::InvalidShare { side, index, value });
            }
            if !shares.iter().any(|&s| s > 0.0) {
                return Err(DriftError::EmptySample { side });
            }
        }
        Ok(Self { reference, current })
    }

    /// Shares from counts per bin (each side divided by its own total).
    pub fn from_counts(reference: &[u64], current: &[u64]) -> Result<Self, DriftError> {
        let to_shares = |counts: &[u64]| {
            let total = counts.iter().sum::<u64>() as f64;
            counts.iter().map(|&c| c as f64 / total).collect::<Vec<f64>>()
        };
        for (side, counts) in [(Side::Reference, reference), (Side::Current, current)] {
            if counts.iter().all(|&c| c == 0) {
                return Err(DriftError::EmptySample { side });
            }
        }
        Self::new(to_shares(reference), to_shares(current))
    }

    pub fn reference(&self) -> &[f64] {
        &self.reference
    }

    pub fn current(&self) -> &[f64] {
        &self.current
    }

    /// The population stability index `Σ (r − c)·ln(r / c)`, after replacing empty shares on
    /// each side by [`fill_empty_shares`] (Evidently's `psi` stattest). 0 for identical shares;
    /// larger means more shift.
    pub fn psi(&self) -> f64 {
        let r = fill_empty_shares(&self.reference);
        let c = fill_empty_shares(&self.current);
        r.iter().zip(&c).map(|(&r, &c)| (r - c) * (r / c).ln()).sum()
    }

    /// The Jensen–Shannon distance (natural logarithm, so between 0 and √ln 2), as
    /// `scipy.spatial.distance.jensenshannon(reference, current)`: both sides are normalised to
    /// sum to 1, `m = (p + q)/2`, and the distance is `√((KL(p‖m) + KL(q‖m))/2)`. Empty bins are
    /// not filled (they contribute 0). A rounding-level negative divergence is taken as 0.
    pub fn jensen_shannon(&self) -> f64 {
        let p_total: f64 = self.reference.iter().sum();
        let q_total: f64 = self.current.iter().sum();
        let relative_entropy = |x: f64, y: f64| if x > 0.0 { x * (x / y).ln() } else { 0.0 };
        let (mut left, mut right) = (0.0, 0.0);
        for (&p, &q) in self.reference.iter().zip(&self.current) {
            let (p, q) = (p / p_total, q / q_total);
            let m = (p + q) / 2.0;
            left += relative_entropy(p, m);
            right += relative_entropy(q, m);
        }
        ((left + right) / 2.0).max(0.0).sqrt()
    }
}

/// Evidently's rule for empty bins before taking logarithms: every zero share becomes `1e-4`, or
/// `min_nonzero / 1e6` when the smallest nonzero share is itself at most `1e-4`. The shares are
/// not renormalised afterwards.
pub fn fill_empty_shares(shares: &[f64]) -> Vec<f64> {
    let smallest = shares.iter().copied().filter(|&s| s != 0.0).fold(f64::INFINITY, f64::min);
    let fill = if smallest <= EMPTY_BIN_SHARE { smallest / 1e6 } else { EMPTY_BIN_SHARE };
    shares.iter().map(|&s| if s == 0.0 { fill } else { s }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_shares_have_zero_distances() {
        let s = Shares::new(vec![0.2, 0.3, 0.5], vec![0.2, 0.3, 0.5]).unwrap();
        assert_eq!(s.psi(), 0.0);
        assert_eq!(s.jensen_shannon(), 0.0);
    }

    #[test]
    fn disjoint_shares_reach_the_maximum_js_distance() {
        let s = Shares::new(vec![1.0, 0.0], vec![0.0, 1.0]).unwrap();
        assert!((s.jensen_shannon() - std::f64::consts::LN_2.sqrt()).abs() < 1e-15);
        // Both zeros become 1e-4: PSI = 2·(1 − 1e-4)·ln(1e4).
        assert!((s.psi() - 2.0 * (1.0 - 1e-4) * 1e4f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn empty_bins_are_filled_by_the_evidently_rule() {
        assert_eq!(fill_empty_shares(&[0.5, 0.5, 0.0]), vec![0.5, 0.5, 1e-4]);
        assert_eq!(fill_empty_shares(&[0.99995, 0.00005, 0.0]), vec![0.99995, 0.00005, 0.00005 / 1e6]);
        assert_eq!(fill_empty_shares(&[0.3, 0.7]), vec![0.3, 0.7]);
    }

    #[test]
    fn shares_are_validated() {
        assert_eq!(
            Shares::new(vec![1.0], vec![0.5, 0.5]),
            Err(DriftError::LengthMismatch { reference: 1, current: 2 })
        );
        assert!(matches!(
            Shares::new(vec![0.5, -0.1], vec![0.5, 0.5]),
            Err(DriftError::InvalidShare { side: Side::Reference, index: 1, .. })
        ));
        assert_eq!(Shares::new(vec![0.5], vec![0.0]), Err(DriftError::EmptySample { side: Side::Current }));
        assert_eq!(Shares::from_counts(&[0, 0], &[1, 2]), Err(DriftError::EmptySample { side: Side::Reference }));
        let s = Shares::from_counts(&[1, 3], &[2, 2]).unwrap();
        assert_eq!((s.reference(), s.current()), (&[0.25, 0.75][..], &[0.5, 0.5][..]));
    }
}
