//! Mergeable partial drift state: what a shard of a window contributes, so that shards computed
//! apart (AWS Batch array children, say) merge into exactly what one process would have seen.
//!
//! Per column and window:
//! * numeric columns keep their [`DataQuality`] counts and either **every finite value**
//!   ([`NumericValues::Exact`]: merging is a sorted merge, so the statistics computed after any
//!   merge order are bit for bit those of the single-process job, which also works on sorted
//!   values) or a **sketch** ([`NumericValues::Sketch`], a [`LogHistogram`]: bounded memory, stated
//!   error bounds, see [`sketch`](super::sketch));
//! * categorical columns keep exact counts per category and of nulls.
//!
//! [`merge`](PartialState::merge) is associative and commutative (property-tested): merging
//! exact with exact stays exact; anything merged with a sketch becomes a sketch of all values.
//! [`PartialState::encode`] writes a versioned JSON document with the exact values packed as
//! base64 little-endian `f64`s; [`PartialState::decode`] validates it (version, sorted finite
//! values, consistent sketches, matching column kinds) and names what is wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sample::SortedValues;
use super::sketch::{LogHistogram, SketchDriftError, SketchError, SketchKs, SketchPsi, SketchWasserstein};
use super::{
    Binning, CategoricalDrift, DataQuality, DriftError, NumericDrift, NumericSample, Side, SummaryStats, ks_sketch,
    psi_sketch, sort_total_order, wasserstein_sketch,
};

/// The version of the serialized partial state.
pub const PARTIAL_FORMAT_VERSION: u32 = 1;

/// The largest count (rows, values, category counts) a decoded partial may hold: 2^48, some 281
/// trillion rows per shard. Merging ten thousand shards (AWS Batch's array limit) of at most this
/// stays far below `u64::MAX`, so merges of decoded partials never overflow.
pub const MAX_PARTIAL_COUNT: u64 = 1 << 48;

/// Why partial states cannot be merged or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartialError {
    #[error("partial state format {found} is not supported (this build reads format {PARTIAL_FORMAT_VERSION})")]
    Format { found: u32 },
    #[error("partial state is not valid: {0}")]
    Corrupt(String),
    #[error("column {column:?} is {ours} in one partial and {theirs} in another")]
    KindMismatch { column: String, ours: &'static str, theirs: &'static str },
    #[error("column {column:?}: {source}")]
    Sketch { column: String, source: SketchError },
}

/// The finite values of a numeric column, kept whole or sketched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum NumericValues {
    /// Every finite value, ascending in total order.
    Exact {
        #[serde(with = "packed_f64")]
        sorted: SortedValues,
    },
    Sketch {
        sketch: LogHistogram,
    },
}

/// A numeric column's partial state in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericPartial {
    pub quality: DataQuality,
    pub values: NumericValues,
}

impl NumericPartial {
    /// An empty partial that keeps every value.
    pub fn exact() -> Self {
        Self { quality: DataQuality::default(), values: NumericValues::Exact { sorted: SortedValues::default() } }
    }

    /// An empty partial that sketches values with `precision` mantissa bits per bucket.
    pub fn sketch(precision: u8) -> Result<Self, SketchError> {
        Ok(Self {
            quality: DataQuality::default(),
            values: NumericValues::Sketch { sketch: LogHistogram::new(precision)? },
        })
    }

    /// Counts `values` (nulls as `None`) and keeps their finite values.
    pub fn extend(&mut self, values: impl IntoIterator<Item = Option<f64>>) {
        let (quality, finite) = DataQuality::split_finite(values);
        self.quality.merge(&quality);
        match &mut self.values {
            NumericValues::Exact { sorted } => {
                // Sort the new values (radix sort, -0.0 kept) and merge them in: linear in what
                // is held, not a sort of it all again.
                let mut finite = finite;
                sort_total_order(&mut finite);
                *sorted = SortedValues::trusted(if sorted.is_empty() { finite } else { merge_sorted(sorted, &finite) });
            }
            NumericValues::Sketch { sketch } => {
                for v in finite {
                    sketch.insert(v);
                }
            }
        }
    }

    /// Finite values held.
    pub fn len(&self) -> usize {
        self.quality.finite
    }

    pub fn is_empty(&self) -> bool {
        self.quality.finite == 0
    }

