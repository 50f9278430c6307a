//! The candidate's and the baseline's predictions on the same evaluation rows, for the delta's
//! confidence interval.
//!
//! Each version names its predictions file in the version tag [`PREDICTIONS_URI`] (`s3://bucket/key`,
//! or a local path for the CLI); the evaluation function sets it when it reads an uploaded
//! predictions file. The two files are paired by a row-id column
//! (the Parquet adapter, `deltaone-predictions`, lists them). A candidate file holding both models' scores
//! (`candidate_score`, `baseline_score`) is paired as it stands. Whatever prevents pairing — a
//! missing tag or file, different rows, different labels — is a typed
//! [`deltaone::evidence::Unavailable`] the verdict reports; only a retryable storage failure is an
//! error of the check.

use async_trait::async_trait;
use deltaone::VersionFacts;
use deltaone::confidence::PairedRows;
use deltaone::evidence::Unavailable;

use crate::objects::ObjectError;

/// The version tag naming a version's predictions file.
pub const PREDICTIONS_URI: &str = "predictions_uri";

/// Paired rows, or why there are none; `Err` only when reading may succeed on a retry.
pub type Pairing = Result<PairedRows, Unavailable>;

/// Reads and pairs the candidate's and the baseline's predictions.
#[async_trait]
pub trait PairedPredictions: Send + Sync {
    /// Pairs the two versions' predictions. `None` when neither version names a predictions file
    /// (nothing to look for).
    async fn pair(&self, candidate: &VersionFacts, baseline: &VersionFacts) -> Result<Option<Pairing>, ObjectError>;
}
