//! The two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(reference, current)`
//! (two-sided, `method='auto'`).

use std::hint::select_unpredictable;

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
pub fn ks_two_sample(reference: &NumericSample<'_>, current: &NumericSample<'_>) -> KsTest {
    let walk = ecdf_walk(reference.sorted(), current.sorted());
    ks_from_walk(reference.len(), current.len(), &walk)
}

/// The KS test from the ECDF walk of samples of `n1` (reference) and `n2` (current) values.
pub(super) fn ks_from_walk(n1: usize, n2: usize, walk: &EcdfWalk) -> KsTest {
    if n1.max(n2) <= KS_EXACT_MAX_SAMPLE_SIZE {
        let g = gcd(n1 as u128, n2 as u128);
        let lcm = n1 as u128 / g * n2 as u128;
        let h = walk.scaled / g;
        if h == 0 {
            return KsTest { statistic: 0.0, p_value: 1.0, method: KsMethod::Exact };
        }
        let p = if n1 == n2 { p_value_equal_sizes(n1, h) } else { exact_p_value(n1, n2, walk.scaled) };
        KsTest { statistic: h as f64 / lcm as f64, p_value: p.clamp(0.0, 1.0), method: KsMethod::Exact }
    } else {
        let (m, n) = (n1 as f64, n2 as f64);
        let effective = (m * n / (m + n)).round_ties_even();
        let p = kolmogorov_sf(effective as u64, walk.float);
        KsTest { statistic: walk.float, p_value: p.clamp(0.0, 1.0), method: KsMethod::Asymptotic }
    }
}

/// What one walk along the merge of two sorted samples finds: the largest ECDF difference (both
/// exactly and as SciPy computes it in floating point) and the Wasserstein-1 distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct EcdfWalk {
    /// `max |i·m − j·n|` over the pooled values, where `i` and `j` count reference and current
    /// values `≤ x`: the KS statistic times `n·m`.
    pub scaled: u128,
    /// `max(max(i/n − j/m), max(j/m − i/n))` in `f64`, SciPy's statistic before the exact
    /// method rounds it to a multiple of `1/lcm(n, m)`.
    pub float: f64,
    /// `∫ |F_ref(x) − F_cur(x)| dx`.
    pub wasserstein: f64,
}

/// Walks the merge of the ascending samples `r` (`n` values) and `c` (`m` values), both not
/// empty, once, and returns the KS distance and the Wasserstein-1 distance.
///
/// One pooled value is taken per step (a reference value first on a tie) and the walk keeps
/// `s = i·m − j·n` (plus `m` for a reference value, minus `n` for a current one: no
/// multiplication). ECDFs are compared after a whole run of equal values, i.e. where the next
/// pooled value is larger (`-0.0` and `+0.0` are one value). Between the pooled values `x` and
/// `x'`, `|F_ref − F_cur| = |s|/(n·m)`, so the Wasserstein integral is `Σ |s|·(x' − x) / (n·m)`;
/// inside a run the gap `x' − x` is zero, so every step can add its term. The floating-point
/// difference `i/n − j/m` is only computed where `|s|` reaches the largest value so far (ties
/// included), so the float statistic is the maximum SciPy takes (exactly, as long as `n·m` is
/// below about 10¹⁵; within an ulp beyond).
///
/// Each step waits for the comparison of the step before (load, compare, advance), so the walk
/// runs as two interleaved streams, cut between runs of equal values near the middle, whose
/// maxima and areas are joined at the end. `s` is an `i64` while `n·m` fits (an `i128` beyond).
pub(super) fn ecdf_walk(r: &[f64], c: &[f64]) -> EcdfWalk {
    assert!(!r.is_empty() && !c.is_empty(), "samples are not empty");
    match (r.len() as u64).checked_mul(c.len() as u64) {
        Some(nm) if nm <= i64::MAX as u64 => walk::<i64>(r, c),
        _ => walk::<i128>(r, c),
    }
}

/// The integer type of `s`: `i64` while `n·m` fits, `i128` beyond.
trait Lattice:
    Copy
    + Ord
    + std::ops::AddAssign
    + std::ops::Neg<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Sub<Output = Self>
{
    const ZERO: Self;
    fn from_count(n: usize) -> Self;
    fn abs_f64(self) -> f64;
    fn to_u128(self) -> u128;
}