    /// Turns an exact partial into a sketch (a sketch stays as it is).
    pub fn into_sketch(self, precision: u8) -> Result<Self, SketchError> {
        let values = match self.values {
            NumericValues::Exact { sorted } => {
                NumericValues::Sketch { sketch: LogHistogram::from_values(precision, &sorted)? }
            }
            sketched => sketched,
        };
        Ok(Self { quality: self.quality, values })
    }

    fn merge(&mut self, other: &NumericPartial) -> Result<(), SketchError> {
        self.quality.merge(&other.quality);
        let values = std::mem::replace(&mut self.values, NumericValues::Exact { sorted: SortedValues::default() });
        self.values = match (values, &other.values) {
            (NumericValues::Exact { sorted: a }, NumericValues::Exact { sorted: b }) => {
                NumericValues::Exact { sorted: SortedValues::trusted(merge_sorted(&a, b)) }
            }
            (NumericValues::Sketch { mut sketch }, NumericValues::Sketch { sketch: theirs }) => {
                sketch.merge(theirs)?;
                NumericValues::Sketch { sketch }
            }
            (NumericValues::Sketch { mut sketch }, NumericValues::Exact { sorted }) => {
                sketch.merge(&LogHistogram::from_values(sketch.precision(), sorted)?)?;
                NumericValues::Sketch { sketch }
            }
            (NumericValues::Exact { sorted }, NumericValues::Sketch { sketch: theirs }) => {
                let mut sketch = LogHistogram::from_values(theirs.precision(), &sorted)?;
                sketch.merge(theirs)?;
                NumericValues::Sketch { sketch }
            }
        };
        Ok(())
    }
}

fn merge_sorted(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j].total_cmp(&a[i]).is_lt() {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// A categorical column's partial state in one window: exact counts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CategoricalPartial {
    /// Rows seen, nulls included.
    pub total: u64,
    pub nulls: u64,
    pub counts: BTreeMap<String, u64>,
}

impl CategoricalPartial {
    /// Counts one value (`None` for null).
    pub fn add(&mut self, value: Option<&str>) {
        self.total += 1;
        match value {
            None => self.nulls += 1,
            Some(v) => match self.counts.get_mut(v) {
                Some(n) => *n += 1,
                None => {
                    self.counts.insert(v.to_owned(), 1);
                }
            },
        }
    }

    fn merge(&mut self, other: &CategoricalPartial) {
        self.total += other.total;
        self.nulls += other.nulls;
        for (k, &n) in &other.counts {
            *self.counts.entry(k.clone()).or_insert(0) += n;
        }
    }
}

/// One column's partial state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnPartial {
    Numeric(NumericPartial),
    Categorical(CategoricalPartial),
}

impl ColumnPartial {
    fn kind(&self) -> &'static str {
        match self {
            Self::Numeric(_) => "numeric",
            Self::Categorical(_) => "categorical",
        }
    }
}

/// A window's partial state: rows seen and every column's state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WindowPartial {
    pub rows: u64,
    pub columns: BTreeMap<String, ColumnPartial>,
}

impl WindowPartial {
    fn merge(&mut self, other: &WindowPartial) -> Result<(), PartialError> {
        self.rows += other.rows;
        for (name, theirs) in &other.columns {
            let Some(ours) = self.columns.get_mut(name) else {
                self.columns.insert(name.clone(), theirs.clone());
                continue;
            };
            match (ours, theirs) {
                (ColumnPartial::Numeric(a), ColumnPartial::Numeric(b)) => {
                    a.merge(b).map_err(|source| PartialError::Sketch { column: name.clone(), source })?
                }
                (ColumnPartial::Categorical(a), ColumnPartial::Categorical(b)) => a.merge(b),
                (ours, theirs) => {
                    return Err(PartialError::KindMismatch {
                        column: name.clone(),
                        ours: ours.kind(),
                        theirs: theirs.kind(),
                    });
                }
            }
        }
        Ok(())
    }
}

