//! Benchmark predictions in Parquet → classification metrics, streamed record batch by record batch
//! with only the two needed columns decoded.
//!
//! Columns (first match wins, case-sensitive): the true label — `label`, `y_true`, `true_label`,
//! `target`; a probability score — `score`, `y_score`, `probability`, `y_prob`; or, without a score,
//! a predicted label — `prediction`, `predicted_label`, `y_pred`. Labels may be booleans or the
//! integers / floats 0 and 1; scores are floats in [0, 1].
//!
//! [`paired`] is the adapter of the application's `PairedPredictions` port over these files.

pub mod paired;

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use deltaone::classification::ClassificationAccumulator;
use deltaone::confidence::paired::Value;
use deltaone::confidence::{PairedRows, PairingError, Predictions, RowPrediction};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use deltaone_app::artifact::ArtifactError;

pub const LABEL_COLUMNS: [&str; 4] = ["label", "y_true", "true_label", "target"];
pub const SCORE_COLUMNS: [&str; 4] = ["score", "y_score", "probability", "y_prob"];
pub const PREDICTION_COLUMNS: [&str; 3] = ["prediction", "predicted_label", "y_pred"];
/// The column that pairs a candidate's rows with a baseline's (integers or strings).
pub const ROW_ID_COLUMNS: [&str; 4] = ["row_id", "id", "example_id", "row"];
/// One file holding both models' scores: these two columns beside the label and row id.
pub const CANDIDATE_SCORE_COLUMN: &str = "candidate_score";
pub const BASELINE_SCORE_COLUMN: &str = "baseline_score";

/// The metrics logged for a predictions file (AUROC and log-loss only with scores).
pub const METRIC_NAMES: [&str; 6] = ["accuracy", "precision", "recall", "f1", "auroc", "log_loss"];

/// Rows decoded per record batch.
const BATCH_ROWS: usize = 64 * 1024;

/// Computes accuracy, precision, recall, F1 and — with scores — AUROC and log-loss.
pub fn metrics_from_parquet(key: &str, bytes: bytes::Bytes) -> Result<BTreeMap<String, f64>, ArtifactError> {
    guarded(key, || read_metrics(key, bytes))
}

fn read_metrics(key: &str, bytes: bytes::Bytes) -> Result<BTreeMap<String, f64>, ArtifactError> {
    let corrupt = |reason: String| ArtifactError::CorruptParquet { key: key.to_owned(), reason };
    let unfit = |reason: String| ArtifactError::UnfitPredictions { key: key.to_owned(), reason };
    let unfit_column = |e: ColumnError| unfit(e.to_string());

    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| corrupt(e.to_string()))?;
    let schema = builder.schema().clone();
    let find = |names: &[&'static str]| names.iter().find_map(|n| schema.index_of(n).ok().map(|i| (i, *n)));
    let Columns { label: (label_index, label_name), value: (value_index, value_name), scored } =
        Columns::find(&find).map_err(unfit_column)?;
    // Projection by leaf index: nested columns are not expected here, so leaves are fields.
    let mask = ProjectionMask::roots(builder.parquet_schema(), [label_index, value_index]);
    let reader =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| corrupt(e.to_string()))?;

    let mut accumulator = ClassificationAccumulator::new(0.5).expect("0.5 is a valid threshold");
    let mut row = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| corrupt(e.to_string()))?;
        let labels = binary_column(batch.column_by_name(label_name).expect("projected"), label_name, row)
            .map_err(unfit_column)?;
        let values = batch.column_by_name(value_name).expect("projected");
        if scored {
            let scores = float_column(values, value_name, row).map_err(unfit_column)?;
            accumulator.extend_scores(&labels, &scores).map_err(|e| unfit(format!("column {value_name:?}: {e}")))?;
        } else {
            let predicted = binary_column(values, value_name, row).map_err(unfit_column)?;
            accumulator.extend_predictions(&labels, &predicted).map_err(|e| unfit(e.to_string()))?;
        }
        row += batch.num_rows();
    }
    let metrics = accumulator.finish().map_err(|e| unfit(e.to_string()))?;
    Ok(METRIC_NAMES.iter().filter_map(|name| metrics.metric(name).map(|v| ((*name).to_owned(), v))).collect())
}

