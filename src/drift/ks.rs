//! The two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(reference, current)`
//! (two-sided, `method='auto'`).

use serde::Serialize;

use super::NumericSample;
use super::kolmogorov::kolmogorov_sf;

/// Up to this sample size (the larger of the two) the p-value is exact; above it, asymptotic.
/// SciPy's `MAX_AUTO_N`.
pub const KS_EXACT_MAX_SAMPLE_SIZE: usize = 10_000;

/// How the p-value of a [`KsTest`] was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    /// The exact null distribution of the two-sample statistic (lattice-path count), used when
    /// both samples have at most [`KS_EXACT_MAX_SAMPLE_SIZE`] values.
    Exact,
    /// `P(D_e ≥ D)` for the one-sample statistic with the effective size
    /// `e = round(n·m/(n+m))` (SciPy's `kstwo.sf(D, e)`, see
    /// [`kolmogorov_sf`](super::kolmogorov_sf)).
    Asymptotic,
}

/// Result of the two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KsTest {
    /// `D = max |F_ref(x) − F_cur(x)|` over the pooled values, the empirical CDFs counting values
    /// `≤ x` (so tied values are handled as SciPy does).
    pub statistic: f64,
    /// Probability of a statistic at least as large if both samples come from one continuous
    /// distribution. A p-value below the smallest `f64` is reported as 0; the statistic is kept.
    pub p_value: f64,
    pub method: KsMethod,
}

/// The two-sample Kolmogorov–Smirnov test of `reference` against `current`, as
/// `scipy.stats.ks_2samp` (two-sided, `method='auto'`): exact p-value when
/// `max(n, m) ≤ 10000`, otherwise `kstwo.sf(D, round(n·m/(n+m)))`.
///
/// With the exact method the statistic is `h/lcm(n, m)` for an integer `h`, as SciPy reports it.
pub fn ks_two_sample(reference: &NumericSample, current: &NumericSample) -> KsTest {
    let (r, c) = (reference.sorted(), current.sorted());
    let (n1, n2) = (r.len(), c.len());
    let distance = max_ecdf_distance(r, c);

    if n1.max(n2) <= KS_EXACT_MAX_SAMPLE_SIZE {
        let g = gcd(n1 as u128, n2 as u128);
        let lcm = n1 as u128 / g * n2 as u128;
        let h = distance.scaled / g;
        if h == 0 {
            return KsTest { statistic: 0.0, p_value: 1.0, method: KsMethod::Exact };
        }
        let p = exact_p_value(n1, n2, distance.scaled);
        KsTest { statistic: h as f64 / lcm as f64, p_value: p.clamp(0.0, 1.0), method: KsMethod::Exact }
    } else {
        let (m, n) = (n1 as f64, n2 as f64);
        let effective = (m * n / (m + n)).round_ties_even();
        let p = kolmogorov_sf(effective as u64, distance.float);
        KsTest { statistic: distance.float, p_value: p.clamp(0.0, 1.0), method: KsMethod::Asymptotic }
    }
}

/// The largest ECDF difference, both exactly and as SciPy computes it in floating point.
struct EcdfDistance {
    /// `max |i·m − j·n|` over the pooled values, where `i` and `j` count reference and current
    /// values `≤ x`: the statistic times `n·m`.
    scaled: u128,
    /// `max(max(i/n − j/m), max(j/m − i/n))` in `f64`, SciPy's statistic before the exact
    /// method rounds it to a multiple of `1/lcm(n, m)`.
    float: f64,
}

