//! Which rows a window takes: a timestamp range on a column and a model filter, applied first to
//! Hive partitions (files that cannot match are not opened), then to row groups (Parquet
//! statistics of the timestamp column), then to rows (a Parquet row filter).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Schema, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, RowFilter};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics as ParquetStatistics;
use parquet::schema::types::SchemaDescriptor;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Partition names holding a day (`YYYY-MM-DD`).
const DATE_PARTITIONS: [&str; 4] = ["dt", "date", "ds", "day"];
/// The model filter's column and partition names.
pub const MODEL_NAME: &str = "model_name";
pub const MODEL_VERSION: &str = "model_version";

/// A half-open time range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

impl TimeRange {
    fn start_ns(&self) -> i128 {
        self.start.unix_timestamp_nanos()
    }

    fn end_ns(&self) -> i128 {
        self.end.unix_timestamp_nanos()
    }

    /// Whether `[start, end)` (nanoseconds) overlaps this range.
    fn overlaps(&self, start_ns: i128, end_ns: i128) -> bool {
        start_ns < self.end_ns() && end_ns > self.start_ns()
    }
}

/// RFC 3339 in UTC, whole seconds: `2026-11-01T00:00:00Z`.
pub fn rfc3339_seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("0 is a valid nanosecond");
    t.format(&Rfc3339).expect("a UTC time formats as RFC 3339")
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", rfc3339_seconds(self.start), rfc3339_seconds(self.end))
    }
}

/// Why a window's `START..END` text is not a time range.
#[derive(Debug, thiserror::Error)]
pub enum TimeRangeError {
    #[error("{0:?} is not START..END (RFC 3339 times)")]
    NotARange(String),
    #[error("{text:?} is not an RFC 3339 time: {source}")]
    NotATime { text: String, source: time::error::Parse },
    #[error("{0:?}: the start is not before the end")]
    Backwards(String),
}

impl FromStr for TimeRange {
    type Err = TimeRangeError;

    /// `START..END`, both RFC 3339 (`2026-11-01T00:00:00Z`); START before END.
    fn from_str(s: &str) -> Result<Self, TimeRangeError> {
        let (a, b) = s.split_once("..").ok_or_else(|| TimeRangeError::NotARange(s.to_owned()))?;
        let parse = |t: &str| {
            OffsetDateTime::parse(t.trim(), &Rfc3339)
                .map_err(|source| TimeRangeError::NotATime { text: t.to_owned(), source })
        };
        let (start, end) = (parse(a)?, parse(b)?);
        if start >= end {
            return Err(TimeRangeError::Backwards(s.to_owned()));
        }
        Ok(Self { start, end })
    }
}

/// Why a file's schema cannot be filtered as its window asks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterColumnError {
    #[error("no timestamp column {0:?}")]
    NoTimestamp(String),
    #[error("timestamp column {column:?} has type {data_type}, not a timestamp")]
    NotTimestamp { column: String, data_type: DataType },
    /// Neither the model column nor the file's partition says which model a row is of.
    #[error("no column or partition {0} to filter by")]
    NoModel(&'static str),
}

/// The rows one window takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSpec {
    /// Timestamp column and range (both or neither).
    pub time: Option<(String, TimeRange)>,
    pub model_name: Option<String>,
    pub model_version: Option<String>,
}

impl RowSpec {
    /// Whether rows are selected within files (by time or model), so that row-group metadata
    /// only bounds the rows read.
    pub fn filters_rows(&self) -> bool {
        self.time.is_some() || self.model_name.is_some() || self.model_version.is_some()
    }

    /// Why a file cannot hold matching rows, judged from its Hive partitions alone.
    pub fn prune_partitions(&self, partitions: &BTreeMap<String, String>) -> Option<String> {
        for (name, wanted) in [(MODEL_NAME, &self.model_name), (MODEL_VERSION, &self.model_version)] {
            if let (Some(wanted), Some(value)) = (wanted, partitions.get(name))
                && value != wanted
            {
                return Some(format!("partition {name}={value} is not {wanted}"));
            }
        }
        if let Some((_, range)) = &self.time {
            for name in DATE_PARTITIONS {
                let Some(day) = partitions.get(name).and_then(|v| parse_day(v)) else { continue };
                let start = day.unix_timestamp_nanos();
                let end = start + 86_400 * 1_000_000_000;
                if !range.overlaps(start, end) {
                    return Some(format!("partition {name}={} is outside {range}", partitions[name]));
                }
            }
        }
        None
    }

