//! Predictions Parquet files, as the evaluation function reads an uploaded artifact and as a check
//! pairs two versions' rows (`deltaone-predictions`).

use deltaone_predictions::{METRIC_NAMES, metrics_from_parquet, paired_from_parquet, rows_from_parquet};

use crate::support::{self, rejected};

const KEY: &str = "evaluations/fraud/3/predictions.parquet";

/// The bytes as an uploaded predictions file:
///
/// * metrics are read (only the known names, every value finite) or the file is refused naming it;
/// * rows are read for pairing (each with an id) or refused the same way;
/// * a file with both models' scores pairs its rows or is refused the same way.
pub fn predictions_parquet(data: &[u8]) {
    support::caught_panics_are_handled();
    let bytes = bytes::Bytes::copy_from_slice(data);
    let quoted = format!("{KEY:?}");
    match metrics_from_parquet(KEY, bytes.clone()) {
        Ok(metrics) => {
            for (name, value) in &metrics {
                assert!(METRIC_NAMES.contains(&name.as_str()), "an unknown metric {name}");
                assert!(value.is_finite(), "metric {name} is {value}");
            }
        }
        Err(e) => rejected("predictions_parquet", &e, &[&quoted]),
    }
    match rows_from_parquet(KEY, bytes.clone(), "candidate") {
        Ok(Ok(_rows)) => {}
        Ok(Err(pairing)) => rejected("predictions_parquet", &pairing, &[]),
        Err(e) => rejected("predictions_parquet", &e, &[&quoted]),
    }
    if let Err(e) = paired_from_parquet(KEY, bytes) {
        rejected("predictions_parquet", &e, &[&quoted]);
    }
}
