//! The Wasserstein-1 (earth mover's) distance between two samples.

use serde::Serialize;

use super::NumericSample;
use super::ks::ecdf_walk;

/// Floor on the reference standard deviation when normalising (Evidently's), so that a constant
/// reference column does not divide by zero.
pub const WASSERSTEIN_MIN_STD: f64 = 0.001;

/// The Wasserstein-1 distance, raw and in units of the reference spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WassersteinDistance {
    /// `∫ |F_ref(x) − F_cur(x)| dx` (`scipy.stats.wasserstein_distance`, unweighted).
    pub raw: f64,
    /// Population standard deviation (`ddof = 0`) of the reference sample.
    pub reference_std: f64,
    /// `raw / max(reference_std, 0.001)`, as Evidently's `wasserstein` drift method.
    pub normalised: f64,
}

/// The unweighted Wasserstein-1 distance between the empirical distributions of the two
/// samples, `∫ |F_ref(x) − F_cur(x)| dx` (`scipy.stats.wasserstein_distance(reference, current)`).
///
/// One walk along the merge of the two samples (the one the KS test takes, see
/// [`NumericDrift`](super::NumericDrift), which computes both at once).
pub fn wasserstein_distance(reference: &NumericSample<'_>, current: &NumericSample<'_>) -> f64 {
    ecdf_walk(reference.sorted(), current.sorted()).wasserstein
}

/// The Wasserstein-1 distance and its normalisation by the reference standard deviation.
pub fn normalised_wasserstein(reference: &NumericSample<'_>, current: &NumericSample<'_>) -> WassersteinDistance {
    WassersteinDistance::new(wasserstein_distance(reference, current), reference.std())
}

impl WassersteinDistance {
    /// The distance `raw` normalised by `reference_std` (floored at [`WASSERSTEIN_MIN_STD`]).
    pub(super) fn new(raw: f64, reference_std: f64) -> Self {
        Self { raw, reference_std, normalised: raw / reference_std.max(WASSERSTEIN_MIN_STD) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::Side;

    #[test]
    fn shift_of_a_sample_moves_it_by_the_shift() {
        let r = NumericSample::new(Side::Reference, &[0.0, 1.0, 3.0]).unwrap();
        let c = NumericSample::new(Side::Current, &[2.0, 3.0, 5.0]).unwrap();
        assert!((wasserstein_distance(&r, &c) - 2.0).abs() < 1e-15);
    }

    #[test]
    fn constant_reference_is_normalised_by_the_floor() {
        let r = NumericSample::new(Side::Reference, &[1.0; 4]).unwrap();
        let c = NumericSample::new(Side::Current, &[1.5; 3]).unwrap();
        let w = normalised_wasserstein(&r, &c);
        assert_eq!(w.reference_std, 0.0);
        assert!((w.raw - 0.5).abs() < 1e-15);
        assert!((w.normalised - 500.0).abs() < 1e-9);
    }
}