    /// Columns the filter reads, with why a file without them cannot be filtered. A model column
    /// may be missing when the file's partition already says which model it holds.
    pub fn check_schema(
        &self,
        schema: &Schema,
        partitions: &BTreeMap<String, String>,
    ) -> Result<(), FilterColumnError> {
        if let Some((column, _)) = &self.time {
            let field = schema.field_with_name(column).map_err(|_| FilterColumnError::NoTimestamp(column.clone()))?;
            if !matches!(field.data_type(), DataType::Timestamp(..)) {
                return Err(FilterColumnError::NotTimestamp {
                    column: column.clone(),
                    data_type: field.data_type().clone(),
                });
            }
        }
        for (name, wanted) in [(MODEL_NAME, &self.model_name), (MODEL_VERSION, &self.model_version)] {
            if wanted.is_some() && schema.index_of(name).is_err() && !partitions.contains_key(name) {
                return Err(FilterColumnError::NoModel(name));
            }
        }
        Ok(())
    }

    /// The row groups whose timestamp statistics overlap the range (all without a range or
    /// without statistics).
    pub fn row_groups(&self, metadata: &ParquetMetaData, schema: &Schema) -> Vec<usize> {
        let all: Vec<usize> = (0..metadata.num_row_groups()).collect();
        let Some((column, range)) = &self.time else { return all };
        let Ok(field) = schema.field_with_name(column) else { return all };
        let DataType::Timestamp(unit, _) = field.data_type() else { return all };
        let per_unit = nanos_per_unit(*unit);
        let Some(leaf) = leaf_index(metadata.file_metadata().schema_descr(), column) else { return all };
        all.into_iter()
            .filter(|&i| match metadata.row_group(i).column(leaf).statistics() {
                Some(ParquetStatistics::Int64(s)) => match (s.min_opt(), s.max_opt()) {
                    (Some(&min), Some(&max)) => {
                        range.overlaps(min as i128 * per_unit, max as i128 * per_unit + per_unit)
                    }
                    _ => true,
                },
                _ => true,
            })
            .collect()
    }

    /// The row filter for a file, `None` when nothing filters rows. Model columns missing from the
    /// file are not filtered (its partition matched, see [`RowSpec::check_schema`]).
    pub fn row_filter(&self, schema: &Schema, parquet_schema: &SchemaDescriptor) -> Option<RowFilter> {
        let mut roots = Vec::new();
        let time = self.time.as_ref().and_then(|(c, r)| schema.index_of(c).ok().map(|i| (i, c.clone(), *r)));
        if let Some((i, ..)) = &time {
            roots.push(*i);
        }
        let mut models = Vec::new();
        for (name, wanted) in [(MODEL_NAME, &self.model_name), (MODEL_VERSION, &self.model_version)] {
            if let (Some(wanted), Ok(i)) = (wanted, schema.index_of(name)) {
                roots.push(i);
                models.push((name, wanted.clone()));
            }
        }
        if roots.is_empty() {
            return None;
        }
        let mask = ProjectionMask::roots(parquet_schema, roots);
        let predicate = ArrowPredicateFn::new(mask, move |batch: RecordBatch| {
            let mut keep = vec![true; batch.num_rows()];
            if let Some((_, column, range)) = &time {
                let array = batch.column_by_name(column).expect("projected");
                timestamps_in(array, range, &mut keep)?;
            }
            for (name, wanted) in &models {
                let array = batch.column_by_name(name).expect("projected");
                equals_text(array, wanted, &mut keep)?;
            }
            Ok(BooleanArray::from(keep))
        });
        Some(RowFilter::new(vec![Box::new(predicate)]))
    }
}

fn parse_day(value: &str) -> Option<OffsetDateTime> {
    let day = value.get(..10)?;
    let mut parts = day.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    time::Date::from_calendar_date(year, month, day).ok().map(|d| d.midnight().assume_utc())
}