impl Lattice for i64 {
    const ZERO: Self = 0;
    #[inline]
    fn from_count(n: usize) -> Self {
        n as i64
    }
    #[inline]
    fn abs_f64(self) -> f64 {
        // |s| ≤ n·m ≤ i64::MAX here: a signed conversion (one instruction) is exact enough.
        self.abs() as f64
    }
    #[inline]
    fn to_u128(self) -> u128 {
        self as u128
    }
}

impl Lattice for i128 {
    const ZERO: Self = 0;
    #[inline]
    fn from_count(n: usize) -> Self {
        n as i128
    }
    #[inline]
    fn abs_f64(self) -> f64 {
        self.unsigned_abs() as f64
    }
    #[inline]
    fn to_u128(self) -> u128 {
        self as u128
    }
}

/// The running maxima of the KS distance.
#[derive(Clone, Copy)]
struct Maxima<T> {
    /// Largest `s` and `−s` so far (at least 0: the walk ends at `s = 0`).
    plus: T,
    minus: T,
    /// SciPy's float differences at those points.
    float_plus: f64,
    float_minus: f64,
}

impl<T: Lattice> Maxima<T> {
    const NONE: Self = Self { plus: T::ZERO, minus: T::ZERO, float_plus: 0.0, float_minus: 0.0 };

    /// Whether the ECDF point with difference `s` can raise (or tie) a maximum.
    #[inline(always)]
    fn reaches(&self, s: T) -> bool {
        s >= self.plus || -s >= self.minus
    }

    /// The maxima after the ECDF point with counts `i`, `j` (of `n1`, `n2`) and difference `s`
    /// (by value: the walk's state stays in registers).
    #[cold]
    #[inline(never)]
    fn record(mut self, s: T, i: usize, j: usize, n1: usize, n2: usize) -> Self {
        let diff = i as f64 / n1 as f64 - j as f64 / n2 as f64;
        if s >= self.plus {
            self.plus = s;
            self.float_plus = self.float_plus.max(diff);
        }
        if -s >= self.minus {
            self.minus = -s;
            self.float_minus = self.float_minus.max(-diff);
        }
        self
    }

    /// The maxima of two parts of one walk: a float difference counts where its part holds the
    /// larger integer maximum (both on a tie).
    fn join(self, other: Self) -> Self {
        let pick = |a: T, fa: f64, b: T, fb: f64| match a.cmp(&b) {
            std::cmp::Ordering::Greater => (a, fa),
            std::cmp::Ordering::Less => (b, fb),
            std::cmp::Ordering::Equal => (a, fa.max(fb)),
        };
        let (plus, float_plus) = pick(self.plus, self.float_plus, other.plus, other.float_plus);
        let (minus, float_minus) = pick(self.minus, self.float_minus, other.minus, other.float_minus);
        Self { plus, minus, float_plus, float_minus }
    }
}

/// One part of the walk: a run of consecutive pooled values, from counts `(i, j)` on.
#[derive(Clone, Copy)]
struct Stream<T> {
    i: usize,
    j: usize,
    /// `i·m − j·n`.
    s: T,
    /// The next reference and current values, `r[i]` and `c[j]`, and the smaller of them.
    a: f64,
    b: f64,
    low: f64,
    /// `Σ |s|·gap`, to be divided by `n·m`.
    area: f64,
    maxima: Maxima<T>,
}

impl<T: Lattice> Stream<T> {
    /// A part starting after the first `i` reference and `j` current values (`i < n`, `j < m`).
    #[inline(always)]
    fn at(r: &[f64], c: &[f64], i: usize, j: usize) -> Self {
        let s = T::from_count(i) * T::from_count(c.len()) - T::from_count(j) * T::from_count(r.len());
        let (a, b) = (r[i], c[j]);
        let low = if a <= b { a } else { b };
        Self { i, j, s, a, b, low, area: 0.0, maxima: Maxima::NONE }
    }

