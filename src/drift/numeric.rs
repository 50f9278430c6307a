//! Drift of a numeric column: every statistic at once.

use serde::Serialize;

use super::{
    BinnedShares, Binning, DriftError, DriftMethod, DriftScore, KsTest, NumericSample, SummaryStats,
    WassersteinDistance, bin_shares, ks_two_sample, normalised_wasserstein,
};

/// The drift statistics of a numeric column, reference against current.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumericDrift {
    pub reference: SummaryStats,
    pub current: SummaryStats,
    pub ks: KsTest,
    pub wasserstein: WassersteinDistance,
    /// The bins PSI and Jensen–Shannon distance were taken over.
    pub bins: BinnedShares,
    pub psi: f64,
    pub jensen_shannon: f64,
}

impl NumericDrift {
    /// Computes every statistic; fails only for a binning without bins.
    pub fn compute(reference: &NumericSample, current: &NumericSample, binning: Binning) -> Result<Self, DriftError> {
        let bins = bin_shares(reference, current, binning)?;
        Ok(Self {
            reference: reference.summary(),
            current: current.summary(),
            ks: ks_two_sample(reference, current),
            wasserstein: normalised_wasserstein(reference, current),
            psi: bins.shares.psi(),
            jensen_shannon: bins.shares.jensen_shannon(),
            bins,
        })
    }

    /// The score of this column under `method` (the normalised distance for Wasserstein);
    /// `None` for the chi-square test, which is for categories.
    pub fn score(&self, method: DriftMethod) -> Option<DriftScore> {
        let value = match method {
            DriftMethod::KolmogorovSmirnov => self.ks.p_value,
            DriftMethod::Wasserstein => self.wasserstein.normalised,
            DriftMethod::JensenShannon => self.jensen_shannon,
            DriftMethod::Psi => self.psi,
            DriftMethod::ChiSquare => return None,
        };
        Some(DriftScore { method, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{ColumnDrift, DataQuality, KsMethod, Side};

    #[test]
    fn only_finite_values_reach_the_statistics() {
        let (quality, finite) = DataQuality::split_finite([Some(1.0), None, Some(f64::NAN), Some(3.0), Some(2.0)]);
        assert_eq!((quality.finite, quality.excluded()), (3, 2));
        let r = NumericSample::new(Side::Reference, &finite).unwrap();
        assert_eq!(r.sorted(), &[1.0, 2.0, 3.0]);

        let (quality, finite) = DataQuality::split_finite([None, Some(f64::INFINITY)]);
        assert_eq!((quality.nulls, quality.positive_infinity), (1, 1));
        assert_eq!(NumericSample::new(Side::Current, &finite), Err(DriftError::EmptySample { side: Side::Current }));
    }

    #[test]
    fn constant_columns_compute_without_panicking() {
        let r = NumericSample::new(Side::Reference, &[4.0; 20]).unwrap();
        let same =
            NumericDrift::compute(&r, &NumericSample::new(Side::Current, &[4.0; 5]).unwrap(), Binning::default())
                .unwrap();
        assert_eq!(same.ks, KsTest { statistic: 0.0, p_value: 1.0, method: KsMethod::Exact });
        assert_eq!((same.wasserstein.raw, same.wasserstein.normalised), (0.0, 0.0));
        assert_eq!((same.psi, same.jensen_shannon), (0.0, 0.0));

        let moved = NumericSample::new(Side::Current, &[5.0; 5]).unwrap();
        let drift = NumericDrift::compute(&r, &moved, Binning::EvidentlyCompatible).unwrap();
        assert_eq!(drift.ks.statistic, 1.0);
        assert!((drift.wasserstein.normalised - 1000.0).abs() < 1e-9);
        let score = drift.score(DriftMethod::KolmogorovSmirnov).unwrap();
        assert!(ColumnDrift::judge("c", score, None).drifted);
        assert!(drift.score(DriftMethod::ChiSquare).is_none());
    }
}
