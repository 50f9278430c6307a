//! A mergeable, bounded-memory summary of a numeric column, and drift statistics over it with
//! stated error bounds.
//!
//! [`LogHistogram`] counts finite values per *log-linear bucket*: a bucket is every `f64` that
//! shares the sign, the exponent and the top `precision` mantissa bits, so a bucket's width is at
//! most `2^-precision` of its values' magnitude (0.78 % at the default precision 7). Buckets come
//! from the bit pattern, not from a logarithm, which makes the mapping exactly monotone and the
//! same on every platform: counts merge by addition, so merging is exact, associative and
//! commutative, and a sketch of a window split into shards is *identical* to the sketch of the
//! whole window. Memory grows with the number of occupied buckets (at most
//! `2 · 2046 · 2^precision`, in practice a few thousand), never with the number of rows.
//!
//! Guarantees of the statistics computed from two sketches (`p₁ₖ`, `p₂ₖ` the shares of the
//! reference and current values in bucket `k`, `wₖ` the bucket's width):
//! * **Kolmogorov–Smirnov**: the exact statistic `D` satisfies
//!   `D_sketch ≤ D ≤ D_sketch + maxₖ max(p₁ₖ, p₂ₖ)` ([`SketchKs::error_bound`]).
//! * **Wasserstein-1**: `|W_sketch − W| ≤ Σₖ (p₁ₖ + p₂ₖ) · wₖ` ([`SketchWasserstein::error_bound`]):
//!   each value moves at most its bucket's width to the bucket's representative point.
//! * **PSI / Jensen–Shannon**: computed *exactly* over bins whose edges are bucket boundaries; the
//!   edges are the sketch's reference quantiles, each within one bucket (relative `2^-precision`)
//!   of the exact quantile, so a bin's reference share differs from its target share `1/bins` by
//!   at most the share of the two buckets at its edges ([`SketchPsi::edge_share_error`]).
//!
//! Why not a sketch crate: the bounds above need each sketch's *buckets* (their boundaries and
//! counts), and the merge must be exact so that the reduce does not depend on the order partials
//! arrive in. The maintained quantile-sketch crates offer neither: KLL and t-digest
//! implementations compact randomly or by insertion order (another merge order, another sketch);
//! the DDSketch crates (`sketches-ddsketch` 0.4, `ddsketchy` 0.1, `sketches-rust` 0.2, checked
//! 2026-11) answer quantile queries only — their stores are private, so neither the KS statistic
//! nor its bound can be computed from them — map values with a floating-point logarithm (not
//! guaranteed monotone at bucket edges) and collapse buckets past a size limit (`sketches-ddsketch`
//! also decodes its portable encoding into a 2,048-bin collapsing store); `hdrhistogram` buckets
//! `u64` values only, and so does `histogram` 1.x (its value-to-bucket index is crate-private,
//! and a dense histogram covering the `f64` range at this resolution would need ~24 M buckets).
//! Bucketing by the bits of the `f64` is a few lines and gives all the properties the bounds rely
//! on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kolmogorov::kolmogorov_sf;
use super::{DriftError, Shares, Side};

/// Mantissa bits kept per bucket by default: buckets 0.78 % wide.
pub const DEFAULT_SKETCH_PRECISION: u8 = 7;
/// The largest supported precision (buckets of relative width 2⁻²⁰ ≈ 1e-6).
pub const MAX_SKETCH_PRECISION: u8 = 20;

const SIGN: u64 = 1 << 63;

/// Why a sketch cannot be built, merged or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SketchError {
    #[error("sketch precision must be 1..={MAX_SKETCH_PRECISION} mantissa bits, not {0}")]
    Precision(u8),
    #[error("cannot merge a sketch of precision {theirs} into one of precision {ours}")]
    PrecisionMismatch { ours: u8, theirs: u8 },
    #[error("the sketch is inconsistent: {0}")]
    Inconsistent(String),
}

/// Counts of finite values per log-linear bucket (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SketchRepr", into = "SketchRepr")]
pub struct LogHistogram {
    precision: u8,
    counts: BTreeMap<u32, u64>,
    count: u64,
    /// Smallest and largest value (by total order), exact; `None` when empty.
    range: Option<(f64, f64)>,
}

