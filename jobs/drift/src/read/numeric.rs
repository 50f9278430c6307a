//! A numeric column's values as its batches stream in: every Arrow numeric type as `f64`, data
//! quality counted (nulls, NaN, infinities) and the finite values kept, exactly or in a sketch.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use deltaone::drift::partial::NumericValues;
use deltaone::drift::sketch::{LogHistogram, SketchError};

use super::error::ValueError;
use deltaone::drift::{DataQuality, SortedValues};

/// Finite values of a numeric column as they stream in: all of them (exact mode), or a sketch
/// whose memory does not grow with the rows.
pub(crate) enum ValueSink {
    Exact(Vec<f64>),
    /// Values are buffered and counted a batch at a time ([`LogHistogram::extend`]).
    Sketch {
        sketch: LogHistogram,
        buffer: Vec<f64>,
    },
}

/// Values buffered before a sketch counts them.
const SKETCH_BUFFER: usize = 64 * 1024;

impl ValueSink {
    /// A sink for a column of up to `rows` values, exact ones kept in `buffer`.
    pub(crate) fn new(sketch: Option<u8>, rows: u64, mut buffer: Vec<f64>) -> Result<Self, SketchError> {
        Ok(match sketch {
            None => {
                buffer.clear();
                buffer.reserve_exact(usize::try_from(rows).unwrap_or(0));
                Self::Exact(buffer)
            }
            Some(precision) => {
                Self::Sketch { sketch: LogHistogram::new(precision)?, buffer: Vec::with_capacity(2 * SKETCH_BUFFER) }
            }
        })
    }

    /// Adds one batch: counts nulls, NaN and infinities into `quality` and keeps the finite values
    /// (-0.0 as 0.0, so that the total order of the sorted values is the numeric order).
    pub(crate) fn add(&mut self, array: &ArrayRef, quality: &mut DataQuality) -> Result<(), ValueError> {
        match self {
            Self::Exact(values) => add_numeric(array, quality, values),
            Self::Sketch { sketch, buffer } => {
                add_numeric(array, quality, buffer)?;
                if buffer.len() >= SKETCH_BUFFER {
                    sketch.extend(buffer);
                    buffer.clear();
                }
                Ok(())
            }
        }
    }

    /// Exact values sorted in total order, as the statistics (and partial merges) keep them.
    pub(crate) fn finish(self) -> NumericValues {
        match self {
            Self::Exact(values) => {
                // `add_numeric` keeps finite values only (-0.0 as 0.0).
                let sorted = SortedValues::sort(values).expect("the exact sink holds finite values only");
                NumericValues::Exact { sorted }
            }
            Self::Sketch { mut sketch, buffer } => {
                sketch.extend(&buffer);
                NumericValues::Sketch { sketch }
            }
        }
    }
}

/// The `match` on a numeric array's type: `$prim!(arrow type, conversion to f64)` for each numeric
/// type (64-bit integers beyond 2⁵³ rounded, decimals divided by their scale); any other type
/// returns an error from the enclosing function.
macro_rules! numeric_types {
    ($array:expr, $prim:ident) => {
        match $array.data_type() {
            DataType::Int8 => $prim!(Int8Type, |x| x as f64),
            DataType::Int16 => $prim!(Int16Type, |x| x as f64),
            DataType::Int32 => $prim!(Int32Type, |x| x as f64),
            DataType::Int64 => $prim!(Int64Type, |x| x as f64),
            DataType::UInt8 => $prim!(UInt8Type, |x| x as f64),
            DataType::UInt16 => $prim!(UInt16Type, |x| x as f64),
            DataType::UInt32 => $prim!(UInt32Type, |x| x as f64),
            DataType::UInt64 => $prim!(UInt64Type, |x| x as f64),
            DataType::Float16 => $prim!(Float16Type, f64::from),
            DataType::Float32 => $prim!(Float32Type, f64::from),
            DataType::Float64 => $prim!(Float64Type, |x| x),
            DataType::Decimal128(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal128Type, |x| x as f64 / div)
            }
            DataType::Decimal64(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal64Type, |x| x as f64 / div)
            }
            DataType::Decimal32(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal32Type, |x| x as f64 / div)
            }
            DataType::Decimal256(_, scale) => {
                let div = 10f64.powi(*scale as i32);
                $prim!(Decimal256Type, |x: arrow_buffer::i256| i256_to_f64(x) / div)
            }
            other => return Err(ValueError::NotNumeric(other.clone())),
        }
    };
}

