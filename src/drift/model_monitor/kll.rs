//! The numeric distribution of `statistics.json`: the 10 equal-width buckets from min to max and a
//! KLL-shaped sketch, built deterministically from ascending weighted values
//! (docs/model-monitor.md, "The sketch").

use serde::{Deserialize, Serialize};

/// One bucket of the histogram: values in [lower_bound, upper_bound), the last bucket closed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KllBucket {
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub count: f64,
}

/// Deequ's KLL shrinking factor, written as the sketch's `c`.
pub const KLL_C: f64 = 0.64;
/// Deequ's KLL sketch size, written as the sketch's `k`: the top level holds at most `k` items.
pub const KLL_K: u64 = 2048;
/// Buckets of the histogram (Model Monitor's, not configurable).
pub const HISTOGRAM_BUCKETS: usize = 10;

/// The compactor levels of a sketch of `values` (ascending, weighted, `n` in all): with `L` the
/// smallest level such that n ≤ k·2^L, level `L` holds the values of rank 2^L, 2·2^L, … (every
/// 2^L-th), and the remaining n mod 2^L values, taken by the binary digits of that remainder from
/// the highest, each give one item at level h standing for the 2^h values up to its rank. The
/// total weight (an item of level h weighs 2^h) is exactly n; the CDF read from the levels is
/// within 2^L/n ≤ 1/k of the values' own. Below k values: one level holding every value.
pub fn kll_levels(values: impl Iterator<Item = (f64, u64)>, n: u64, k: u64) -> Vec<Vec<f64>> {
    let k = u128::from(k.max(1));
    let mut top = 0u32;
    while u128::from(n) > k << top {
        top += 1;
    }
    // The ranks (1-based) each item stands at, ascending, with the level it goes to.
    let step = 1u64 << top;
    let full = n / step;
    let mut targets: Vec<(u64, usize)> = (1..=full).map(|j| (j * step, top as usize)).collect();
    let mut end = full * step;
    for h in (0..top).rev() {
        if (n - full * step) & (1 << h) != 0 {
            end += 1 << h;
            targets.push((end, h as usize));
        }
    }
    let mut levels = vec![Vec::new(); top as usize + 1];
    let mut targets = targets.into_iter().peekable();
    let mut seen = 0u64;
    for (value, weight) in values {
        seen += weight;
        while let Some(&(rank, level)) = targets.peek() {
            if rank > seen {
                break;
            }
            levels[level].push(value);
            targets.next();
        }
    }
    levels
}

/// Model Monitor's histogram: bucket i spans min + (max − min)·i/10 to min + (max − min)·(i+1)/10
/// (the edges computed in that order, as Deequ does), counts values in [lower, upper), the last
/// bucket closed.
pub fn equal_width_buckets(values: impl Iterator<Item = (f64, u64)>, min: f64, max: f64) -> Vec<KllBucket> {
    let width = max - min;
    let edge = |i: usize| min + width * i as f64 / HISTOGRAM_BUCKETS as f64;
    let mut buckets: Vec<KllBucket> = (0..HISTOGRAM_BUCKETS)
        .map(|i| KllBucket { lower_bound: edge(i), upper_bound: edge(i + 1), count: 0.0 })
        .collect();
    let mut counts = [0u64; HISTOGRAM_BUCKETS];
    for (value, weight) in values {
        let last = HISTOGRAM_BUCKETS - 1;
        let found = buckets
            .iter()
            .position(|b| b.lower_bound <= value && value < b.upper_bound)
            .or_else(|| (buckets[last].lower_bound <= value && value <= buckets[last].upper_bound).then_some(last));
        if let Some(i) = found {
            counts[i] += weight;
        }
    }
    for (bucket, count) in buckets.iter_mut().zip(counts) {
        bucket.count = count as f64;
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weight(levels: &[Vec<f64>]) -> u64 {
        levels.iter().enumerate().map(|(h, items)| (items.len() as u64) << h).sum()
    }

    /// The largest |F_sketch(x) − F(x)| over the values, in ranks.
    fn rank_error(values: &[f64], levels: &[Vec<f64>]) -> u64 {
        values
            .iter()
            .map(|&x| {
                let exact = values.iter().filter(|&&v| v <= x).count() as u64;
                let sketch: u64 = levels
                    .iter()
                    .enumerate()
                    .map(|(h, items)| (items.iter().filter(|&&v| v <= x).count() as u64) << h)
                    .sum();
                exact.abs_diff(sketch)
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn below_k_values_one_level_holds_every_value() {
        let values = [1.0, 2.0, 2.0, 5.0];
        let levels = kll_levels(values.iter().map(|&v| (v, 1)), 4, 2048);
        assert_eq!(levels, vec![vec![1.0, 2.0, 2.0, 5.0]]);
    }

    #[test]
    fn past_k_the_levels_weigh_exactly_n_and_stay_within_the_top_weight_of_the_cdf() {
        for n in [9u64, 16, 17, 23, 100, 257] {
            let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % 101) as f64).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let k = 4;
            let levels = kll_levels(sorted.iter().map(|&v| (v, 1)), n, k);
            let top = levels.len() - 1;
            assert_eq!(weight(&levels), n, "n = {n}");
            assert!(levels[top].len() as u64 <= k, "n = {n}: {levels:?}");
            assert!(rank_error(&sorted, &levels) < 1 << top, "n = {n}: {levels:?}");
            // Weighted runs give the same levels as the repeated values.
            let mut runs: Vec<(f64, u64)> = Vec::new();
            for &v in &sorted {
                match runs.last_mut() {
                    Some((last, w)) if *last == v => *w += 1,
                    _ => runs.push((v, 1)),
                }
            }
            assert_eq!(kll_levels(runs.into_iter(), n, k), levels);
        }
        // 9 values, k 4: level 2 holds ranks 4 and 8; the 1 left over is rank 9 at level 0.
        let levels = kll_levels((1..=9).map(|v| (v as f64, 1)), 9, 4);
        assert_eq!(levels, vec![vec![9.0], vec![], vec![4.0, 8.0]]);
    }

    #[test]
    fn buckets_split_min_to_max_in_ten_and_close_the_last() {
        let values = [0.0, 1.0, 9.99, 10.0];
        let buckets = equal_width_buckets(values.iter().map(|&v| (v, 1)), 0.0, 10.0);
        assert_eq!(buckets.len(), 10);
        assert_eq!((buckets[0].lower_bound, buckets[0].upper_bound, buckets[0].count), (0.0, 1.0, 1.0));
        assert_eq!(buckets[1].count, 1.0);
        assert_eq!((buckets[9].upper_bound, buckets[9].count), (10.0, 2.0));
        let one = equal_width_buckets([(3.0, 5)].into_iter(), 3.0, 3.0);
        assert_eq!(one.iter().map(|b| b.count).collect::<Vec<_>>(), [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0]);
    }
}
