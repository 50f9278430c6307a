//! Binning a numeric column so that distances between distributions of shares (PSI,
//! Jensen–Shannon) can be taken.

use serde::{Deserialize, Serialize};

use super::{DriftError, NumericSample, Shares};

/// Bins of the default binning: reference deciles.
pub const DEFAULT_QUANTILE_BINS: usize = 10;
/// In [`Binning::EvidentlyCompatible`], a reference with at most this many distinct values gets
/// one bin per distinct value (Evidently's threshold).
pub const EVIDENTLY_MAX_DISTINCT_VALUES: usize = 20;

/// How to bin a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// Bins holding equal shares of the reference: the inner edges are the reference quantiles
    /// `i/bins` for `i = 1..bins` (NumPy's linear interpolation), with repeated edges merged
    /// (ties may leave fewer bins). The first and last bins are open-ended, so every current
    /// value falls in a bin; bins are closed on the left: `(-∞, e₁), [e₁, e₂), …, [e_k, +∞)`.
    ///
    /// Values beyond the reference range land in the outer bins, so a current column that moves
    /// entirely above the reference maximum only shows up as a larger top bin.
    ReferenceQuantiles { bins: usize },
    /// Evidently's binning for its `psi` and `jensenshannon` methods: if the reference has more
    /// than 20 distinct values, equal-width bins over the range of reference and current
    /// together, as many as NumPy's `'sturges'` rule gives for the pooled data
    /// (`numpy.histogram_bin_edges(concat(ref, cur), bins='sturges')`, bins `[eᵢ, eᵢ₊₁)`, the last
    /// one closed); otherwise one bin per distinct value of either sample.
    EvidentlyCompatible,
}

impl Default for Binning {
    fn default() -> Self {
        Binning::ReferenceQuantiles { bins: DEFAULT_QUANTILE_BINS }
    }
}

/// The bins a [`Binning`] produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BinLayout {
    /// Inner edges `e₁ < … < e_k` of `k + 1` bins `(-∞, e₁), [e₁, e₂), …, [e_k, +∞)`.
    OpenEnded { edges: Vec<f64> },
    /// Edges `e₀ < … < e_k` of `k` bins `[e₀, e₁), …, [e_{k−1}, e_k]`.
    EqualWidth { edges: Vec<f64> },
    /// One bin per value, ascending.
    DistinctValues { values: Vec<f64> },
}

impl BinLayout {
    pub fn bin_count(&self) -> usize {
        match self {
            BinLayout::OpenEnded { edges } => edges.len() + 1,
            BinLayout::EqualWidth { edges } => edges.len() - 1,
            BinLayout::DistinctValues { values } => values.len(),
        }
    }
}

/// The bins and the shares of each sample in them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinnedShares {
    pub layout: BinLayout,
    pub shares: Shares,
}

/// Bins `reference` and `current` as `binning` says and returns the share of each sample per
/// bin. Fails only for `ReferenceQuantiles { bins: 0 }`.
pub fn bin_shares(
    reference: &NumericSample<'_>,
    current: &NumericSample<'_>,
    binning: Binning,
) -> Result<BinnedShares, DriftError> {
    let layout = match binning {
        Binning::ReferenceQuantiles { bins: 0 } => return Err(DriftError::NoBins),
        Binning::ReferenceQuantiles { bins } => BinLayout::OpenEnded { edges: quantile_edges(reference, bins) },
        Binning::EvidentlyCompatible if reference.distinct_count() > EVIDENTLY_MAX_DISTINCT_VALUES => {
            BinLayout::EqualWidth { edges: sturges_edges(reference, current) }
        }
        Binning::EvidentlyCompatible => BinLayout::DistinctValues { values: distinct_values(reference, current) },
    };
    let counts = |sample: &NumericSample<'_>| bin_counts(&layout, sample.sorted());
    let shares = Shares::from_counts(&counts(reference), &counts(current))?;
    Ok(BinnedShares { layout, shares })
}

fn quantile_edges(reference: &NumericSample<'_>, bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = (1..bins).map(|i| reference.quantile(i as f64 / bins as f64)).collect();
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    edges
}

/// `numpy.histogram_bin_edges(pooled, bins='sturges')`: width `ptp / (log₂ N + 1)`,
/// `⌈range / width⌉` bins, edges by `numpy.linspace`.
fn sturges_edges(reference: &NumericSample<'_>, current: &NumericSample<'_>) -> Vec<f64> {
    let (min, max) = (reference.min().min(current.min()), reference.max().max(current.max()));
    let size = (reference.len() + current.len()) as f64;
    let (first, last) = if min == max { (min - 0.5, max + 0.5) } else { (min, max) };
    let width = (max - min) / (size.log2() + 1.0);
    let bins = if width != 0.0 { ((last - first) / width).ceil() as usize } else { 1 };
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|i| i as f64 * step + first).collect();
    edges.push(last);
    edges
}