/// Every row of a predictions file with its row id, label and score (or hard prediction), for
/// pairing with another version's predictions ([`deltaone::confidence::PairedRows::pair_by_row_id`]).
/// Without a row-id column the rows cannot be paired: a typed `NoRowId` pairing error.
pub fn rows_from_parquet(
    key: &str,
    bytes: bytes::Bytes,
    side: &'static str,
) -> Result<Result<Vec<RowPrediction>, PairingError>, ArtifactError> {
    guarded(key, || read_rows(key, bytes, side))
}

fn read_rows(
    key: &str,
    bytes: bytes::Bytes,
    side: &'static str,
) -> Result<Result<Vec<RowPrediction>, PairingError>, ArtifactError> {
    let corrupt = |reason: String| ArtifactError::CorruptParquet { key: key.to_owned(), reason };
    let unfit = |reason: String| ArtifactError::UnfitPredictions { key: key.to_owned(), reason };
    let unfit_column = |e: ColumnError| unfit(e.to_string());
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| corrupt(e.to_string()))?;
    let schema = builder.schema().clone();
    let find = |names: &[&'static str]| names.iter().find_map(|n| schema.index_of(n).ok().map(|i| (i, *n)));
    let Some((id_index, id_name)) = find(&ROW_ID_COLUMNS) else {
        return Ok(Err(PairingError::NoRowId { side }));
    };
    let Columns { label: (label_index, label_name), value: (value_index, value_name), scored } =
        Columns::find(&find).map_err(unfit_column)?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [id_index, label_index, value_index]);
    let reader =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| corrupt(e.to_string()))?;
    let mut rows = Vec::new();
    let mut row = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| corrupt(e.to_string()))?;
        let ids = id_column(batch.column_by_name(id_name).expect("projected"), id_name, row).map_err(unfit_column)?;
        let labels = binary_column(batch.column_by_name(label_name).expect("projected"), label_name, row)
            .map_err(unfit_column)?;
        let values = batch.column_by_name(value_name).expect("projected");
        let values: Vec<Value> = if scored {
            float_column(values, value_name, row).map_err(unfit_column)?.into_iter().map(Value::Score).collect()
        } else {
            binary_column(values, value_name, row).map_err(unfit_column)?.into_iter().map(Value::Label).collect()
        };
        rows.extend(ids.into_iter().zip(labels).zip(values).map(|((row_id, label), value)| RowPrediction {
            row_id,
            label,
            value,
        }));
        row += batch.num_rows();
    }
    Ok(Ok(rows))
}

/// One file holding both models' scores ([`CANDIDATE_SCORE_COLUMN`], [`BASELINE_SCORE_COLUMN`]) on
/// the same rows: paired as they stand. `None` when the file does not have both columns.
pub fn paired_from_parquet(key: &str, bytes: bytes::Bytes) -> Result<Option<PairedRows>, ArtifactError> {
    guarded(key, || read_paired(key, bytes))
}

