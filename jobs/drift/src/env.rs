//! Every environment variable the drift job reads, declared once: clap reads them by these
//! names (`env = env::DRIFT_REFERENCE`). Names the job shares with the rest of DeltaOne (the drift
//! table, the SNS topic, the AWS endpoint, and what the scheduler passes: manifest, run id, model)
//! are declared in [`deltaone_app::env`] and re-exported.

pub use deltaone_app::env::{AWS_ENDPOINT_URL, DRIFT_MANIFEST, DRIFT_MODEL, DRIFT_RUN_ID, DRIFT_TABLE, TOPIC_ARN};

pub const DRIFT_REFERENCE: &str = "DELTAONE_DRIFT_REFERENCE";
pub const DRIFT_CURRENT: &str = "DELTAONE_DRIFT_CURRENT";
pub const DRIFT_OUTPUT: &str = "DELTAONE_DRIFT_OUTPUT";
pub const DRIFT_SKETCH: &str = "DELTAONE_DRIFT_SKETCH";
pub const DRIFT_EXACT_MAX_ROWS: &str = "DELTAONE_DRIFT_EXACT_MAX_ROWS";
pub const DRIFT_SKETCH_PRECISION: &str = "DELTAONE_DRIFT_SKETCH_PRECISION";
pub const DRIFT_REPORT_LINK_DAYS: &str = "DELTAONE_DRIFT_REPORT_LINK_DAYS";
pub const DRIFT_CONFIG: &str = "DELTAONE_DRIFT_CONFIG";
pub const DRIFT_PREDICTION_COLUMN: &str = "DELTAONE_DRIFT_PREDICTION_COLUMN";
pub const DRIFT_LABEL_COLUMN: &str = "DELTAONE_DRIFT_LABEL_COLUMN";
pub const DRIFT_BINNING: &str = "DELTAONE_DRIFT_BINNING";
pub const DRIFT_SHARE: &str = "DELTAONE_DRIFT_SHARE";
pub const DRIFT_POLICY: &str = "DELTAONE_DRIFT_POLICY";
pub const DRIFT_CORRECTION: &str = "DELTAONE_DRIFT_CORRECTION";
pub const DRIFT_ALPHA: &str = "DELTAONE_DRIFT_ALPHA";
pub const DRIFT_NEW_CATEGORY_SHARE: &str = "DELTAONE_DRIFT_NEW_CATEGORY_SHARE";
pub const DRIFT_ALERT_K: &str = "DELTAONE_DRIFT_ALERT_K";
pub const DRIFT_ALERT_N: &str = "DELTAONE_DRIFT_ALERT_N";
pub const DRIFT_ALERT_COOLDOWN_HOURS: &str = "DELTAONE_DRIFT_ALERT_COOLDOWN_HOURS";
pub const DRIFT_TIMESTAMP_COLUMN: &str = "DELTAONE_DRIFT_TIMESTAMP_COLUMN";
pub const DRIFT_REFERENCE_WINDOW: &str = "DELTAONE_DRIFT_REFERENCE_WINDOW";
pub const DRIFT_CURRENT_WINDOW: &str = "DELTAONE_DRIFT_CURRENT_WINDOW";
pub const DRIFT_MODEL_NAME: &str = "DELTAONE_DRIFT_MODEL_NAME";
pub const DRIFT_MODEL_VERSION: &str = "DELTAONE_DRIFT_MODEL_VERSION";
pub const DRIFT_READ_CONCURRENCY: &str = "DELTAONE_DRIFT_READ_CONCURRENCY";
pub const DRIFT_QUARANTINE: &str = "DELTAONE_DRIFT_QUARANTINE";
pub const DRIFT_RETENTION_DAYS: &str = "DELTAONE_DRIFT_RETENTION_DAYS";
pub const DRIFT_POSITIVE_THRESHOLD: &str = "DELTAONE_DRIFT_POSITIVE_THRESHOLD";
pub const DRIFT_NO_PROGRESS: &str = "DELTAONE_DRIFT_NO_PROGRESS";
pub const DRIFT_JSON: &str = "DELTAONE_DRIFT_JSON";
/// `on` or `off`: the run's CloudWatch metrics as EMF lines on stderr (default: on under AWS Batch).
pub const DRIFT_EMF: &str = "DELTAONE_DRIFT_EMF";
/// Set by AWS Batch on every job: where the job runs, its EMF lines reach CloudWatch Logs.
pub const AWS_BATCH_JOB_ID: &str = "AWS_BATCH_JOB_ID";

/// Set by AWS Batch on each child of an array job: the shard this process reads.
pub const AWS_BATCH_JOB_ARRAY_INDEX: &str = "AWS_BATCH_JOB_ARRAY_INDEX";
