//! Data quality of a numeric column: what is missing or not finite, kept apart from the drift
//! statistics, which only see finite values.

use serde::{Deserialize, Serialize};

/// Counts of the kinds of values in a numeric column, and the range of its finite values.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DataQuality {
    /// All values, whatever their kind.
    pub total: usize,
    /// Missing values (`None`).
    pub nulls: usize,
    pub nan: usize,
    pub positive_infinity: usize,
    pub negative_infinity: usize,
    pub finite: usize,
    /// Smallest and largest finite value; `None` without finite values.
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl DataQuality {
    /// Counts the values of a column.
    pub fn scan(values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let mut quality = Self::default();
        for value in values {
            quality.record(value);
        }
        quality
    }

    /// Counts the values of a column and returns its finite values, in their original order,
    /// ready for [`NumericSample::new`](super::NumericSample::new).
    pub fn split_finite(values: impl IntoIterator<Item = Option<f64>>) -> (Self, Vec<f64>) {
        let mut quality = Self::default();
        let mut finite = Vec::new();
        for value in values {
            quality.record(value);
            if let Some(x) = value.filter(|x| x.is_finite()) {
                finite.push(x);
            }
        }
        (quality, finite)
    }

    /// Values that are not finite numbers: nulls, NaN and infinities.
    pub fn excluded(&self) -> usize {
        self.total - self.finite
    }

    /// Adds the counts of `other` (the same column, other rows): associative and commutative.
    pub fn merge(&mut self, other: &DataQuality) {
        self.total += other.total;
        self.nulls += other.nulls;
        self.nan += other.nan;
        self.positive_infinity += other.positive_infinity;
        self.negative_infinity += other.negative_infinity;
        self.finite += other.finite;
        let pick = |a: Option<f64>, b: Option<f64>, keep_a: fn(f64, f64) -> bool| match (a, b) {
            (Some(x), Some(y)) => Some(if keep_a(x, y) { x } else { y }),
            (x, None) => x,
            (None, y) => y,
        };
        self.min = pick(self.min, other.min, |x, y| x.total_cmp(&y).is_le());
        self.max = pick(self.max, other.max, |x, y| x.total_cmp(&y).is_ge());
    }

    fn record(&mut self, value: Option<f64>) {
        self.total += 1;
        match value {
            None => self.nulls += 1,
            Some(x) if x.is_nan() => self.nan += 1,
            Some(f64::INFINITY) => self.positive_infinity += 1,
            Some(f64::NEG_INFINITY) => self.negative_infinity += 1,
            Some(x) => {
                self.finite += 1;
                self.min = Some(self.min.map_or(x, |m| m.min(x)));
                self.max = Some(self.max.map_or(x, |m| m.max(x)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_kind_of_value() {
        let values = [Some(1.5), None, Some(f64::NAN), Some(f64::INFINITY), Some(-3.0), Some(f64::NEG_INFINITY), None];
        let (quality, finite) = DataQuality::split_finite(values);
        assert_eq!(
            quality,
            DataQuality {
                total: 7,
                nulls: 2,
                nan: 1,
                positive_infinity: 1,
                negative_infinity: 1,
                finite: 2,
                min: Some(-3.0),
                max: Some(1.5),
            }
        );
        assert_eq!(quality.excluded(), 5);
        assert_eq!(finite, vec![1.5, -3.0]);
        assert_eq!(DataQuality::scan(values), quality);
    }

    #[test]
    fn column_without_finite_values_has_no_range() {
        let quality = DataQuality::scan([None, Some(f64::NAN)]);
        assert_eq!((quality.finite, quality.min, quality.max), (0, None, None));
        assert_eq!(DataQuality::scan([]), DataQuality::default());
    }
}