impl WindowPartial {
    /// Every count within [`MAX_PARTIAL_COUNT`], and each column's counts adding up: a numeric
    /// column's kinds of values to its total, a categorical column's categories and nulls to its.
    fn check_counts(&self) -> Result<(), PartialError> {
        let corrupt = |what: String| Err(PartialError::Corrupt(what));
        let bounded = |n: u64| n <= MAX_PARTIAL_COUNT;
        if !bounded(self.rows) {
            return corrupt(format!("{} rows is more than a partial holds (at most 2^48)", self.rows));
        }
        for (name, column) in &self.columns {
            let (total, parts): (u64, Vec<u64>) = match column {
                ColumnPartial::Numeric(n) => {
                    let q = &n.quality;
                    let parts = [q.nulls, q.nan, q.positive_infinity, q.negative_infinity, q.finite];
                    (q.total as u64, parts.iter().map(|&c| c as u64).collect())
                }
                ColumnPartial::Categorical(c) => {
                    (c.total, [c.nulls].into_iter().chain(c.counts.values().copied()).collect())
                }
            };
            if !bounded(total) || parts.iter().any(|&c| !bounded(c)) {
                return corrupt(format!("column {name:?} counts more than a partial holds (at most 2^48)"));
            }
            // Checked: a corrupt partial may list enough categories to overflow even so.
            let sum = parts.iter().try_fold(0u64, |sum, &c| sum.checked_add(c));
            if sum != Some(total) {
                return corrupt(format!("column {name:?}: its counts do not add up to its total {total}"));
            }
        }
        Ok(())
    }
}

/// The partial state of a drift run (or a shard of it): both windows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PartialState {
    pub reference: WindowPartial,
    pub current: WindowPartial,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    format: u32,
    state: T,
}

impl PartialState {
    /// Adds `other` (another shard of the same run) into `self`; on error `self` may hold a part
    /// of `other` — merge into a copy when it must survive a failure.
    pub fn merge(&mut self, other: &PartialState) -> Result<(), PartialError> {
        self.reference.merge(&other.reference)?;
        self.current.merge(&other.current)
    }

    /// Validates a state read from outside (what [`decode`](Self::decode) checks): counts within
    /// [`MAX_PARTIAL_COUNT`] that add up, and as many values held as finite values counted.
    pub fn check(&self) -> Result<(), PartialError> {
        for window in [&self.reference, &self.current] {
            for (name, column) in &window.columns {
                if let ColumnPartial::Numeric(n) = column {
                    let held = match &n.values {
                        NumericValues::Exact { sorted } => sorted.len() as u64,
                        NumericValues::Sketch { sketch } => sketch.count(),
                    };
                    if held != n.quality.finite as u64 {
                        return Err(PartialError::Corrupt(format!(
                            "column {name:?} holds {held} values but counts {} finite ones",
                            n.quality.finite
                        )));
                    }
                }
            }
            window.check_counts()?;
        }
        Ok(())
    }

    /// The versioned serialized form.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope { format: PARTIAL_FORMAT_VERSION, state: self }).expect("partial state serialises")
    }

    /// Reads [`encode`](Self::encode)'s output, validating it.
    pub fn decode(bytes: &[u8]) -> Result<Self, PartialError> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version = serde_json::from_slice(bytes).map_err(|e| PartialError::Corrupt(e.to_string()))?;
        if version.format != PARTIAL_FORMAT_VERSION {
            return Err(PartialError::Format { found: version.format });
        }
        let envelope: Envelope<PartialState> =
            serde_json::from_slice(bytes).map_err(|e| PartialError::Corrupt(e.to_string()))?;
        envelope.state.check()?;
        Ok(envelope.state)
    }
}

/// The drift statistics of a numeric column from partial states.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum NumericStatistics {
    /// Both windows exact: the single-process statistics.
    Exact(Box<NumericDrift>),
    /// At least one window sketched: statistics with error bounds.
    Sketch(Box<SketchDrift>),
}

/// Drift statistics of a numeric column from sketches, with their error bounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SketchDrift {
    pub reference: SketchSummary,
    pub current: SketchSummary,
    pub ks: SketchKs,
    pub wasserstein: SketchWasserstein,
    pub psi: SketchPsi,
}

/// Summary statistics from a sketch: count, min and max exact; the rest within a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SketchSummary {
    pub count: u64,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
}