fn read_paired(key: &str, bytes: bytes::Bytes) -> Result<Option<PairedRows>, ArtifactError> {
    let corrupt = |reason: String| ArtifactError::CorruptParquet { key: key.to_owned(), reason };
    let unfit = |reason: String| ArtifactError::UnfitPredictions { key: key.to_owned(), reason };
    let unfit_column = |e: ColumnError| unfit(e.to_string());
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| corrupt(e.to_string()))?;
    let schema = builder.schema().clone();
    let (Ok(c_index), Ok(b_index)) = (schema.index_of(CANDIDATE_SCORE_COLUMN), schema.index_of(BASELINE_SCORE_COLUMN))
    else {
        return Ok(None);
    };
    let (label_index, label_name) = LABEL_COLUMNS
        .iter()
        .find_map(|n| schema.index_of(n).ok().map(|i| (i, *n)))
        .ok_or_else(|| unfit_column(ColumnError::NoLabel))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [label_index, c_index, b_index]);
    let reader =
        builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(|e| corrupt(e.to_string()))?;
    let (mut labels, mut candidate, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    for batch in reader {
        let batch = batch.map_err(|e| corrupt(e.to_string()))?;
        let row = labels.len();
        labels.extend(
            binary_column(batch.column_by_name(label_name).expect("projected"), label_name, row)
                .map_err(unfit_column)?,
        );
        for (name, out) in [(CANDIDATE_SCORE_COLUMN, &mut candidate), (BASELINE_SCORE_COLUMN, &mut baseline)] {
            out.extend(float_column(batch.column_by_name(name).expect("projected"), name, row).map_err(unfit_column)?);
        }
    }
    PairedRows::new(labels, Predictions::Scores(candidate), Predictions::Scores(baseline))
        .map(Some)
        .map_err(|e| unfit(e.to_string()))
}

/// Runs one read of a file, turning a panic inside the Parquet or Arrow readers into
/// `CorruptParquet`: a corrupt file can reach their internal assertions (fuzzing found one in the
/// definition-level decoder of parquet 60.1), and an uploaded file must be quarantined with a
/// reason, not crash the function.
fn guarded<T>(key: &str, read: impl FnOnce() -> Result<T, ArtifactError>) -> Result<T, ArtifactError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(ArtifactError::CorruptParquet {
            key: key.to_owned(),
            reason: format!("the Parquet reader failed: {message}"),
        })
    })
}

/// Why a predictions file's columns do not fit (reported as `ArtifactError::UnfitPredictions`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum ColumnError {
    #[error("no label column (one of {LABEL_COLUMNS:?})")]
    NoLabel,
    #[error("no score column (one of {SCORE_COLUMNS:?}) and no prediction column (one of {PREDICTION_COLUMNS:?})")]
    NoScoreOrPrediction,
    #[error("column {column:?} is null at row {row}")]
    Null { column: String, row: usize },
    #[error("column {column:?} has type {found}; {expected}")]
    WrongType { column: String, found: DataType, expected: &'static str },
    #[error("column {column:?} holds {value} at row {row}; labels must be 0 or 1")]
    NotBinary { column: String, value: f64, row: usize },
}

fn wrong_type(column: &str, found: &DataType, expected: &'static str) -> ColumnError {
    ColumnError::WrongType { column: column.to_owned(), found: found.clone(), expected }
}

/// A row-id column (integers or strings) as text keys; nulls are errors naming the row.
fn id_column(array: &ArrayRef, name: &str, first_row: usize) -> Result<Vec<String>, ColumnError> {
    if array.null_count() > 0 {
        let i = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
        return Err(ColumnError::Null { column: name.to_owned(), row: first_row + i });
    }
    match array.data_type() {
        DataType::Int32 => Ok(array.as_primitive::<Int32Type>().values().iter().map(|x| x.to_string()).collect()),
        DataType::Int64 => Ok(array.as_primitive::<Int64Type>().values().iter().map(|x| x.to_string()).collect()),
        DataType::Utf8 => Ok(array.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_owned()).collect()),
        DataType::LargeUtf8 => Ok(array.as_string::<i64>().iter().map(|s| s.unwrap_or_default().to_owned()).collect()),
        other => Err(wrong_type(name, other, "row ids must be integers or strings")),
    }
}