    /// Takes the next value (a reference value on a tie) and, unless that used up a sample
    /// (then false), weighs the point it leaves.
    #[inline(always)]
    fn step(&mut self, r: &[f64], c: &[f64], up: T, down: T) -> bool {
        // As unpredictable as the data: selects, not branches.
        let take_reference = self.a <= self.b;
        let x = self.low;
        self.i += usize::from(take_reference);
        self.j += usize::from(!take_reference);
        self.s += select_unpredictable(take_reference, up, down);
        if self.i == r.len() || self.j == c.len() {
            return false;
        }
        (self.a, self.b) = (r[self.i], c[self.j]);
        self.low = select_unpredictable(self.a <= self.b, self.a, self.b);
        let gap = self.low - x;
        self.area += self.s.abs_f64() * gap;
        if gap > 0.0 && self.maxima.reaches(self.s) {
            self.maxima = self.maxima.record(self.s, self.i, self.j, r.len(), c.len());
        }
        true
    }

    /// After a sample is used up (`step` returned false): the rest of the other one.
    #[inline(always)]
    fn finish(&mut self, r: &[f64], c: &[f64], up: T, down: T) {
        let from_reference = self.i < r.len();
        let (rest, step) = if from_reference { (&r[self.i..], up) } else { (&c[self.j..], down) };
        let mut taken = self.low;
        for &x in rest {
            let gap = x - taken;
            self.area += self.s.abs_f64() * gap;
            if gap > 0.0 && self.maxima.reaches(self.s) {
                self.maxima = self.maxima.record(self.s, self.i, self.j, r.len(), c.len());
            }
            self.s += step;
            self.i += usize::from(from_reference);
            self.j += usize::from(!from_reference);
            taken = x;
        }
        debug_assert!(self.s == T::ZERO && self.i == r.len() && self.j == c.len());
    }
}

/// Where to cut the walk in two for two independent streams: counts `(i, j)` of the values below
/// a pooled value near the middle, so that no run of equal values is cut and both samples still
/// have a value there. `None` when no such cut exists.
fn split_point(r: &[f64], c: &[f64]) -> Option<(usize, usize)> {
    if r.is_empty() || c.is_empty() {
        return None;
    }
    let half = (r.len() + c.len()) / 2;
    [r[r.len() / 2], c[c.len() / 2]]
        .into_iter()
        .map(|x| (r.partition_point(|&v| v < x), c.partition_point(|&v| v < x)))
        .filter(|&(i, j)| i + j > 0 && i < r.len() && j < c.len())
        .min_by_key(|&(i, j)| (i + j).abs_diff(half))
}

fn walk<T: Lattice + Send + Sync>(r: &[f64], c: &[f64]) -> EcdfWalk {
    if r.len() + c.len() >= super::PARALLEL_MIN_VALUES
        && let Some(cuts) = quarter_cuts(r, c)
    {
        return walk_parallel::<T>(r, c, cuts);
    }
    walk_split::<T>(r, c, split_point(r, c))
}

/// Three cuts at about a quarter, a half and three quarters of the pooled values, each as
/// [`split_point`] makes them (ascending, no run of equal values cut, both samples with values
/// after each); `None` when one of them does not exist.
fn quarter_cuts(r: &[f64], c: &[f64]) -> Option<[(usize, usize); 3]> {
    let (i2, j2) = split_point(r, c)?;
    let (i1, j1) = split_point(&r[..i2], &c[..j2])?;
    let (i3, j3) = split_point(&r[i2..], &c[j2..])?;
    Some([(i1, j1), (i2, j2), (i2 + i3, j2 + j3)])
}

/// The walk in four streams: the first half's two on a second thread, the second half's two on
/// this one.
fn walk_parallel<T: Lattice + Send + Sync>(r: &[f64], c: &[f64], [q1, q2, q3]: [(usize, usize); 3]) -> EcdfWalk {
    let (up, down) = (T::from_count(c.len()), -T::from_count(r.len()));
    let steps = |(i, j): (usize, usize), (k, l): (usize, usize)| (k + l) - (i + j);
    let ((first_area, first), (second_area, second)) = super::join(
        true,
        || two_streams::<T>(r, c, (up, down), ((0, 0), steps((0, 0), q1)), (q1, Some(steps(q1, q2)))),
        || two_streams::<T>(r, c, (up, down), (q2, steps(q2, q3)), (q3, None)),
    );
    ecdf_result(r, c, first_area + second_area, first.join(second))
}