impl LogHistogram {
    /// An empty sketch keeping `precision` mantissa bits per bucket (1..=20).
    pub fn new(precision: u8) -> Result<Self, SketchError> {
        if !(1..=MAX_SKETCH_PRECISION).contains(&precision) {
            return Err(SketchError::Precision(precision));
        }
        Ok(Self { precision, counts: BTreeMap::new(), count: 0, range: None })
    }

    /// A sketch of `values`' finite values (others are skipped: count them with
    /// [`DataQuality`](super::DataQuality)).
    pub fn from_values(precision: u8, values: &[f64]) -> Result<Self, SketchError> {
        let mut sketch = Self::new(precision)?;
        for &v in values {
            sketch.insert(v);
        }
        Ok(sketch)
    }

    pub fn precision(&self) -> u8 {
        self.precision
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Occupied buckets: the sketch's size.
    pub fn bucket_count(&self) -> usize {
        self.counts.len()
    }

    /// The exact smallest and largest value counted.
    pub fn range(&self) -> Option<(f64, f64)> {
        self.range
    }

    /// Counts `value` if it is finite; returns whether it was counted.
    pub fn insert(&mut self, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        *self.counts.entry(bucket_of(value, self.precision)).or_insert(0) += 1;
        self.count += 1;
        self.range = Some(match self.range {
            None => (value, value),
            Some((lo, hi)) => (min_total(lo, value), max_total(hi, value)),
        });
        true
    }

    /// Counts the finite values of `values`, as [`insert`](Self::insert) of each would, with one
    /// map update per bucket rather than per value (the buckets of the batch are counted in a
    /// dense array when their span is small, else sorted).
    pub fn extend(&mut self, values: &[f64]) {
        let mut keys: Vec<u32> = Vec::with_capacity(values.len());
        let mut range = self.range;
        for &value in values.iter().filter(|v| v.is_finite()) {
            keys.push(bucket_of(value, self.precision));
            range = Some(match range {
                None => (value, value),
                Some((lo, hi)) => (min_total(lo, value), max_total(hi, value)),
            });
        }
        let (Some(&low), Some(&high)) = (keys.iter().min(), keys.iter().max()) else { return };
        self.range = range;
        self.count += keys.len() as u64;
        let span = (high - low) as usize + 1;
        if span <= keys.len().max(1 << 12) {
            let mut dense = vec![0u64; span];
            for &k in &keys {
                dense[(k - low) as usize] += 1;
            }
            for (offset, n) in dense.into_iter().enumerate().filter(|&(_, n)| n > 0) {
                *self.counts.entry(low + offset as u32).or_insert(0) += n;
            }
        } else {
            keys.sort_unstable();
            for run in keys.chunk_by(|a, b| a == b) {
                *self.counts.entry(run[0]).or_insert(0) += run.len() as u64;
            }
        }
    }

    /// The non-empty buckets and their counts, in increasing order of their values (the bucket map
    /// is monotone), for walks over two sketches of one precision.
    pub fn buckets(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.counts.iter().map(|(&bucket, &n)| (bucket, n))
    }

    /// Adds `other`'s counts: exact, associative and commutative.
    pub fn merge(&mut self, other: &LogHistogram) -> Result<(), SketchError> {
        if other.precision != self.precision {
            return Err(SketchError::PrecisionMismatch { ours: self.precision, theirs: other.precision });
        }
        for (&bucket, &n) in &other.counts {
            *self.counts.entry(bucket).or_insert(0) += n;
        }
        self.count += other.count;
        self.range = match (self.range, other.range) {
            (None, r) | (r, None) => r,
            (Some((a, b)), Some((c, d))) => Some((min_total(a, c), max_total(b, d))),
        };
        Ok(())
    }

    /// The smallest and largest `f64` of `bucket`, clamped to the values' range.
    fn bounds(&self, bucket: u32) -> (f64, f64) {
        let (lo, hi) = bucket_bounds(bucket, self.precision);
        match self.range {
            Some((min, max)) => (lo.max(min), hi.min(max)),
            None => (lo, hi),
        }
    }

    /// The approximate `q`-quantile: the representative point of the bucket holding that rank
    /// (within one bucket of the exact quantile); NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        match self.quantile_bucket(q) {
            Some(bucket) => representative(self.bounds(bucket)),
            None => f64::NAN,
        }
    }

    /// The bucket holding the value of rank `⌈q·count⌉` (at least 1).
    fn quantile_bucket(&self, q: f64) -> Option<u32> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (&bucket, &n) in &self.counts {
            seen += n;
            if seen >= rank {
                return Some(bucket);
            }
        }
        self.counts.keys().next_back().copied()
    }

    /// Each non-empty bucket's representative point (its midpoint, clamped to the values' range)
    /// with its count, ascending: the sketch read as weighted values.
    pub fn representatives(&self) -> impl Iterator<Item = (f64, u64)> + Clone + '_ {
        self.counts.iter().map(|(&b, &c)| (representative(self.bounds(b)), c))
    }

    /// Mean and population standard deviation with every value at its bucket's representative
    /// point (each value off by at most its bucket's width); NaN when empty.
    pub fn mean_std(&self) -> (f64, f64) {
        if self.count == 0 {
            return (f64::NAN, f64::NAN);
        }
        let n = self.count as f64;
        let mean = self.counts.iter().map(|(&b, &c)| c as f64 * representative(self.bounds(b))).sum::<f64>() / n;
        let var = self
            .counts
            .iter()
            .map(|(&b, &c)| {
                let d = representative(self.bounds(b)) - mean;
                c as f64 * d * d
            })
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }
}