impl SketchSummary {
    fn of(sketch: &LogHistogram) -> Self {
        let (mean, std) = sketch.mean_std();
        let (min, max) = sketch.range().unwrap_or((f64::NAN, f64::NAN));
        Self {
            count: sketch.count(),
            mean,
            std,
            min,
            max,
            p25: sketch.quantile(0.25),
            p50: sketch.quantile(0.5),
            p75: sketch.quantile(0.75),
        }
    }
}

/// Bins for PSI in sketch mode: the quantile bins of `binning` (Evidently's binning needs the
/// values, so it falls back to the default ten reference-quantile bins).
fn sketch_bins(binning: Binning) -> usize {
    match binning {
        Binning::ReferenceQuantiles { bins } => bins,
        Binning::EvidentlyCompatible => super::DEFAULT_QUANTILE_BINS,
    }
}

/// The drift statistics of a numeric column from its reference and current partials.
pub fn numeric_statistics(
    reference: &NumericPartial,
    current: &NumericPartial,
    binning: Binning,
) -> Result<NumericStatistics, SketchDriftError> {
    match (&reference.values, &current.values) {
        (NumericValues::Exact { sorted: r }, NumericValues::Exact { sorted: c }) => {
            // Held sorted already: borrowed, neither copied, sorted nor checked again.
            let (r, c) = (
                NumericSample::from_sorted_values(Side::Reference, r)?,
                NumericSample::from_sorted_values(Side::Current, c)?,
            );
            Ok(NumericStatistics::Exact(Box::new(NumericDrift::compute(&r, &c, binning)?)))
        }
        (r, c) => {
            let precision = match (r, c) {
                (NumericValues::Sketch { sketch }, _) | (_, NumericValues::Sketch { sketch }) => sketch.precision(),
                _ => unreachable!("the exact/exact case is matched above"),
            };
            let as_sketch = |v: &NumericValues| match v {
                NumericValues::Exact { sorted } => LogHistogram::from_values(precision, sorted),
                NumericValues::Sketch { sketch } => Ok(sketch.clone()),
            };
            let (r, c) = (as_sketch(r)?, as_sketch(c)?);
            Ok(NumericStatistics::Sketch(Box::new(SketchDrift {
                reference: SketchSummary::of(&r),
                current: SketchSummary::of(&c),
                ks: ks_sketch(&r, &c)?,
                wasserstein: wasserstein_sketch(&r, &c)?,
                psi: psi_sketch(&r, &c, sketch_bins(binning))?,
            })))
        }
    }
}

/// The drift of a categorical column from its reference and current partials.
pub fn categorical_statistics(
    reference: &CategoricalPartial,
    current: &CategoricalPartial,
) -> Result<CategoricalDrift<String>, DriftError> {
    CategoricalDrift::compute(&reference.counts, &current.counts)
}

/// Summary statistics of an exact partial, as the single-process job reports them.
pub fn exact_summary(partial: &NumericPartial) -> Option<SummaryStats> {
    match &partial.values {
        NumericValues::Exact { sorted } => {
            NumericSample::from_sorted_values(Side::Reference, sorted).ok().map(|s| s.summary())
        }
        _ => None,
    }
}

/// Exact values as base64 of their little-endian bytes ([`crate::packed`]), checked sorted and
/// finite when read.
mod packed_f64 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(values: &SortedValues, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::packed::encode(values.iter().map(|v| v.to_bits())))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SortedValues, D::Error> {
        use serde::de::Error;
        let words = crate::packed::decode(&String::deserialize(d)?, "values").map_err(D::Error::custom)?;
        SortedValues::from_sorted(words.into_iter().map(f64::from_bits).collect())
            .map_err(|problem| D::Error::custom(format!("values: {problem}")))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::*;
    use proptest::prelude::*;

    fn numeric(values: &[Option<f64>], sketch: Option<u8>) -> NumericPartial {
        let mut p = match sketch {
            Some(precision) => NumericPartial::sketch(precision).unwrap(),
            None => NumericPartial::exact(),
        };
        p.extend(values.iter().copied());
        p
    }