/// Two parts of the walk interleaved: the first from counts `a.0` for `a.1` steps, the second
/// from `b.0` for `b.1` steps or, `None`, to the end. A part given a number of steps ends before
/// a cut where both samples still have values, so it never uses one up.
fn two_streams<T: Lattice>(
    r: &[f64],
    c: &[f64],
    (up, down): (T, T),
    a: ((usize, usize), usize),
    b: ((usize, usize), Option<usize>),
) -> (f64, Maxima<T>) {
    let mut first = Stream::<T>::at(r, c, a.0.0, a.0.1);
    let mut second = Stream::<T>::at(r, c, b.0.0, b.0.1);
    let (first_steps, second_steps) = (a.1, b.1.unwrap_or(usize::MAX));
    let (mut k, mut second_open) = (0, true);
    // Each step waits for the comparison before it (a load, a compare, an add), so two
    // independent streams run in the time of one.
    while k < first_steps && k < second_steps && second_open {
        let first_open = first.step(r, c, up, down);
        debug_assert!(first_open);
        second_open = second.step(r, c, up, down);
        k += 1;
    }
    for _ in k..first_steps {
        let first_open = first.step(r, c, up, down);
        debug_assert!(first_open);
    }
    let mut taken = k;
    while taken < second_steps && second_open {
        second_open = second.step(r, c, up, down);
        taken += 1;
    }
    if b.1.is_none() {
        second.finish(r, c, up, down);
    } else {
        debug_assert!(second_open, "a part with a number of steps does not use a sample up");
    }
    (first.area + second.area, first.maxima.join(second.maxima))
}

/// The walk, in two streams cut at `split` (from [`split_point`]) or in one.
fn walk_split<T: Lattice>(r: &[f64], c: &[f64], split: Option<(usize, usize)>) -> EcdfWalk {
    // s changes by +up for a reference value and by −down for a current one.
    let (up, down) = (T::from_count(c.len()), -T::from_count(r.len()));
    let (area, maxima) = match split {
        Some((i, j)) => two_streams::<T>(r, c, (up, down), ((0, 0), i + j), ((i, j), None)),
        None => {
            let mut only = Stream::<T>::at(r, c, 0, 0);
            while only.step(r, c, up, down) {}
            only.finish(r, c, up, down);
            (only.area, only.maxima)
        }
    };
    ecdf_result(r, c, area, maxima)
}

/// The walk's findings from its area and maxima.
fn ecdf_result<T: Lattice>(r: &[f64], c: &[f64], area: f64, maxima: Maxima<T>) -> EcdfWalk {
    let (n1, n2) = (r.len(), c.len());
    let mut wasserstein = area / (n1 as f64 * n2 as f64);
    if !wasserstein.is_finite() {
        // |s|·gap overflowed where |s|/(n·m)·gap may not: the textbook sum.
        wasserstein = wasserstein_by_cdf_differences(r, c);
    }
    let float_minus = maxima.float_minus.clamp(0.0, 1.0);
    EcdfWalk {
        scaled: maxima.plus.max(maxima.minus).to_u128(),
        float: if float_minus > maxima.float_plus { float_minus } else { maxima.float_plus },
        wasserstein,
    }
}