/// The serialized form: buckets as ascending, delta-encoded indices with their counts.
#[derive(Serialize, Deserialize)]
struct SketchRepr {
    precision: u8,
    /// First bucket index, then the gaps to the next ones.
    buckets: Vec<u32>,
    counts: Vec<u64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl From<LogHistogram> for SketchRepr {
    fn from(s: LogHistogram) -> Self {
        let mut previous = 0;
        let buckets = s
            .counts
            .keys()
            .map(|&b| {
                let gap = b - previous;
                previous = b;
                gap
            })
            .collect();
        Self {
            precision: s.precision,
            buckets,
            counts: s.counts.values().copied().collect(),
            min: s.range.map(|r| r.0),
            max: s.range.map(|r| r.1),
        }
    }
}

impl TryFrom<SketchRepr> for LogHistogram {
    type Error = SketchError;

    fn try_from(r: SketchRepr) -> Result<Self, SketchError> {
        let mut sketch = LogHistogram::new(r.precision)?;
        if r.buckets.len() != r.counts.len() {
            return Err(SketchError::Inconsistent(format!(
                "{} buckets but {} counts",
                r.buckets.len(),
                r.counts.len()
            )));
        }
        let mut index = 0u32;
        for (i, (&gap, &n)) in r.buckets.iter().zip(&r.counts).enumerate() {
            if i > 0 && gap == 0 {
                return Err(SketchError::Inconsistent("bucket indices must ascend".into()));
            }
            index = index.checked_add(gap).ok_or_else(|| SketchError::Inconsistent("bucket index overflow".into()))?;
            if n == 0 {
                return Err(SketchError::Inconsistent(format!("bucket {index} has a zero count")));
            }
            sketch.counts.insert(index, n);
            sketch.count =
                sketch.count.checked_add(n).ok_or_else(|| SketchError::Inconsistent("count overflow".into()))?;
        }
        sketch.range = match (r.min, r.max) {
            (None, None) if sketch.count == 0 => None,
            (Some(lo), Some(hi)) if sketch.count > 0 && lo.is_finite() && hi.is_finite() && lo <= hi => {
                let (first, last) = (sketch.counts.keys().next(), sketch.counts.keys().next_back());
                let fits = first.is_some_and(|&b| bucket_of(lo, r.precision) == b)
                    && last.is_some_and(|&b| bucket_of(hi, r.precision) == b);
                if !fits {
                    return Err(SketchError::Inconsistent("min/max outside the first/last bucket".into()));
                }
                Some((lo, hi))
            }
            _ => return Err(SketchError::Inconsistent("min/max do not match the counts".into())),
        };
        Ok(sketch)
    }
}

/// The order-preserving key of a finite `f64`: ascending keys ⇔ ascending values (total order).
fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits & SIGN != 0 { !bits } else { bits | SIGN }
}

fn from_order_key(key: u64) -> f64 {
    f64::from_bits(if key & SIGN != 0 { key & !SIGN } else { !key })
}

fn bucket_of(value: f64, precision: u8) -> u32 {
    (order_key(value) >> (52 - precision)) as u32
}

