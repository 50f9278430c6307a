//! Classification metrics of a window from its labels and predictions: what each file contributes,
//! and the window's metrics from its mergeable state and its files' contributions.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use deltaone::classification::{ClassificationAccumulator, InputKind, MetricInputError};
use serde::{Deserialize, Serialize};

use super::numeric::numeric_values;
use crate::drift_report::WindowPerformance;

/// Why a file's labels and predictions cannot feed the window's classification metrics (kept as
/// the file's error: the window's metrics are then withheld, naming the file).
#[derive(Debug, thiserror::Error)]
enum PerformanceError {
    #[error("label type {0} is not boolean or 0/1 (classification metrics need binary labels)")]
    LabelType(DataType),
    #[error("label {0} is not 0 or 1 (classification metrics need binary labels)")]
    Label(f64),
    /// Hard predictions are read as labels are: the same reasons, said of the prediction.
    #[error("prediction: {0}")]
    Prediction(#[source] Box<PerformanceError>),
    #[error("{0}")]
    Input(#[from] MetricInputError),
}

/// The performance columns: the label and the prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformancePlan {
    pub label: String,
    pub prediction: String,
}

/// What one file's labels and predictions contributed to its window's classification metrics.
/// Kept per file (constant size) so that the window's error, if any, names the first bad file in
/// the run's file order however the files were sharded.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilePerformance {
    /// Rows with both a label and a prediction (0 when the file has an error: its window's
    /// metrics are then withheld).
    pub rows: u64,
    /// Rows where either is null, or the score NaN.
    pub skipped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<InputKind>,
    /// Why the file's rows are left out (labels that are not binary, a score outside [0, 1], …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a window's classification metrics are accumulated: the threshold, and when the AUROC's
/// scores are counted in buckets instead of kept ([`ClassificationAccumulator::sketch_scores`]):
/// with `sketch`, or once the window has more than `exact_max_rows` rows — the rule of the
/// numeric columns, so that the outcome depends only on the window's rows, not on how its files
/// were sharded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PerformanceOptions {
    pub threshold: f64,
    pub sketch: bool,
    pub exact_max_rows: u64,
}

impl PerformanceOptions {
    /// An empty accumulator of these options.
    pub fn accumulator(&self) -> ClassificationAccumulator {
        let mut acc = ClassificationAccumulator::new(self.threshold).unwrap_or_default();
        if self.sketch {
            acc.sketch_scores();
        }
        acc
    }

    /// Whether a window of `rows` rows has its scores sketched.
    pub fn sketches(&self, rows: u64) -> bool {
        self.sketch || rows > self.exact_max_rows
    }
}