/// A 256-bit decimal's unscaled value as `f64`: exact up to 2⁵³ like the narrower decimals, the
/// nearest `f64` of its decimal text beyond `i128`.
fn i256_to_f64(x: arrow_buffer::i256) -> f64 {
    match x.to_i128() {
        Some(v) => v as f64,
        None => x.to_string().parse().unwrap_or(f64::NAN),
    }
}

/// Appends each finite value of a numeric array to `keep` (as `f64`; 64-bit integers beyond 2⁵³
/// are rounded) and counts every value into `quality`. Reads the typed values slice and the null
/// bitmap directly.
fn add_numeric(array: &ArrayRef, quality: &mut DataQuality, keep: &mut Vec<f64>) -> Result<(), ValueError> {
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let a = array.as_primitive::<$t>();
            count_values(a.values(), a.nulls(), $conv, quality, keep)
        }};
    }
    numeric_types!(array, prim);
    Ok(())
}

fn count_values<T: Copy>(
    values: &[T],
    nulls: Option<&arrow_buffer::NullBuffer>,
    to_f64: impl Fn(T) -> f64,
    quality: &mut DataQuality,
    keep: &mut Vec<f64>,
) {
    /// Values checked at once (four validity words), in lanes (vectorised).
    const BLOCK: usize = 256;
    const LANES: usize = 8;
    let nulls = nulls.filter(|n| n.null_count() > 0);
    quality.nulls += nulls.map_or(0, |n| n.null_count());
    // The validity bitmap 64 values at a time (bit i set: value i is not null); all set when the
    // array has no nulls.
    let bitmap = nulls.map(|n| n.inner().bit_chunks());
    let mut words = bitmap.iter().flat_map(|b| b.iter().chain(std::iter::once(b.remainder_bits())));
    let mut t = Tally::default();
    for block in values.chunks(BLOCK) {
        let mut valid = [0u64; BLOCK / 64];
        let mut present = 0;
        for (k, word) in valid.iter_mut().enumerate().take(block.len().div_ceil(64)) {
            *word = words.next().unwrap_or(u64::MAX);
            let width = (block.len() - 64 * k).min(64);
            present += (*word & (u64::MAX >> (64 - width))).count_ones() as usize;
        }
        if present == BLOCK {
            // The common case, no nulls and all finite: one pass in eight lanes (vectorised) for
            // the check and the extremes, comparisons instead of f64::min/max (which would look
            // for NaN), then a copy.
            let (mut finite, mut lo, mut hi) = ([true; LANES], [f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
            for lanes in block.chunks_exact(LANES) {
                for k in 0..LANES {
                    let x = to_f64(lanes[k]);
                    finite[k] &= x.is_finite();
                    lo[k] = if x < lo[k] { x } else { lo[k] };
                    hi[k] = if x > hi[k] { x } else { hi[k] };
                }
            }
            if finite.iter().all(|&f| f) {
                t.min = lo.iter().fold(t.min, |m, &x| if x < m { x } else { m });
                t.max = hi.iter().fold(t.max, |m, &x| if x > m { x } else { m });
                keep.extend(block.iter().map(|&v| to_f64(v) + 0.0));
                t.finite += BLOCK;
                continue;
            }
        }
        t.mixed(block, &valid, &to_f64, keep);
    }
    quality.total += values.len();
    quality.finite += t.finite;
    quality.nan += t.nan;
    quality.positive_infinity += t.positive;
    quality.negative_infinity += t.negative;
    if t.finite > 0 {
        quality.min = Some(quality.min.map_or(t.min, |m| m.min(t.min)));
        quality.max = Some(quality.max.map_or(t.max, |m| m.max(t.max)));
    }
}

/// What one batch of a numeric column holds, as [`count_values`] counts it.
struct Tally {
    finite: usize,
    nan: usize,
    positive: usize,
    negative: usize,
    min: f64,
    max: f64,
}

impl Default for Tally {
    fn default() -> Self {
        Self { finite: 0, nan: 0, positive: 0, negative: 0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Tally {
    /// A block of up to 256 values with nulls (bit i of `valid[i / 64]` clear), NaN or
    /// infinities: each present value counted by kind, the finite ones kept (-0.0 as 0.0). With
    /// selects and counts rather than branches, as such values come at random.
    fn mixed<T: Copy>(&mut self, block: &[T], valid: &[u64; 4], to_f64: &impl Fn(T) -> f64, keep: &mut Vec<f64>) {
        let mut kept = [0.0f64; 256];
        let mut n = 0;
        for (i, &v) in block.iter().enumerate() {
            let x = to_f64(v);
            let present = (valid[i / 64] >> (i % 64)) & 1 == 1;
            let finite = present & x.is_finite();
            kept[n] = x + 0.0;
            n += usize::from(finite);
            self.min = if finite & (x < self.min) { x } else { self.min };
            self.max = if finite & (x > self.max) { x } else { self.max };
            self.nan += usize::from(present & x.is_nan());
            self.positive += usize::from(present & (x == f64::INFINITY));
            self.negative += usize::from(present & (x == f64::NEG_INFINITY));
        }
        self.finite += n;
        keep.extend_from_slice(&kept[..n]);
    }
}

/// The values of a numeric array as `f64` (64-bit integers beyond 2⁵³ are rounded), nulls as
/// `None`; from the typed values slice and the null bitmap.
pub(crate) fn numeric_values(array: &ArrayRef) -> Result<Vec<Option<f64>>, ValueError> {
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let a = array.as_primitive::<$t>();
            let conv = $conv;
            match a.nulls().filter(|n| n.null_count() > 0) {
                None => a.values().iter().map(|&x| Some(conv(x))).collect(),
                Some(n) => a.values().iter().enumerate().map(|(i, &x)| n.is_valid(i).then(|| conv(x))).collect(),
            }
        }};
    }
    Ok(numeric_types!(array, prim))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A numeric batch with nulls (`None`), NaN, infinities and -0.0 at `specials`, sliced from
    /// `offset` on (so the validity bitmap starts mid-byte).
    fn numeric_batch(finite: &[f64], specials: &[(usize, Option<f64>)], offset: usize) -> (ArrayRef, Vec<Option<f64>>) {
        let mut values: Vec<Option<f64>> = finite.iter().copied().map(Some).collect();
        for &(at, v) in specials {
            if let Some(slot) = values.get_mut(at) {
                *slot = v;
            }
        }
        // Under a null, a value that would count were the null ignored (Arrow leaves it unspecified).
        let raw: Vec<f64> =
            values.iter().enumerate().map(|(i, v)| v.unwrap_or([f64::NAN, f64::INFINITY, 1.5][i % 3])).collect();
        let validity = arrow_buffer::NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<_>>());
        let array = arrow_array::Float64Array::new(raw.into(), Some(validity));
        let offset = offset.min(values.len());
        (Arc::new(array.slice(offset, values.len() - offset)), values.split_off(offset))
    }

    proptest::proptest! {
        #[test]
        fn numeric_batches_count_and_keep_what_the_domain_scan_does(
            finite in proptest::collection::vec(-1e6f64..1e6, 0..1300),
            specials in proptest::collection::vec(
                (0usize..1300, proptest::sample::select(vec![
                    None, Some(f64::NAN), Some(f64::INFINITY), Some(f64::NEG_INFINITY), Some(-0.0), Some(f64::MAX),
                ])),
                0..40,
            ),
            offset in 0usize..70,
        ) {
            let (array, values) = numeric_batch(&finite, &specials, offset);
            let (mut quality, mut kept) = (DataQuality::default(), vec![7.0]);
            add_numeric(&array, &mut quality, &mut kept).unwrap();
            let (expected, finite) = DataQuality::split_finite(values.iter().copied());
            proptest::prop_assert_eq!(&quality, &expected);
            // Appended after what the buffer held, in order, -0.0 as 0.0.
            let expected_kept: Vec<u64> = std::iter::once(7.0).chain(finite.iter().map(|x| x + 0.0)).map(f64::to_bits).collect();
            proptest::prop_assert_eq!(kept.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), expected_kept);
        }
    }

    #[test]
    fn a_numeric_batch_counts_every_kind_of_value_in_clean_and_mixed_blocks() {
        // 600 values: blocks 0 and 2 clean (the vectorised path), block 1 with one of each kind.
        let finite: Vec<f64> = (0..600).map(|i| f64::from(i) - 100.5).collect();
        let specials = [(300, None), (301, Some(f64::NAN)), (302, Some(f64::INFINITY)), (303, Some(f64::NEG_INFINITY))];
        let (array, _) = numeric_batch(&finite, &specials, 0);
        let (mut quality, mut kept) = (DataQuality::default(), Vec::new());
        add_numeric(&array, &mut quality, &mut kept).unwrap();
        assert_eq!((quality.total, quality.nulls, quality.nan), (600, 1, 1));
        assert_eq!((quality.positive_infinity, quality.negative_infinity, quality.finite), (1, 1, 596));
        assert_eq!((quality.min, quality.max), (Some(-100.5), Some(498.5)));
        assert_eq!(kept.len(), 596);
        assert_eq!((kept[299], kept[300]), (198.5, 203.5));
    }
}