/// The smallest and largest `f64` in `bucket`.
fn bucket_bounds(bucket: u32, precision: u8) -> (f64, f64) {
    let shift = 52 - precision;
    let first = u64::from(bucket) << shift;
    let last = first | ((1u64 << shift) - 1);
    (from_order_key(first), from_order_key(last))
}

fn representative((lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) / 2.0
}

fn min_total(a: f64, b: f64) -> f64 {
    if b.total_cmp(&a).is_lt() { b } else { a }
}

fn max_total(a: f64, b: f64) -> f64 {
    if b.total_cmp(&a).is_gt() { b } else { a }
}

/// Both sketches' buckets in ascending order with the count of each side.
fn joint_buckets<'a>(
    reference: &'a LogHistogram,
    current: &'a LogHistogram,
) -> Result<Vec<(u32, u64, u64)>, DriftError> {
    for (side, s) in [(Side::Reference, reference), (Side::Current, current)] {
        if s.is_empty() {
            return Err(DriftError::EmptySample { side });
        }
    }
    let mut joint: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for (&b, &n) in &reference.counts {
        joint.entry(b).or_default().0 = n;
    }
    for (&b, &n) in &current.counts {
        joint.entry(b).or_default().1 = n;
    }
    Ok(joint.into_iter().map(|(b, (r, c))| (b, r, c)).collect())
}

fn same_precision(reference: &LogHistogram, current: &LogHistogram) -> Result<(), SketchError> {
    if reference.precision != current.precision {
        return Err(SketchError::PrecisionMismatch { ours: reference.precision, theirs: current.precision });
    }
    Ok(())
}

/// Why drift statistics cannot be taken from two sketches.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SketchDriftError {
    #[error(transparent)]
    Sketch(#[from] SketchError),
    #[error(transparent)]
    Drift(#[from] DriftError),
}

/// The Kolmogorov–Smirnov test from two sketches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SketchKs {
    /// `D_sketch`: the largest ECDF difference at bucket boundaries, a lower bound of `D`.
    pub statistic: f64,
    /// `D ≤ statistic + error_bound`.
    pub error_bound: f64,
    /// The asymptotic p-value of `statistic` (SciPy's `kstwo.sf(D, round(n·m/(n+m)))`).
    pub p_value: f64,
    /// The p-value of `statistic + error_bound`: the exact test's p-value is at least this.
    pub p_value_lower: f64,
}

/// The two-sample KS test over sketches; see the module documentation for the bound.
pub fn ks_sketch(reference: &LogHistogram, current: &LogHistogram) -> Result<SketchKs, SketchDriftError> {
    same_precision(reference, current)?;
    let joint = joint_buckets(reference, current)?;
    let (n1, n2) = (reference.count as f64, current.count as f64);
    let (mut c1, mut c2) = (0u64, 0u64);
    let (mut statistic, mut bound) = (0.0f64, 0.0f64);
    for &(_, r, c) in &joint {
        c1 += r;
        c2 += c;
        statistic = statistic.max((c1 as f64 / n1 - c2 as f64 / n2).abs());
        bound = bound.max((r as f64 / n1).max(c as f64 / n2));
    }
    let effective = (n1 * n2 / (n1 + n2)).round_ties_even() as u64;
    let p = |d: f64| if d <= 0.0 { 1.0 } else { kolmogorov_sf(effective, d.min(1.0)).clamp(0.0, 1.0) };
    Ok(SketchKs { statistic, error_bound: bound, p_value: p(statistic), p_value_lower: p(statistic + bound) })
}

/// The Wasserstein-1 distance from two sketches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SketchWasserstein {
    /// The distance with every value at its bucket's representative point.
    pub raw: f64,
    /// `|raw − W| ≤ error_bound`.
    pub error_bound: f64,
    /// The reference standard deviation from the sketch.
    pub reference_std: f64,
    /// `raw / max(reference_std, 0.001)`, as the exact [`WassersteinDistance`](super::WassersteinDistance).
    pub normalised: f64,
}