fn max_ecdf_distance(r: &[f64], c: &[f64]) -> EcdfDistance {
    let (n1, n2) = (r.len(), c.len());
    let (mut i, mut j) = (0usize, 0usize);
    let mut scaled = 0u128;
    let (mut max_plus, mut max_minus) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    while i < n1 || j < n2 {
        let x = match (r.get(i), c.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!("the loop condition keeps one side unfinished"),
        };
        while i < n1 && r[i] <= x {
            i += 1;
        }
        while j < n2 && c[j] <= x {
            j += 1;
        }
        let (a, b) = (i as u128 * n2 as u128, j as u128 * n1 as u128);
        scaled = scaled.max(a.abs_diff(b));
        let diff = i as f64 / n1 as f64 - j as f64 / n2 as f64;
        max_plus = max_plus.max(diff);
        max_minus = max_minus.max(-diff);
    }
    let max_minus = max_minus.clamp(0.0, 1.0);
    EcdfDistance { scaled, float: if max_minus > max_plus { max_minus } else { max_plus } }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Exact `P(D ≥ d)` under the null hypothesis, where `d·n1·n2 = bound`.
///
/// Under the null every interleaving of the two samples is equally likely, i.e. every monotone
/// lattice path from (0, 0) to (n1, n2), where a step right takes the next reference value and a
/// step up the next current value. The path's point (x, y) has ECDF difference
/// `(x·n2 − y·n1)/(n1·n2)`, so `D ≥ d` exactly when the path touches a point with
/// `|x·n2 − y·n1| ≥ bound`.
///
/// We walk the path forwards as an urn process — from (x, y) the next value is a reference value
/// with probability `(n1−x)/(n1+n2−x−y)` — carrying the probability of having reached each
/// inside point without leaving the band, and add up the probability that flows out of the
/// band. Every quantity is a positive probability, so small p-values keep their relative
/// accuracy. Cost: `O(n1 · width of the band)`.
fn exact_p_value(n1: usize, n2: usize, bound: u128) -> f64 {
    let (n1w, n2w) = (n1 as u128, n2 as u128);
    // Inside points of column x: lo(x) ≤ y ≤ hi(x), from |x·n2 − y·n1| < bound.
    let window = |x: usize| -> (usize, usize) {
        let xn2 = x as u128 * n2w;
        let lo = if xn2 < bound { 0 } else { (xn2 - bound) / n1w + 1 };
        let hi = ((xn2 + bound - 1) / n1w).min(n2w);
        (lo as usize, hi as usize)
    };
    let total = (n1 + n2) as f64;
    let mut previous = vec![0.0f64; n2 + 1];
    let mut column = vec![0.0f64; n2 + 1];
    let mut previous_window = (1usize, 0usize); // empty
    let mut outside = 0.0f64;

    for x in 0..=n1 {
        let (lo, hi) = window(x);
        let next_window = if x < n1 { Some(window(x + 1)) } else { None };
        for y in lo..=hi {
            let mut p = if x == 0 && y == 0 { 1.0 } else { 0.0 };
            if x > 0 && previous_window.0 <= y && y <= previous_window.1 {
                // A reference value taken at (x−1, y).
                p += previous[y] * (n1 - (x - 1)) as f64 / (total - (x - 1 + y) as f64);
            }
            if y > lo {
                // A current value taken at (x, y−1).
                p += column[y - 1] * (n2 - (y - 1)) as f64 / (total - (x + y - 1) as f64);
            }
            column[y] = p;
            if p == 0.0 {
                continue;
            }
            let remaining = total - (x + y) as f64;
            if y == hi && y < n2 {
                outside += p * (n2 - y) as f64 / remaining;
            }
            if let Some((next_lo, next_hi)) = next_window
                && (y < next_lo || y > next_hi)
            {
                outside += p * (n1 - x) as f64 / remaining;
            }
        }
        std::mem::swap(&mut previous, &mut column);
        previous_window = (lo, hi);
    }
    outside
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::Side;

    fn sample(side: Side, values: &[f64]) -> NumericSample {
        NumericSample::new(side, values).unwrap()
    }

    /// P(D ≥ d) by enumerating all interleavings of small samples.
    fn brute_force_p(n1: usize, n2: usize, bound: u128) -> f64 {
        let total = n1 + n2;
        let (mut hits, mut paths) = (0u64, 0u64);
        for mask in 0u32..(1 << total) {
            if mask.count_ones() as usize != n1 {
                continue;
            }
            paths += 1;
            let (mut x, mut y, mut max) = (0u128, 0u128, 0u128);
            for step in 0..total {
                if mask >> step & 1 == 1 {
                    x += 1;
                } else {
                    y += 1;
                }
                max = max.max((x * n2 as u128).abs_diff(y * n1 as u128));
            }
            if max >= bound {
                hits += 1;
            }
        }
        hits as f64 / paths as f64
    }

    #[test]
    fn exact_p_value_matches_enumeration() {
        for (n1, n2) in [(1, 1), (2, 3), (4, 4), (3, 7), (6, 5), (8, 6)] {
            for bound in 1..=(n1 * n2) as u128 {
                let expected = brute_force_p(n1, n2, bound);
                let got = exact_p_value(n1, n2, bound);
                assert!((got - expected).abs() < 1e-14, "n1={n1} n2={n2} bound={bound}: {got} vs {expected}");
            }
        }
    }

    #[test]
    fn identical_samples_have_zero_statistic() {
        let a = sample(Side::Reference, &[1.0, 2.0, 2.0, 3.0]);
        let test = ks_two_sample(&a, &a.clone());
        assert_eq!(test, KsTest { statistic: 0.0, p_value: 1.0, method: KsMethod::Exact });
    }

    #[test]
    fn ties_are_evaluated_after_the_whole_tie() {
        // ECDFs are compared at x = 1 after both 1s: (1/2 − 1/2) = 0, then at 2: 1 − 1/2.
        let r = sample(Side::Reference, &[1.0, 2.0]);
        let c = sample(Side::Current, &[1.0, 3.0]);
        assert_eq!(ks_two_sample(&r, &c).statistic, 0.5);
    }

    #[test]
    fn disjoint_samples_have_statistic_one_in_either_order() {
        let low = sample(Side::Reference, &[1.0, 2.0, 3.0]);
        let high = sample(Side::Current, &[4.0, 5.0]);
        let a = ks_two_sample(&low, &high);
        let b = ks_two_sample(&high, &low);
        assert_eq!(a.statistic, 1.0);
        assert_eq!(a, b);
        // Two of the C(5,2) = 10 interleavings separate the samples completely.
        assert!((a.p_value - 0.2).abs() < 1e-15);
    }

    #[test]
    fn underflowing_p_value_is_zero_and_keeps_the_statistic() {
        // Complete separation of 1000 + 1000 values: p = 2 / C(2000, 1000) ≈ 1e-600.
        let low: Vec<f64> = (0..1000).map(f64::from).collect();
        let high: Vec<f64> = (0..1000).map(|i| f64::from(i) + 5000.0).collect();
        let test = ks_two_sample(&sample(Side::Reference, &low), &sample(Side::Current, &high));
        assert_eq!(test, KsTest { statistic: 1.0, p_value: 0.0, method: KsMethod::Exact });
    }

    #[test]
    fn large_samples_use_the_asymptotic_distribution() {
        let r: Vec<f64> = (0..10_001).map(|i| i as f64).collect();
        let c: Vec<f64> = (0..10).map(|i| i as f64 * 1000.0 + 0.5).collect();
        let test = ks_two_sample(&sample(Side::Reference, &r), &sample(Side::Current, &c));
        assert_eq!(test.method, KsMethod::Asymptotic);
        assert!(test.p_value > 0.5, "{test:?}");
    }
}
