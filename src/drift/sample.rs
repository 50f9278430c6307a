//! A validated numeric sample and its summary statistics.

use serde::Serialize;

use super::{DriftError, Side};

/// A non-empty sample of finite values, held sorted ascending.
///
/// The drift statistics take samples rather than raw slices so that validation (and sorting)
/// happens once. Nulls, NaN and infinities are not drift inputs: count them with
/// [`DataQuality`](super::DataQuality) and pass the finite values here.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericSample {
    sorted: Vec<f64>,
}

impl NumericSample {
    /// The sample of `values`, which must be finite and not empty; `side` names the sample in
    /// errors.
    pub fn new(side: Side, values: &[f64]) -> Result<Self, DriftError> {
        if values.is_empty() {
            return Err(DriftError::EmptySample { side });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DriftError::NonFiniteValue { side, index, value });
        }
        let mut sorted = values.to_vec();
        // Unstable is exact here: values equal in the total order are bit-identical.
        sorted.sort_unstable_by(f64::total_cmp);
        Ok(Self { sorted })
    }

    /// The sample of values already sorted ascending (total order), taken without copying or
    /// sorting again; they must be finite and not empty.
    pub fn from_sorted(side: Side, sorted: Vec<f64>) -> Result<Self, DriftError> {
        if sorted.is_empty() {
            return Err(DriftError::EmptySample { side });
        }
        if let Some((index, &value)) = sorted.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DriftError::NonFiniteValue { side, index, value });
        }
        if let Some(index) = sorted.windows(2).position(|w| w[1].total_cmp(&w[0]).is_lt()) {
            return Err(DriftError::NotSorted { side, index: index + 1 });
        }
        Ok(Self { sorted })
    }

    /// The values, sorted ascending.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// The number of values (at least one).
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: a sample has at least one value.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    pub fn min(&self) -> f64 {
        self.sorted[0]
    }

    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }

    /// The arithmetic mean.
    pub fn mean(&self) -> f64 {
        self.sorted.iter().sum::<f64>() / self.len() as f64
    }

    /// The population standard deviation (`ddof = 0`, NumPy's default for `np.std`).
    pub fn std(&self) -> f64 {
        let mean = self.mean();
        let sum_sq: f64 = self.sorted.iter().map(|x| (x - mean) * (x - mean)).sum();
        (sum_sq / self.len() as f64).sqrt()
    }

    /// The `q`-quantile (`0 ≤ q ≤ 1`) with linear interpolation, as `numpy.quantile`'s default.
    pub fn quantile(&self, q: f64) -> f64 {
        quantile_sorted(&self.sorted, q)
    }

    /// The number of distinct values.
    pub fn distinct_count(&self) -> usize {
        1 + self.sorted.windows(2).filter(|w| w[0] != w[1]).count()
    }

    pub fn summary(&self) -> SummaryStats {
        SummaryStats {
            count: self.len(),
            mean: self.mean(),
            std: self.std(),
            min: self.min(),
            max: self.max(),
            p25: self.quantile(0.25),
            p50: self.quantile(0.5),
            p75: self.quantile(0.75),
        }
    }
}

/// Summary statistics of a numeric sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SummaryStats {
    pub count: usize,
    pub mean: f64,
    /// Population standard deviation (`ddof = 0`).
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// Quartiles and median, NumPy's linear interpolation.
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
}

/// The `q`-quantile of ascending `sorted` values by linear interpolation between the closest
/// ranks (NumPy's default `method='linear'`, Hyndman & Fan type 7), computed the way NumPy does
/// so that quantile bin edges agree bit for bit. `q` is clamped to `[0, 1]`; NaN for an empty
/// slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let position = (n - 1) as f64 * q.clamp(0.0, 1.0);
    if position >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let below = position.floor();
    let t = position - below;
    let a = sorted[below as usize];
    let b = sorted[below as usize + 1];
    // NumPy's _lerp: a + (b−a)·t, or b − (b−a)·(1−t) for t ≥ ½ (monotone and exact at the ends).
    let diff = b - a;
    if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presorted_values_are_taken_as_they_are_and_checked() {
        let values = vec![-2.0, -0.0, 0.0, 1.5, 1.5, 9.0];
        let sample = NumericSample::from_sorted(Side::Current, values.clone()).unwrap();
        assert_eq!(sample, NumericSample::new(Side::Current, &[9.0, 1.5, 0.0, -0.0, 1.5, -2.0]).unwrap());
        assert_eq!(sample.sorted(), &values[..]);
        assert_eq!(
            NumericSample::from_sorted(Side::Reference, vec![1.0, 3.0, 2.0]),
            Err(DriftError::NotSorted { side: Side::Reference, index: 2 })
        );
        assert_eq!(
            NumericSample::from_sorted(Side::Current, vec![]),
            Err(DriftError::EmptySample { side: Side::Current })
        );
        assert!(matches!(
            NumericSample::from_sorted(Side::Current, vec![1.0, f64::INFINITY]),
            Err(DriftError::NonFiniteValue { index: 1, .. })
        ));
    }

    #[test]
    fn rejects_empty_and_non_finite() {
        assert_eq!(NumericSample::new(Side::Current, &[]), Err(DriftError::EmptySample { side: Side::Current }));
        let err = NumericSample::new(Side::Reference, &[1.0, f64::NEG_INFINITY]).unwrap_err();
        assert!(matches!(err, DriftError::NonFiniteValue { side: Side::Reference, index: 1, .. }));
        assert!(matches!(
            NumericSample::new(Side::Reference, &[f64::NAN]),
            Err(DriftError::NonFiniteValue { index: 0, .. })
        ));
    }

    #[test]
    fn quantiles_interpolate_linearly() {
        let s = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 8.0);
        assert_eq!(quantile_sorted(&s, 0.5), 3.0);
        assert_eq!(quantile_sorted(&s, 0.25), 1.75);
        assert_eq!(quantile_sorted(&[5.0], 0.3), 5.0);
        assert!(quantile_sorted(&[], 0.3).is_nan());
    }

    #[test]
    fn constant_sample_has_zero_std() {
        let s = NumericSample::new(Side::Reference, &[2.5; 7]).unwrap();
        let summary = s.summary();
        assert_eq!(summary.std, 0.0);
        assert_eq!((summary.min, summary.max, summary.p50, summary.mean), (2.5, 2.5, 2.5, 2.5));
        assert_eq!(s.distinct_count(), 1);
    }
}