    fn value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            8 => (-1e6f64..1e6).prop_map(Some),
            2 => (0i32..5).prop_map(|i| Some(f64::from(i))),
            1 => Just(None),
            1 => Just(Some(f64::NAN)),
            1 => Just(Some(f64::INFINITY)),
            1 => Just(Some(-0.0)),
        ]
    }

    fn window(values: &[Option<f64>], sketch: Option<u8>, categories: &[Option<String>]) -> WindowPartial {
        let mut cat = CategoricalPartial::default();
        for v in categories {
            cat.add(v.as_deref());
        }
        WindowPartial {
            rows: values.len() as u64,
            columns: BTreeMap::from([
                ("x".to_owned(), ColumnPartial::Numeric(numeric(values, sketch))),
                ("colour".to_owned(), ColumnPartial::Categorical(cat)),
            ]),
        }
    }

    type Window = (Vec<Option<f64>>, Option<u8>, Vec<Option<String>>);

    fn window_values() -> impl Strategy<Value = Window> {
        (
            prop::collection::vec(value(), 0..40),
            prop::option::weighted(0.3, Just(6u8)),
            prop::collection::vec(prop::option::of("[a-d]{1,2}"), 0..30),
        )
    }

    fn state() -> impl Strategy<Value = PartialState> {
        (window_values(), window_values()).prop_map(|((r, rs, rc), (c, cs, cc)): (Window, Window)| PartialState {
            reference: window(&r, rs, &rc),
            current: window(&c, cs, &cc),
        })
    }

    fn merged(parts: &[&PartialState]) -> PartialState {
        let mut out = PartialState::default();
        for p in parts {
            out.merge(p).unwrap();
        }
        out
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in state(), b in state()) {
            prop_assert_eq!(merged(&[&a, &b]).encode(), merged(&[&b, &a]).encode());
        }

        #[test]
        fn merge_is_associative(a in state(), b in state(), c in state()) {
            let mut left = merged(&[&a, &b]);
            left.merge(&c).unwrap();
            let mut right = b.clone();
            right.merge(&c).unwrap();
            let mut right_all = a.clone();
            right_all.merge(&right).unwrap();
            prop_assert_eq!(left.encode(), right_all.encode());
        }

        #[test]
        fn encoding_round_trips(a in state()) {
            prop_assert_eq!(PartialState::decode(&a.encode()).unwrap(), a);
        }
    }

    fn column(values: impl Fn(usize) -> Option<f64>, rows: usize) -> Vec<Option<f64>> {
        (0..rows).map(values).collect()
    }

    #[test]
    fn sharded_exact_partials_give_the_single_process_statistics_bit_for_bit() {
        let reference = column(|i| Some(((i * 7919) % 1000) as f64 / 10.0 - 3.0), 5_000);
        let current = column(|i| if i % 97 == 0 { None } else { Some(((i * 104_729) % 1200) as f64 / 11.0) }, 4_000);
        let single = {
            let (_, r) = DataQuality::split_finite(reference.iter().copied());
            let (_, c) = DataQuality::split_finite(current.iter().copied());
            NumericDrift::compute(
                &NumericSample::new(Side::Reference, &r).unwrap(),
                &NumericSample::new(Side::Current, &c).unwrap(),
                Binning::default(),
            )
            .unwrap()
        };
        for shards in [1, 2, 4, 7] {
            let mut parts: Vec<(NumericPartial, NumericPartial)> = (0..shards)
                .map(|s| {
                    let pick = |v: &[Option<f64>]| v.iter().skip(s).step_by(shards).copied().collect::<Vec<_>>();
                    (numeric(&pick(&reference), None), numeric(&pick(&current), None))
                })
                .collect();
            parts.rotate_left(shards / 2);
            let (mut r, mut c) = (NumericPartial::exact(), NumericPartial::exact());
            for (pr, pc) in &parts {
                r.merge(pr).unwrap();
                c.merge(pc).unwrap();
            }
            let NumericStatistics::Exact(stats) = numeric_statistics(&r, &c, Binning::default()).unwrap() else {
                panic!("exact partials give exact statistics");
            };
            assert_eq!(*stats, single, "{shards} shards");
            assert_eq!(c.quality.nulls, 42);
        }
    }

    #[test]
    fn extending_in_batches_keeps_every_value_sorted_as_one_sort_would() {
        let values: Vec<Option<f64>> = (0..5_000)
            .map(|i| match i % 11 {
                0 => None,
                1 => Some(-0.0),
                2 => Some(0.0),
                3 => Some(f64::NAN),
                _ => Some(((i * 7919) % 1013) as f64 - 500.5),
            })
            .collect();
        let mut expected: Vec<f64> = values.iter().flatten().copied().filter(|x| x.is_finite()).collect();
        expected.sort_unstable_by(f64::total_cmp);
        let mut partial = NumericPartial::exact();
        for batch in values.chunks(777) {
            partial.extend(batch.iter().copied());
        }
        let NumericValues::Exact { sorted } = &partial.values else { panic!("exact") };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(sorted), bits(&expected));
        assert_eq!(partial.len(), expected.len());
    }

    #[test]
    fn a_sketched_window_gives_bounded_statistics() {
        let reference = column(|i| Some((i as f64 * 0.37).sin() * 50.0 + 100.0), 20_000);
        let current = column(|i| Some((i as f64 * 0.41).sin() * 55.0 + 104.0), 20_000);
        let (r, c) = (numeric(&reference, None), numeric(&current, None));
        let NumericStatistics::Exact(exact) = numeric_statistics(&r, &c, Binning::default()).unwrap() else {
            panic!("exact");
        };
        let sketched = r.clone().into_sketch(7).unwrap();
        let NumericStatistics::Sketch(s) = numeric_statistics(&sketched, &c, Binning::default()).unwrap() else {
            panic!("a sketch on either side gives sketch statistics");
        };
        assert!(s.ks.statistic <= exact.ks.statistic + 1e-12);
        assert!(exact.ks.statistic <= s.ks.statistic + s.ks.error_bound + 1e-12);
        assert!((s.wasserstein.raw - exact.wasserstein.raw).abs() <= s.wasserstein.error_bound + 1e-9);
        assert_eq!((s.reference.min, s.reference.max), (exact.reference.min, exact.reference.max));
        assert!((s.reference.mean - exact.reference.mean).abs() <= 0.01 * exact.reference.mean.abs());
    }

    #[test]
    fn bad_partials_are_named() {
        let mut good = PartialState::default();
        good.reference.columns.insert("x".into(), ColumnPartial::Numeric(numeric(&[Some(1.0)], None)));
        let text = String::from_utf8(good.encode()).unwrap();
        assert_eq!(PartialState::decode(&good.encode()).unwrap(), good);

        let future = text.replace("\"format\":1", "\"format\":2");
        assert_eq!(PartialState::decode(future.as_bytes()), Err(PartialError::Format { found: 2 }));
        assert!(matches!(PartialState::decode(b"{not json"), Err(PartialError::Corrupt(_))));
        // 1.0 then 0.5: not ascending.
        let unsorted_values = BASE64.encode([1.0f64.to_le_bytes(), 0.5f64.to_le_bytes()].concat());
        let one = BASE64.encode(1.0f64.to_le_bytes());
        let unsorted = text.replace(&one, &unsorted_values).replace("\"finite\":1", "\"finite\":2");
        let err = PartialState::decode(unsorted.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("not ascending"), "{err}");
        let miscounted = text.replace("\"finite\":1", "\"finite\":3");
        let err = PartialState::decode(miscounted.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("holds 1 values but counts 3"), "{err}");

        // Found by the fuzz checks (tests/fuzz/regressions/shard_partial/): counts near u64::MAX read
        // fine and then overflowed when the reduce step merged two shards.
        let huge = text
            .replace("\"total\":1", "\"total\":18446744073709551615")
            .replace("\"nulls\":0", "\"nulls\":18446744073709551614");
        let err = PartialState::decode(huge.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("column \"x\" counts more than a partial holds"), "{err}");
        let unbalanced = text.replace("\"total\":1", "\"total\":5");
        let err = PartialState::decode(unbalanced.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("do not add up to its total 5"), "{err}");
        let mut rows = good.clone();
        rows.current.rows = MAX_PARTIAL_COUNT + 1;
        assert!(PartialState::decode(&rows.encode()).unwrap_err().to_string().contains("rows is more than"));

        let mut other = PartialState::default();
        other.reference.columns.insert("x".into(), ColumnPartial::Categorical(CategoricalPartial::default()));
        assert_eq!(
            good.clone().merge(&other),
            Err(PartialError::KindMismatch { column: "x".into(), ours: "numeric", theirs: "categorical" })
        );
    }
}