/// A 0/1 or boolean column as booleans; nulls and other values are errors naming the row.
fn binary_column(array: &ArrayRef, name: &str, first_row: usize) -> Result<Vec<bool>, ColumnError> {
    if array.null_count() > 0 {
        let i = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
        return Err(ColumnError::Null { column: name.to_owned(), row: first_row + i });
    }
    let from_f64 = |values: Vec<f64>| -> Result<Vec<bool>, ColumnError> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, x)| match x {
                0.0 => Ok(false),
                1.0 => Ok(true),
                other => Err(ColumnError::NotBinary { column: name.to_owned(), value: other, row: first_row + i }),
            })
            .collect()
    };
    match array.data_type() {
        DataType::Boolean => Ok(array.as_boolean().iter().map(|b| b.unwrap_or(false)).collect()),
        DataType::Int8 => from_f64(array.as_primitive::<Int8Type>().values().iter().map(|&x| f64::from(x)).collect()),
        DataType::Int16 => from_f64(array.as_primitive::<Int16Type>().values().iter().map(|&x| f64::from(x)).collect()),
        DataType::Int32 => from_f64(array.as_primitive::<Int32Type>().values().iter().map(|&x| f64::from(x)).collect()),
        DataType::Int64 => from_f64(array.as_primitive::<Int64Type>().values().iter().map(|&x| x as f64).collect()),
        DataType::UInt8 => from_f64(array.as_primitive::<UInt8Type>().values().iter().map(|&x| f64::from(x)).collect()),
        DataType::Float32 | DataType::Float64 => from_f64(float_column(array, name, first_row)?),
        other => Err(wrong_type(name, other, "labels must be boolean or 0/1 numbers")),
    }
}

fn float_column(array: &ArrayRef, name: &str, first_row: usize) -> Result<Vec<f64>, ColumnError> {
    if array.null_count() > 0 {
        let i = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
        return Err(ColumnError::Null { column: name.to_owned(), row: first_row + i });
    }
    match array.data_type() {
        DataType::Float64 => Ok(array.as_primitive::<Float64Type>().values().to_vec()),
        DataType::Float32 => Ok(array.as_primitive::<Float32Type>().values().iter().map(|&x| f64::from(x)).collect()),
        other => Err(wrong_type(name, other, "scores must be float")),
    }
}

/// Where a predictions file keeps its label and its score (or hard prediction), by the names the
/// README lists; the score wins when a file has both.
struct Columns {
    label: Column,
    value: Column,
    scored: bool,
}