/// The distinct values of both samples, ascending: a merge of the two sorted samples (no copy
/// of them, no sort), keeping the first of equal values (`-0.0` before `+0.0`).
fn distinct_values(reference: &NumericSample<'_>, current: &NumericSample<'_>) -> Vec<f64> {
    let (r, c) = (reference.sorted(), current.sorted());
    let mut values: Vec<f64> = Vec::new();
    let mut push = |x: f64| {
        if values.last() != Some(&x) {
            values.push(x);
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < r.len() && j < c.len() {
        if c[j].total_cmp(&r[i]).is_lt() {
            push(c[j]);
            j += 1;
        } else {
            push(r[i]);
            i += 1;
        }
    }
    r[i..].iter().chain(&c[j..]).for_each(|&x| push(x));
    values
}

/// Counts of the ascending `sorted` values per bin of `layout`.
fn bin_counts(layout: &BinLayout, sorted: &[f64]) -> Vec<u64> {
    let below = |edge: f64| sorted.partition_point(|&v| v < edge);
    let at_or_below = |edge: f64| sorted.partition_point(|&v| v <= edge);
    // Cumulative counts at the bin boundaries, from 0 to the number of values binned.
    let cumulative: Vec<usize> = match layout {
        BinLayout::OpenEnded { edges } => {
            std::iter::once(0).chain(edges.iter().map(|&e| below(e))).chain(std::iter::once(sorted.len())).collect()
        }
        BinLayout::EqualWidth { edges } => {
            let (inner, last) = edges.split_at(edges.len() - 1);
            inner.iter().map(|&e| below(e)).chain(std::iter::once(at_or_below(last[0]))).collect()
        }
        BinLayout::DistinctValues { values } => {
            std::iter::once(0).chain(values.iter().map(|&v| at_or_below(v))).collect()
        }
    };
    cumulative.windows(2).map(|w| (w[1] - w[0]) as u64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::Side;

    fn sample(side: Side, values: &[f64]) -> NumericSample<'static> {
        NumericSample::new(side, values).unwrap()
    }

    #[test]
    fn quantile_bins_are_open_ended_and_closed_on_the_left() {
        let r = sample(Side::Reference, &[1.0, 2.0, 3.0, 4.0, 5.0]);
        let c = sample(Side::Current, &[-100.0, 2.0, 100.0, 100.0]);
        let binned = bin_shares(&r, &c, Binning::ReferenceQuantiles { bins: 2 }).unwrap();
        assert_eq!(binned.layout, BinLayout::OpenEnded { edges: vec![3.0] });
        assert_eq!(binned.shares.reference(), &[0.4, 0.6]);
        assert_eq!(binned.shares.current(), &[0.5, 0.5]);
    }

    #[test]
    fn tied_quantiles_merge_into_fewer_bins() {
        let r = sample(Side::Reference, &[7.0; 10]);
        let c = sample(Side::Current, &[6.0, 7.0, 8.0]);
        let binned = bin_shares(&r, &c, Binning::default()).unwrap();
        assert_eq!(binned.layout, BinLayout::OpenEnded { edges: vec![7.0] });
        assert_eq!(binned.shares.reference(), &[0.0, 1.0]);
        assert_eq!(binned.layout.bin_count(), 2);
    }

    #[test]
    fn zero_bins_are_rejected_and_one_bin_holds_everything() {
        let r = sample(Side::Reference, &[1.0, 2.0]);
        let c = sample(Side::Current, &[3.0]);
        assert_eq!(bin_shares(&r, &c, Binning::ReferenceQuantiles { bins: 0 }), Err(DriftError::NoBins));
        let one = bin_shares(&r, &c, Binning::ReferenceQuantiles { bins: 1 }).unwrap();
        assert_eq!((one.shares.reference(), one.shares.current()), (&[1.0][..], &[1.0][..]));
        assert_eq!(one.shares.psi(), 0.0);
    }

    #[test]
    fn evidently_mode_uses_one_bin_per_value_for_few_distinct_values() {
        let r = sample(Side::Reference, &[1.0, 1.0, 2.0]);
        let c = sample(Side::Current, &[2.0, 3.0]);
        let binned = bin_shares(&r, &c, Binning::EvidentlyCompatible).unwrap();
        assert_eq!(binned.layout, BinLayout::DistinctValues { values: vec![1.0, 2.0, 3.0] });
        assert_eq!(binned.shares.current(), &[0.0, 0.5, 0.5]);
    }

    #[test]
    fn distinct_values_are_those_of_sorting_both_samples_together() {
        let r = NumericSample::from_sorted(Side::Reference, vec![-1.0, -0.0, -0.0, 0.0, 2.0, 2.0]).unwrap();
        let c = NumericSample::from_sorted(Side::Current, vec![-3.0, 0.0, 0.0, 2.0, 5.0]).unwrap();
        // As before: the values of both samples sorted in total order, equal ones (== ) dropped.
        let mut expected: Vec<f64> = r.sorted().iter().chain(c.sorted()).copied().collect();
        expected.sort_by(f64::total_cmp);
        expected.dedup();
        let got = distinct_values(&r, &c);
        assert_eq!(
            got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            expected.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(got, [-3.0, -1.0, -0.0, 2.0, 5.0]);
        assert!(got[2].is_sign_negative());
        assert_eq!(distinct_values(&c, &r), got);
    }

    #[test]
    fn evidently_mode_uses_sturges_bins_over_the_pooled_range() {
        // 31 distinct reference values 0..=30 and 2 current values: N = 33, width 30/(log₂ 33 + 1)
        // ≈ 4.96, so ⌈6.04⌉ = 7 bins.
        let r: Vec<f64> = (0..=30).map(f64::from).collect();
        let c = [30.0, 30.0];
        let binned =
            bin_shares(&sample(Side::Reference, &r), &sample(Side::Current, &c), Binning::EvidentlyCompatible).unwrap();
        let BinLayout::EqualWidth { edges } = &binned.layout else { panic!("{:?}", binned.layout) };
        assert_eq!(edges.len(), 8);
        assert_eq!((edges[0], edges[7]), (0.0, 30.0));
        // The maximum falls in the last, closed bin.
        assert_eq!(binned.shares.current(), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    }
}