/// A window's classification metrics from its mergeable state (`acc`) and its files'
/// contributions in the run's file order: the same function of the same inputs in a single
/// process and after a reduce, so both give the same bits. A file's error, or files of different
/// kinds, withhold the metrics (the state then holds whatever was read before: unused).
pub fn window_performance<'a>(
    acc: ClassificationAccumulator,
    files: impl IntoIterator<Item = (&'a str, Option<&'a FilePerformance>)>,
) -> WindowPerformance {
    let (mut rows, mut skipped) = (0, 0);
    let mut error = None;
    let mut first_of_kind: Vec<(InputKind, &str)> = Vec::new();
    for (location, file) in files {
        let Some(file) = file else { continue };
        rows += file.rows;
        skipped += file.skipped;
        if let (None, Some(e)) = (&error, &file.error) {
            error = Some(format!("{location}: {e}"));
        }
        if let Some(kind) = file.kind.filter(|k| !first_of_kind.iter().any(|(seen, _)| seen == k)) {
            first_of_kind.push((kind, location));
        }
    }
    if let (None, [(a, first), (b, second), ..]) = (&error, first_of_kind.as_slice()) {
        error = Some(format!("{first} holds {a} but {second} holds {b}: a window's files must agree"));
    }
    let (metrics, error) = match error {
        Some(e) => (None, Some(e)),
        None => match acc.into_metrics() {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    WindowPerformance { rows, skipped_rows: skipped, metrics, error }
}

/// Adds a batch's labels and predictions to the window's accumulator, and its rows to the file's
/// contribution; the file's first error stops its accumulation (its rows then do not count: the
/// window's metrics are withheld, naming the file). Batches whose kind (scores, hard predictions)
/// differs from the window's so far are counted but not accumulated: the mix is reported from the
/// files' kinds when the metrics are finished.
pub(crate) fn add_performance(
    acc: &mut ClassificationAccumulator,
    file: &mut FilePerformance,
    label: &ArrayRef,
    prediction: &ArrayRef,
) {
    if file.error.is_some() {
        return;
    }
    if let Err(e) = add_performance_batch(acc, file, label, prediction) {
        file.error = Some(e.to_string());
    }
}

fn add_performance_batch(
    acc: &mut ClassificationAccumulator,
    file: &mut FilePerformance,
    label: &ArrayRef,
    prediction: &ArrayRef,
) -> Result<(), PerformanceError> {
    let labels = binary_values(label)?;
    // Errors name rows by their index among the file's rows with a label and a prediction (not
    // the window's, which would depend on how files were sharded).
    let (window_rows, file_rows) = (acc.rows(), file.rows);
    let in_file = |e: MetricInputError| match e {
        MetricInputError::NonFiniteScore { row, value } => {
            MetricInputError::NonFiniteScore { row: row - window_rows + file_rows, value }
        }
        MetricInputError::ScoreOutOfRange { row, value } => {
            MetricInputError::ScoreOutOfRange { row: row - window_rows + file_rows, value }
        }
        other => other,
    };
    let kind = match prediction.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => InputKind::Scores,
        _ => InputKind::Predictions,
    };
    let accumulate = acc.kind().is_none_or(|k| k == kind);
    let kept = match kind {
        InputKind::Scores if let Some(scores) = whole_scores(prediction, &labels) => {
            // The common case: every row has a label and a score; the scores are used in place.
            let labels: Vec<bool> = labels.into_iter().flatten().collect();
            if accumulate {
                acc.extend_scores(&labels, scores).map_err(in_file)?;
            }
            scores.len()
        }
        InputKind::Scores => {
            let values = numeric_values(prediction).expect("a float type");
            let scores = values.into_iter().map(|s| s.filter(|s| !s.is_nan()));
            let (labels, scores) = both_present(labels, scores, &mut file.skipped);
            if accumulate {
                acc.extend_scores(&labels, &scores).map_err(in_file)?;
            }
            scores.len()
        }
        InputKind::Predictions => {
            let predicted = binary_values(prediction).map_err(|e| PerformanceError::Prediction(Box::new(e)))?;
            let (labels, predicted) = both_present(labels, predicted, &mut file.skipped);
            if accumulate {
                acc.extend_predictions(&labels, &predicted).map_err(in_file)?;
            }
            predicted.len()
        }
    };
    if kept > 0 {
        file.kind = Some(kind);
    }
    file.rows += kept as u64;
    Ok(())
}

/// The rows that have both a label and a value, as two vectors; the others are counted in `skipped`.
fn both_present<T>(
    labels: Vec<Option<bool>>,
    values: impl IntoIterator<Item = Option<T>>,
    skipped: &mut u64,
) -> (Vec<bool>, Vec<T>) {
    let (mut kept_labels, mut kept) = (Vec::with_capacity(labels.len()), Vec::with_capacity(labels.len()));
    for (label, value) in labels.into_iter().zip(values) {
        match (label, value) {
            (Some(l), Some(v)) => {
                kept_labels.push(l);
                kept.push(v);
            }
            _ => *skipped += 1,
        }
    }
    (kept_labels, kept)
}

/// A batch's `f64` scores when no row lacks its label or its score (null or NaN).
fn whole_scores<'a>(prediction: &'a ArrayRef, labels: &[Option<bool>]) -> Option<&'a [f64]> {
    let scores = prediction.as_primitive_opt::<Float64Type>()?;
    let whole = scores.null_count() == 0
        && labels.iter().all(Option::is_some)
        && !scores.values().iter().fold(false, |nan, s| nan | s.is_nan());
    whole.then(|| scores.values().as_ref())
}

/// A label as a boolean: booleans, integers 0/1, floats 0.0/1.0.
fn binary_values(array: &ArrayRef) -> Result<Vec<Option<bool>>, PerformanceError> {
    if let DataType::Boolean = array.data_type() {
        return Ok(array.as_boolean().iter().collect());
    }
    let values = numeric_values(array).map_err(|_| PerformanceError::LabelType(array.data_type().clone()))?;
    let mut labels = Vec::with_capacity(values.len());
    for v in values {
        labels.push(match v {
            None => None,
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            Some(x) => return Err(PerformanceError::Label(x)),
        });
    }
    Ok(labels)
}