/// A column's index in the file's schema and the name it was found by.
type Column = (usize, &'static str);

impl Columns {
    fn find(find: &dyn Fn(&[&'static str]) -> Option<Column>) -> Result<Self, ColumnError> {
        let label = find(&LABEL_COLUMNS).ok_or(ColumnError::NoLabel)?;
        let (value, scored) = match (find(&SCORE_COLUMNS), find(&PREDICTION_COLUMNS)) {
            (Some(score), _) => (score, true),
            (None, Some(prediction)) => (prediction, false),
            (None, None) => return Err(ColumnError::NoScoreOrPrediction),
        };
        Ok(Self { label, value, scored })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use serde_json::Value;

    use super::*;

    /// The scikit-learn fixture the domain tests use (20,000 rows, continuous scores).
    const FIXTURE: &str = include_str!("../../../../src/classification_testdata/continuous_n20000.json");

    fn fixture() -> (Vec<bool>, Vec<f64>, BTreeMap<String, f64>) {
        let doc: Value = serde_json::from_str(FIXTURE).unwrap();
        let case = &doc["cases"][0];
        let labels: Vec<bool> = case["labels"].as_str().unwrap().chars().map(|c| c == '1').collect();
        let scale = case["score_scale"].as_f64().unwrap();
        let numerators: Vec<f64> =
            case["score_numerators"].as_array().unwrap().iter().map(|n| n.as_f64().unwrap()).collect();
        let scores = numerators.into_iter().map(|n| n / scale).collect();
        let expected = case["expected"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let name = if k == "roc_auc" { "auroc" } else { k.as_str() };
                (name.to_owned(), v.as_str().unwrap().parse().unwrap())
            })
            .collect();
        (labels, scores, expected)
    }

    /// Writes columns into Parquet with small row groups, so that reading takes many batches.
    fn parquet(columns: Vec<(&str, ArrayRef)>) -> bytes::Bytes {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let props = WriterProperties::builder().set_max_row_group_row_count(Some(3000)).build();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        bytes::Bytes::from(out)
    }

    // Found by fuzzing (tests/fuzz/regressions/predictions_parquet/): this file's definition levels
    // make parquet 60.1's reader panic ("offset + len out of bounds"); it is refused as corrupt.
    #[test]
    fn a_file_that_makes_the_parquet_reader_panic_is_corrupt_not_a_crash() {
        let bytes = bytes::Bytes::from_static(include_bytes!(
            "../../../../tests/fuzz/regressions/predictions_parquet/definition-levels-out-of-bounds.parquet"
        ));
        for err in [
            metrics_from_parquet("k.parquet", bytes.clone()).unwrap_err(),
            rows_from_parquet("k.parquet", bytes.clone(), "candidate").unwrap_err(),
        ] {
            assert!(matches!(err, ArtifactError::CorruptParquet { .. }), "{err}");
            assert!(err.to_string().contains("\"k.parquet\""), "{err}");
        }
    }

    #[test]
    fn metrics_read_from_parquet_equal_scikit_learn_within_1e_12() {
        let (labels, scores, expected) = fixture();
        let bytes = parquet(vec![
            ("row_id", Arc::new(Int64Array::from_iter_values(0..labels.len() as i64)) as ArrayRef),
            ("y_true", Arc::new(BooleanArray::from(labels)) as ArrayRef),
            ("probability", Arc::new(Float64Array::from(scores)) as ArrayRef),
        ]);
        let metrics = metrics_from_parquet("k", bytes).unwrap();
        assert_eq!(metrics.len(), 6, "{metrics:?}");
        for (name, want) in &expected {
            let got = metrics[name];
            assert!((got - want).abs() <= 1e-12, "{name}: {got} vs scikit-learn {want}");
        }
    }

    #[test]
    fn hard_predictions_give_the_four_count_metrics() {
        let labels = Arc::new(Int64Array::from(vec![1, 0, 1, 1])) as ArrayRef;
        let predicted = Arc::new(BooleanArray::from(vec![true, false, false, true])) as ArrayRef;
        let metrics = metrics_from_parquet("k", parquet(vec![("label", labels), ("prediction", predicted)])).unwrap();
        assert_eq!(metrics["accuracy"], 0.75);
        assert_eq!(metrics["precision"], 1.0);
        assert!(!metrics.contains_key("auroc") && !metrics.contains_key("log_loss"));
    }

    #[test]
    fn unfit_and_corrupt_files_are_typed_errors_naming_the_problem() {
        let only_labels = parquet(vec![("label", Arc::new(BooleanArray::from(vec![true])) as ArrayRef)]);
        let err = metrics_from_parquet("k", only_labels).unwrap_err().to_string();
        assert!(err.contains("no score column"), "{err}");

        let bad_label = parquet(vec![
            ("label", Arc::new(Int64Array::from(vec![0, 2])) as ArrayRef),
            ("score", Arc::new(Float64Array::from(vec![0.1, 0.9])) as ArrayRef),
        ]);
        let err = metrics_from_parquet("k", bad_label).unwrap_err().to_string();
        assert!(err.contains("holds 2 at row 1"), "{err}");

        let nan_score = parquet(vec![
            ("label", Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef),
            ("score", Arc::new(Float64Array::from(vec![0.3, f64::NAN])) as ArrayRef),
        ]);
        assert!(matches!(metrics_from_parquet("k", nan_score), Err(ArtifactError::UnfitPredictions { .. })));

        let empty = parquet(vec![
            ("label", Arc::new(BooleanArray::from(Vec::<bool>::new())) as ArrayRef),
            ("score", Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef),
        ]);
        assert!(matches!(metrics_from_parquet("k", empty), Err(ArtifactError::UnfitPredictions { .. })));

        let garbage = bytes::Bytes::from_static(b"PAR1not really parquetPAR1");
        assert!(matches!(metrics_from_parquet("k", garbage), Err(ArtifactError::CorruptParquet { .. })));
    }
}