/// The Wasserstein-1 distance over sketches; see the module documentation for the bound.
pub fn wasserstein_sketch(
    reference: &LogHistogram,
    current: &LogHistogram,
) -> Result<SketchWasserstein, SketchDriftError> {
    same_precision(reference, current)?;
    let joint = joint_buckets(reference, current)?;
    let (n1, n2) = (reference.count as f64, current.count as f64);
    // Representative points are shared by both sides, so each is clamped to the pooled range.
    let pooled = |b: u32| {
        let (lo, hi) = bucket_bounds(b, reference.precision);
        let (r1, r2) = (reference.range.expect("not empty"), current.range.expect("not empty"));
        (lo.max(r1.0.min(r2.0)), hi.min(r1.1.max(r2.1)))
    };
    let (mut c1, mut c2) = (0u64, 0u64);
    let (mut raw, mut bound) = (0.0, 0.0);
    let mut previous: Option<f64> = None;
    for &(b, r, c) in &joint {
        let (lo, hi) = pooled(b);
        let x = representative((lo, hi));
        if let Some(p) = previous {
            raw += (c1 as f64 / n1 - c2 as f64 / n2).abs() * (x - p);
        }
        c1 += r;
        c2 += c;
        bound += (r as f64 / n1 + c as f64 / n2) * (hi - lo);
        previous = Some(x);
    }
    let (_, reference_std) = reference.mean_std();
    Ok(SketchWasserstein {
        raw,
        error_bound: bound,
        reference_std,
        normalised: raw / reference_std.max(super::WASSERSTEIN_MIN_STD),
    })
}

/// PSI and Jensen–Shannon distance from two sketches, over reference-quantile bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SketchPsi {
    /// Inner edges (bucket boundaries): bins `(-∞, e₁), [e₁, e₂), …, [e_k, +∞)`.
    pub edges: Vec<f64>,
    pub shares: Shares,
    pub psi: f64,
    pub jensen_shannon: f64,
    /// The largest share of the reference in a bucket at an edge: each bin's reference share is
    /// within twice this of `1/bins`.
    pub edge_share_error: f64,
}