/// `Σ |i/n − j/m|·(x' − x)` over consecutive distinct pooled values, SciPy's terms (summed in
/// order; SciPy sums them pairwise): the fallback when the scaled sum overflows, and what the
/// tests compare the walk with.
fn wasserstein_by_cdf_differences(r: &[f64], c: &[f64]) -> f64 {
    let (n1, n2) = (r.len() as f64, c.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    let mut previous = f64::NAN;
    while i < r.len() || j < c.len() {
        let x = match (r.get(i), c.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!("the loop condition keeps one side unfinished"),
        };
        if i + j > 0 {
            total += (i as f64 / n1 - j as f64 / n2).abs() * (x - previous);
        }
        while i < r.len() && r[i] <= x {
            i += 1;
        }
        while j < c.len() && c[j] <= x {
            j += 1;
        }
        previous = x;
    }
    total
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Exact `P(D ≥ h/n)` for two samples of `n` values each (`h ≥ 1`), as SciPy's
/// `_compute_prob_outside_square`: by the reflection principle, the share of lattice paths that
/// touch either line `|x − y| = h` is `2·Σ_{k≥1} (−1)^{k+1}·a_k` with
/// `a_k = C(2n, n−kh)/C(2n, n)`, summed from the last term inwards as
/// `a_1·(1 − (a_2/a_1)·(1 − (a_3/a_2)·(1 − …)))`; each ratio `a_{k+1}/a_k` is a product of `h`
/// factors. Cost `O(n)` where [`exact_p_value`] walks `O(n · h)` lattice points (0.3 s for the
/// eleven numeric columns of the bench's 10,000-row windows).
fn p_value_equal_sizes(n: usize, h: u128) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        // a_{k+1}/a_k (a_0 = 1); a factor 0 once n − kh − j reaches 0: a_{k+1} is 0 then.
        let mut ratio = 1.0;
        let mut j = 0.0;
        while j < h {
            ratio = (n - k * h - j) * ratio / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = ratio * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
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
            // Both ways into (x, y) leave x + y − 1 values to draw from: one division.
            let mut weighted = 0.0;
            if x > 0 && previous_window.0 <= y && y <= previous_window.1 {
                // A reference value taken at (x−1, y).
                weighted += previous[y] * (n1 - (x - 1)) as f64;
            }
            if y > lo {
                // A current value taken at (x, y−1).
                weighted += column[y - 1] * (n2 - (y - 1)) as f64;
            }
            let p = if x == 0 && y == 0 { 1.0 } else { weighted / (total - (x + y - 1) as f64) };
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
    use proptest::prelude::*;

    use super::*;
    use crate::drift::{Side, sort_total_order};

    fn sample(side: Side, values: &[f64]) -> NumericSample<'static> {
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
                if n1 == n2 && bound % n1 as u128 == 0 {
                    let square = p_value_equal_sizes(n1, bound / n1 as u128);
                    assert!((square - expected).abs() < 1e-14, "n={n1} bound={bound}: {square} vs {expected}");
                }
            }
        }
    }

    #[test]
    fn the_equal_size_formula_agrees_with_the_lattice_walk() {
        for n in [1usize, 2, 9, 10, 57, 100, 333, 1000] {
            for h in (1..=n as u128).step_by(n.div_ceil(60)) {
                let (square, walk) = (p_value_equal_sizes(n, h), exact_p_value(n, n, h * n as u128));
                let tolerance = 1e-13 * walk.max(f64::MIN_POSITIVE / 1e-13);
                assert!((square - walk).abs() <= tolerance, "n={n} h={h}: {square} vs {walk}");
            }
        }
    }

    /// The walk as it was: both ECDFs advanced over each distinct pooled value, `u128` products
    /// and the float difference at every point.
    fn ecdf_distance_by_steps(r: &[f64], c: &[f64]) -> (u128, f64) {
        let (n1, n2) = (r.len(), c.len());
        let (mut i, mut j) = (0usize, 0usize);
        let mut scaled = 0u128;
        let (mut max_plus, mut max_minus) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        while i < n1 || j < n2 {
            let x = match (r.get(i), c.get(j)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (None, None) => unreachable!(),
            };
            while i < n1 && r[i] <= x {
                i += 1;
            }
            while j < n2 && c[j] <= x {
                j += 1;
            }
            scaled = scaled.max((i as u128 * n2 as u128).abs_diff(j as u128 * n1 as u128));
            let diff = i as f64 / n1 as f64 - j as f64 / n2 as f64;
            max_plus = max_plus.max(diff);
            max_minus = max_minus.max(-diff);
        }
        let max_minus = max_minus.clamp(0.0, 1.0);
        (scaled, if max_minus > max_plus { max_minus } else { max_plus })
    }

    fn check_walk(r: &[f64], c: &[f64]) -> Result<(), TestCaseError> {
        let mut r = r.to_vec();
        let mut c = c.to_vec();
        r.sort_unstable_by(f64::total_cmp);
        c.sort_unstable_by(f64::total_cmp);
        let found = ecdf_walk(&r, &c);
        let (scaled, float) = ecdf_distance_by_steps(&r, &c);
        prop_assert_eq!(found.scaled, scaled);
        prop_assert_eq!(found.float.to_bits(), float.to_bits(), "{} vs {}", found.float, float);
        let expected = wasserstein_by_cdf_differences(&r, &c);
        prop_assert!(
            (found.wasserstein - expected).abs() <= 1e-13 * expected.abs().max(f64::MIN_POSITIVE),
            "Wasserstein {} vs {}",
            found.wasserstein,
            expected
        );
        // The 128-bit walk finds the same.
        prop_assert_eq!(walk::<i128>(&r, &c), found);
        // So does the walk in one stream, or cut anywhere between runs of equal values (the
        // area summed in another order).
        let pooled: Vec<f64> = r.iter().chain(&c).copied().collect();
        let cuts = pooled
            .iter()
            .step_by(pooled.len().div_ceil(16))
            .map(|&x| (r.partition_point(|&v| v < x), c.partition_point(|&v| v < x)));
        for split in cuts.filter(|&(i, j)| i + j > 0 && i < r.len() && j < c.len()).map(Some).chain([None]) {
            let other = walk_split::<i64>(&r, &c, split);
            prop_assert_eq!((other.scaled, other.float.to_bits()), (found.scaled, found.float.to_bits()));
            prop_assert!(
                (other.wasserstein - found.wasserstein).abs() <= 1e-13 * found.wasserstein,
                "{:?}: {} vs {}",
                split,
                other.wasserstein,
                found.wasserstein
            );
        }
        Ok(())
    }

    fn pooled_value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -1e3f64..1e3,
            3 => (-4i32..4).prop_map(f64::from),
            1 => Just(-0.0),
            1 => Just(0.0),
        ]
    }

    proptest! {
        #[test]
        fn one_walk_finds_what_the_separate_walks_found(
            r in prop::collection::vec(pooled_value(), 1..300),
            c in prop::collection::vec(pooled_value(), 1..300),
        ) {
            check_walk(&r, &c)?;
        }
    }

    #[test]
    fn one_walk_agrees_on_large_and_lopsided_samples() {
        let value = |i: usize, k: usize| ((i * k) % 1009) as f64 * 0.37 - 150.0 + (i % 3) as f64 * 1e-9;
        for (n1, n2) in [(1, 1), (1, 50_000), (50_000, 1), (20_001, 30_000), (100_000, 99_999)] {
            let r: Vec<f64> = (0..n1).map(|i| value(i, 7919)).collect();
            let c: Vec<f64> = (0..n2).map(|i| value(i, 104_729) + 3.0).collect();
            check_walk(&r, &c).unwrap();
        }
    }

    #[test]
    fn the_walk_on_two_threads_finds_what_one_stream_finds() {
        let value = |i: usize, k: usize| ((i * k) % 1009) as f64 * 0.37 - 150.0 + (i % 3) as f64 * 1e-9;
        let few = |i: usize, k: usize| ((i * k) % 7) as f64; // long runs of equal values
        let sizes = [(150_000, 140_001), (262_144, 1), (3, 300_000), (200_000, 200_000)];
        for (n1, n2) in sizes {
            for v in [value, few] {
                let mut r: Vec<f64> = (0..n1).map(|i| v(i, 7919)).collect();
                let mut c: Vec<f64> = (0..n2).map(|i| v(i, 104_729) + 0.5).collect();
                sort_total_order(&mut r);
                sort_total_order(&mut c);
                if n1.min(n2) > 100 {
                    assert!(quarter_cuts(&r, &c).is_some(), "{n1} + {n2} values are walked on two threads");
                }
                check_walk(&r, &c).unwrap();
            }
        }
    }

    #[test]
    fn an_overflowing_scaled_area_falls_back_to_the_cdf_sum() {
        let r = NumericSample::new(Side::Reference, &[-1e308, 0.0, 1e308]).unwrap();
        let c = NumericSample::new(Side::Current, &[1e308; 5]).unwrap();
        let walk = ecdf_walk(r.sorted(), c.sorted());
        assert_eq!(walk.wasserstein, wasserstein_by_cdf_differences(r.sorted(), c.sorted()));
        assert!(walk.wasserstein.is_finite());
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