fn nanos_per_unit(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// The leaf index of a top-level primitive column.
fn leaf_index(schema: &SchemaDescriptor, name: &str) -> Option<usize> {
    (0..schema.num_columns()).find(|&i| {
        let path = schema.column(i).path().parts().to_vec();
        path.len() == 1 && path[0] == name
    })
}

/// Clears `keep` for rows whose timestamp is null or outside the range.
fn timestamps_in(array: &ArrayRef, range: &TimeRange, keep: &mut [bool]) -> Result<(), ArrowError> {
    let (start, end) = (range.start_ns(), range.end_ns());
    macro_rules! check {
        ($t:ty, $unit:expr) => {{
            let per = nanos_per_unit($unit);
            for (k, v) in keep.iter_mut().zip(array.as_primitive::<$t>().iter()) {
                *k &= v.is_some_and(|v| {
                    let ns = v as i128 * per;
                    ns >= start && ns < end
                });
            }
        }};
    }
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => check!(TimestampSecondType, TimeUnit::Second),
        DataType::Timestamp(TimeUnit::Millisecond, _) => check!(TimestampMillisecondType, TimeUnit::Millisecond),
        DataType::Timestamp(TimeUnit::Microsecond, _) => check!(TimestampMicrosecondType, TimeUnit::Microsecond),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => check!(TimestampNanosecondType, TimeUnit::Nanosecond),
        other => return Err(ArrowError::InvalidArgumentError(format!("{other} is not a timestamp type"))),
    }
    Ok(())
}

/// Clears `keep` for rows whose value, as text, is not `wanted` (strings, dictionaries of strings,
/// integers).
fn equals_text(array: &ArrayRef, wanted: &str, keep: &mut [bool]) -> Result<(), ArrowError> {
    macro_rules! ints {
        ($t:ty) => {{
            let wanted: Option<i128> = wanted.parse().ok();
            for (k, v) in keep.iter_mut().zip(array.as_primitive::<$t>().iter()) {
                *k &= v.is_some_and(|v| Some(v as i128) == wanted);
            }
        }};
    }
    match array.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        _ => {
            let mut i = 0;
            crate::read::categories::visit_categories(array, &mut |v| {
                keep[i] &= v == Some(wanted);
                i += 1;
            })
            .map_err(|e| ArrowError::InvalidArgumentError(e.to_string()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> TimeRange {
        s.parse().unwrap()
    }

    #[test]
    fn time_ranges_parse_and_refuse_bad_input() {
        let r = range("2026-11-01T00:00:00Z..2026-11-02T00:00:00Z");
        assert_eq!(r.to_string(), "2026-11-01T00:00:00Z..2026-11-02T00:00:00Z");
        assert!("2026-11-01".parse::<TimeRange>().unwrap_err().to_string().contains("START..END"));
        assert!(
            "2026-11-02T00:00:00Z..2026-11-01T00:00:00Z"
                .parse::<TimeRange>()
                .unwrap_err()
                .to_string()
                .contains("not before")
        );
        assert!("yesterday..2026-11-01T00:00:00Z".parse::<TimeRange>().unwrap_err().to_string().contains("RFC 3339"));
    }

    #[test]
    fn partitions_prune_other_models_and_days_outside_the_window() {
        let spec = RowSpec {
            time: Some(("ts".into(), range("2026-11-01T12:00:00Z..2026-11-02T00:00:00Z"))),
            model_name: Some("fraud".into()),
            model_version: None,
        };
        let p = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(spec.prune_partitions(&p(&[("dt", "2026-11-01"), ("model_name", "fraud")])), None);
        assert!(spec.prune_partitions(&p(&[("dt", "2026-10-31")])).unwrap().contains("outside"));
        assert!(spec.prune_partitions(&p(&[("dt", "2026-11-02")])).is_some(), "end is exclusive");
        assert!(spec.prune_partitions(&p(&[("model_name", "churn")])).unwrap().contains("model_name=churn"));
        assert_eq!(spec.prune_partitions(&p(&[("dt", "not-a-day")])), None, "unparsable partitions are read");
    }

    #[test]
    fn timestamps_outside_the_range_and_nulls_are_dropped() {
        use arrow_array::TimestampSecondArray;
        let r = range("1970-01-01T00:00:10Z..1970-01-01T00:00:20Z");
        let array: ArrayRef =
            std::sync::Arc::new(TimestampSecondArray::from(vec![Some(9), Some(10), None, Some(19), Some(20)]));
        let mut keep = vec![true; 5];
        timestamps_in(&array, &r, &mut keep).unwrap();
        assert_eq!(keep, [false, true, false, true, false]);
    }

    #[test]
    fn model_values_compare_as_text_or_integers() {
        let names: ArrayRef = std::sync::Arc::new(arrow_array::StringArray::from(vec![Some("a"), None, Some("b")]));
        let mut keep = vec![true; 3];
        equals_text(&names, "a", &mut keep).unwrap();
        assert_eq!(keep, [true, false, false]);
        let versions: ArrayRef = std::sync::Arc::new(arrow_array::Int64Array::from(vec![3, 4, 3]));
        let mut keep = vec![true; 3];
        equals_text(&versions, "3", &mut keep).unwrap();
        assert_eq!(keep, [true, false, true]);
    }
}