/// PSI and Jensen–Shannon distance over `bins` reference-quantile bins whose edges are bucket
/// boundaries, so both sides' counts per bin are exact.
pub fn psi_sketch(
    reference: &LogHistogram,
    current: &LogHistogram,
    bins: usize,
) -> Result<SketchPsi, SketchDriftError> {
    same_precision(reference, current)?;
    if bins == 0 {
        return Err(DriftError::NoBins.into());
    }
    joint_buckets(reference, current)?;
    // A bin edge is the lower boundary of the bucket holding each inner quantile.
    let mut edge_buckets: Vec<u32> =
        (1..bins).filter_map(|i| reference.quantile_bucket(i as f64 / bins as f64)).collect();
    edge_buckets.dedup();
    // An edge at the very first bucket would leave the first bin empty by construction.
    let first = *reference.counts.keys().next().expect("not empty");
    edge_buckets.retain(|&b| b != first);
    let counts = |s: &LogHistogram| {
        let mut out = vec![0u64; edge_buckets.len() + 1];
        for (&b, &n) in &s.counts {
            out[edge_buckets.partition_point(|&e| e <= b)] += n;
        }
        out
    };
    let shares = Shares::from_counts(&counts(reference), &counts(current))?;
    let edge_share_error = edge_buckets
        .iter()
        .map(|b| reference.counts.get(b).copied().unwrap_or(0) as f64 / reference.count as f64)
        .fold(0.0, f64::max);
    Ok(SketchPsi {
        edges: edge_buckets.iter().map(|&b| bucket_bounds(b, reference.precision).0).collect(),
        psi: shares.psi(),
        jensen_shannon: shares.jensen_shannon(),
        shares,
        edge_share_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_counts_as_insert_does() {
        let mut values: Vec<f64> = (0..5000).map(|i| ((i * 7919) % 1000) as f64 / 7.0 - 60.0).collect();
        values.extend([f64::NAN, f64::INFINITY, -0.0, 0.0, 1e300, -1e-300, 5e-324]);
        for precision in [1, 7, 20] {
            let mut one_by_one = LogHistogram::new(precision).unwrap();
            values.iter().for_each(|&v| {
                one_by_one.insert(v);
            });
            let mut batched = LogHistogram::new(precision).unwrap();
            for chunk in values.chunks(999) {
                batched.extend(chunk);
            }
            batched.extend(&[]);
            assert_eq!(batched, one_by_one, "precision {precision}");
        }
    }
    use crate::drift::{NumericSample, ks_two_sample, wasserstein_distance};

    /// A deterministic pseudo-random stream (SplitMix64) for test data.
    struct Mix(u64);
    impl Mix {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self, mean: f64, sd: f64) -> f64 {
            let (u, v) = (self.next().max(1e-300), self.next());
            mean + sd * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    fn datasets() -> Vec<(&'static str, Vec<f64>, Vec<f64>)> {
        let mut m = Mix(7);
        let normal = |m: &mut Mix, mean, sd, n| (0..n).map(|_| m.normal(mean, sd)).collect::<Vec<f64>>();
        let a = normal(&mut m, 0.0, 1.0, 20_000);
        let b = normal(&mut m, 0.1, 1.2, 15_000);
        let heavy_a: Vec<f64> = (0..20_000).map(|_| (1.0 / (m.next() + 1e-9)).powf(1.5) - 1.0).collect();
        let heavy_b: Vec<f64> = (0..20_000).map(|_| (1.0 / (m.next() + 1e-9)).powf(1.6) - 1.0).collect();
        let ties_a: Vec<f64> = (0..10_000).map(|_| (m.next() * 5.0).floor()).collect();
        let ties_b: Vec<f64> = (0..10_000).map(|_| (m.next() * 6.0).floor() - 0.5).collect();
        let shifted: Vec<f64> = a.iter().map(|x| x + 3.0).collect();
        vec![
            ("normal", a.clone(), b),
            ("heavy tails", heavy_a, heavy_b),
            ("ties and zeros", ties_a, ties_b),
            ("disjoint", a, shifted),
        ]
    }

    #[test]
    fn bucket_mapping_is_monotone_and_bounds_contain_their_values() {
        let values = [-1e300, -3.5, -1.0, -f64::MIN_POSITIVE, -0.0, 0.0, 5e-324, 1e-10, 1.0, 1.0078125, 2.0, 7e250];
        for p in [1, DEFAULT_SKETCH_PRECISION, MAX_SKETCH_PRECISION] {
            let buckets: Vec<u32> = values.iter().map(|&v| bucket_of(v, p)).collect();
            assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "precision {p}: {buckets:?}");
            for &v in &values {
                let (lo, hi) = bucket_bounds(bucket_of(v, p), p);
                assert!(lo <= v && v <= hi, "{v} not in [{lo}, {hi}]");
                if v != 0.0 && v.abs() > 1e-300 {
                    assert!((hi - lo) <= v.abs() * 2f64.powi(-i32::from(p)) * 1.000_001, "{v}: [{lo}, {hi}]");
                }
            }
        }
    }

    #[test]
    fn ks_bound_brackets_the_exact_statistic() {
        for (name, a, b) in datasets() {
            for p in [4, DEFAULT_SKETCH_PRECISION, 10] {
                let (sa, sb) = (LogHistogram::from_values(p, &a).unwrap(), LogHistogram::from_values(p, &b).unwrap());
                let sketch = ks_sketch(&sa, &sb).unwrap();
                let exact = ks_two_sample(
                    &NumericSample::new(Side::Reference, &a).unwrap(),
                    &NumericSample::new(Side::Current, &b).unwrap(),
                );
                assert!(sketch.statistic <= exact.statistic + 1e-12, "{name} p{p}: {sketch:?} vs {exact:?}");
                assert!(exact.statistic <= sketch.statistic + sketch.error_bound + 1e-12, "{name} p{p}: {sketch:?}");
                assert!(sketch.p_value_lower <= sketch.p_value);
            }
        }
    }

    #[test]
    fn wasserstein_is_within_its_bound() {
        for (name, a, b) in datasets() {
            for p in [4, DEFAULT_SKETCH_PRECISION, 10] {
                let (sa, sb) = (LogHistogram::from_values(p, &a).unwrap(), LogHistogram::from_values(p, &b).unwrap());
                let sketch = wasserstein_sketch(&sa, &sb).unwrap();
                let exact = wasserstein_distance(
                    &NumericSample::new(Side::Reference, &a).unwrap(),
                    &NumericSample::new(Side::Current, &b).unwrap(),
                );
                let slack = 1e-9 * exact.abs().max(1.0);
                assert!((sketch.raw - exact).abs() <= sketch.error_bound + slack, "{name} p{p}: {sketch:?} vs {exact}");
                // The bound is useful, not vacuous: relative to the data's magnitude it is small.
                if p >= DEFAULT_SKETCH_PRECISION && name != "ties and zeros" {
                    let scale = a.iter().map(|x| x.abs()).sum::<f64>() / a.len() as f64;
                    assert!(sketch.error_bound <= 0.05 * scale, "{name}: bound {} scale {scale}", sketch.error_bound);
                }
            }
        }
    }

    #[test]
    fn psi_bins_are_exact_and_near_the_reference_quantiles() {
        for (name, a, b) in datasets() {
            let (sa, sb) = (
                LogHistogram::from_values(DEFAULT_SKETCH_PRECISION, &a).unwrap(),
                LogHistogram::from_values(DEFAULT_SKETCH_PRECISION, &b).unwrap(),
            );
            let psi = psi_sketch(&sa, &sb, 10).unwrap();
            // The counts per bin equal counting the raw values against the same edges.
            let count = |values: &[f64]| {
                let mut out = vec![0u64; psi.edges.len() + 1];
                for &v in values {
                    out[psi.edges.partition_point(|&e| e <= v)] += 1;
                }
                out
            };
            let exact = Shares::from_counts(&count(&a), &count(&b)).unwrap();
            assert_eq!(psi.shares, exact, "{name}");
            if name == "normal" {
                let target = 1.0 / (psi.edges.len() + 1) as f64;
                for &share in psi.shares.reference() {
                    assert!((share - target).abs() <= 2.0 * psi.edge_share_error + 1e-12, "{name}: {share}");
                }
            }
        }
    }

    #[test]
    fn merged_shards_equal_the_whole_bit_for_bit() {
        let (_, a, _) = datasets().remove(1);
        let whole = LogHistogram::from_values(DEFAULT_SKETCH_PRECISION, &a).unwrap();
        for shards in [2, 3, 7] {
            let size = a.len().div_ceil(shards);
            let mut parts: Vec<LogHistogram> =
                a.chunks(size).map(|c| LogHistogram::from_values(DEFAULT_SKETCH_PRECISION, c).unwrap()).collect();
            parts.reverse();
            let mut merged = LogHistogram::new(DEFAULT_SKETCH_PRECISION).unwrap();
            for part in &parts {
                merged.merge(part).unwrap();
            }
            assert_eq!(merged, whole);
            assert_eq!(serde_json::to_string(&merged).unwrap(), serde_json::to_string(&whole).unwrap());
        }
    }

    #[test]
    fn serialized_sketch_round_trips_and_corrupt_ones_are_rejected() {
        let sketch = LogHistogram::from_values(5, &[-2.0, 0.0, 0.5, 3.0, 3.0, f64::NAN]).unwrap();
        assert_eq!(sketch.count(), 5);
        let json = serde_json::to_string(&sketch).unwrap();
        assert_eq!(serde_json::from_str::<LogHistogram>(&json).unwrap(), sketch);

        let bad = [
            r#"{"precision":0,"buckets":[],"counts":[],"min":null,"max":null}"#,
            r#"{"precision":7,"buckets":[1],"counts":[],"min":null,"max":null}"#,
            r#"{"precision":7,"buckets":[1,0],"counts":[1,1],"min":null,"max":null}"#,
            r#"{"precision":7,"buckets":[1],"counts":[0],"min":null,"max":null}"#,
            r#"{"precision":7,"buckets":[],"counts":[],"min":1.0,"max":2.0}"#,
            r#"{"precision":7,"buckets":[4026531840],"counts":[1],"min":-5.0,"max":-5.0}"#,
        ];
        for text in bad {
            assert!(serde_json::from_str::<LogHistogram>(text).is_err(), "{text}");
        }
        let mut other = LogHistogram::new(6).unwrap();
        assert_eq!(other.merge(&sketch), Err(SketchError::PrecisionMismatch { ours: 6, theirs: 5 }));
        assert_eq!(LogHistogram::new(21), Err(SketchError::Precision(21)));
    }

    #[test]
    fn empty_sketches_are_typed_errors() {
        let empty = LogHistogram::new(7).unwrap();
        let one = LogHistogram::from_values(7, &[1.0]).unwrap();
        assert_eq!(
            ks_sketch(&empty, &one),
            Err(SketchDriftError::Drift(DriftError::EmptySample { side: Side::Reference }))
        );
        assert!(wasserstein_sketch(&one, &empty).is_err());
        assert!(psi_sketch(&one, &one, 0).is_err());
        assert!(empty.quantile(0.5).is_nan());
    }
}
