//! Drift of a numeric column: every statistic at once.

use serde::Serialize;

use super::ks::{ecdf_walk, ks_from_walk};
use super::{
    BinnedShares, Binning, DriftError, DriftMethod, DriftScore, KsTest, NumericSample, SummaryStats,
    WassersteinDistance, bin_shares,
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
    ///
    /// KS and Wasserstein come from one walk along the merge of the two samples, the reference
    /// standard deviation from its summary: the same numbers as
    /// [`ks_two_sample`](super::ks_two_sample) and
    /// [`normalised_wasserstein`](super::normalised_wasserstein) give separately.
    pub fn compute(
        reference: &NumericSample<'_>,
        current: &NumericSample<'_>,
        binning: Binning,
    ) -> Result<Self, DriftError> {
        let parallel = reference.len() + current.len() >= super::PARALLEL_MIN_VALUES;
        let (walk, (reference_summary, current_summary)) = super::join(
            parallel,
            || ecdf_walk(reference.sorted(), current.sorted()),
            || (reference.summary(), current.summary()),
        );
        let bins = bin_shares(reference, current, binning)?;
        Ok(Self {
            ks: ks_from_walk(reference.len(), current.len(), &walk),
            wasserstein: WassersteinDistance::new(walk.wasserstein, reference_summary.std),
            reference: reference_summary,
            current: current_summary,
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

/// Timings on a million normal values per window. Run with
/// `cargo test -p deltaone --profile batch --lib -- --ignored --nocapture drift::numeric::timing`.
#[cfg(test)]
mod timing {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::drift::Side;
    use crate::drift::partial::{NumericPartial, NumericValues, numeric_statistics};

    /// `n` normal values (Box–Muller over SplitMix64), deterministic in `seed`.
    fn normal(n: usize, seed: u64, mean: f64, std: f64) -> Vec<f64> {
        let mut state = seed;
        let mut uniform = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (u, v) = (1.0 - uniform(), uniform());
                mean + std * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect()
    }

    fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
        let mut best = Duration::MAX;
        let mut out = None;
        for _ in 0..runs {
            let start = Instant::now();
            let value = std::hint::black_box(f());
            best = best.min(start.elapsed());
            out = Some(value);
        }
        (best, out.expect("at least one run"))
    }

    #[test]
    #[ignore = "timing; run in an optimised build"]
    fn timing_one_million_normal_values_per_window() {
        let n = 1_000_000;
        let (r, c) = (normal(n, 1, 0.0, 1.0), normal(n, 2, 0.05, 1.1));
        let (sort, (rs, cs)) = best(5, || {
            (NumericSample::new(Side::Reference, &r).unwrap(), NumericSample::new(Side::Current, &c).unwrap())
        });
        let (compute, drift) = best(5, || NumericDrift::compute(&rs, &cs, Binning::default()).unwrap());
        let exact = |s: &NumericSample| NumericPartial {
            quality: Default::default(),
            values: NumericValues::Exact { sorted: crate::drift::SortedValues::trusted(s.sorted().to_vec()) },
        };
        let (rp, cp) = (exact(&rs), exact(&cs));
        let (statistics, _) = best(5, || numeric_statistics(&rp, &cp, Binning::default()).unwrap());
        let (ks, _) = best(5, || crate::drift::ks_two_sample(&rs, &cs));
        let (wasserstein, _) = best(5, || crate::drift::normalised_wasserstein(&rs, &cs));
        let (summaries, _) = best(5, || (rs.summary(), cs.summary()));
        let (bins, _) = best(5, || crate::drift::bin_shares(&rs, &cs, Binning::default()).unwrap());
        println!("  of which: ks {ks:?}, wasserstein {wasserstein:?}, summary ×2 {summaries:?}, bins {bins:?}");
        let sort_time = |sort: fn(&mut [f64])| {
            (0..5)
                .map(|_| {
                    let mut v = r.clone();
                    let start = Instant::now();
                    sort(std::hint::black_box(&mut v));
                    start.elapsed()
                })
                .min()
                .expect("five runs")
        };
        println!(
            "  sorting {n} values in place: sort_finite {:?}, sort_total_order {:?}, \
             sort_unstable_by(total_cmp) {:?}, sort_by(total_cmp) {:?}",
            sort_time(crate::drift::sort_finite),
            sort_time(crate::drift::sort_total_order),
            sort_time(|v| v.sort_unstable_by(f64::total_cmp)),
            sort_time(|v| v.sort_by(f64::total_cmp)),
        );
        println!(
            "n = {n} per window: NumericSample::new ×2 {sort:?}, NumericDrift::compute {compute:?}, \
             numeric_statistics {statistics:?}; D = {}, W = {}",
            drift.ks.statistic, drift.wasserstein.raw
        );
    }
}
