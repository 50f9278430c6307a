//! The scheduled drift function: EventBridge Scheduler invokes it with a model's entry of the
//! schedules file and the scheduled time; it lists the window's files, writes the run's manifest
//! and submits the AWS Batch jobs (one job, or a map array job and a dependent reduce job).
//!
//! Environment: `DELTAONE_BATCH_JOB_QUEUE`, `DELTAONE_BATCH_JOB_DEFINITION` (required);
//! `AWS_ENDPOINT_URL` for a local emulator.

use std::sync::Arc;

use deltaone_app::env;
use deltaone_app::schedule::plan::BatchTarget;
use deltaone_app::schedule::{ScheduleRunError, Scheduler, Submitted};
pub use deltaone_app::startup::StartupError;
use deltaone_aws::batch::AwsBatch;
use deltaone_aws::s3::{S3Listing, S3Objects};
use lambda_runtime::Diagnostic;
use serde_json::Value;

pub const FUNCTION: &str = "drift-scheduler";

/// A failed scheduled run, as the Lambda runtime reports it: `Retryable` when invoking again may
/// help (the scheduler's retry policy and dead-letter queue act on it), else the kind of input error.
pub fn diagnostic(e: &ScheduleRunError) -> Diagnostic {
    let error_type = match e {
        e if e.is_retryable() => "Retryable",
        ScheduleRunError::BadEvent(_) => "MalformedEvent",
        ScheduleRunError::Plan(_) => "NothingToRun",
        ScheduleRunError::Objects(_) | ScheduleRunError::Batch(_) => "Failed",
    };
    Diagnostic { error_type: error_type.to_owned(), error_message: e.to_string() }
}

/// Handles one event; the result (run id, manifest, job ids) is the invocation's response.
pub async fn handle(scheduler: &Scheduler, event: Value) -> Result<Submitted, Diagnostic> {
    match scheduler.handle(event).await {
        Ok(submitted) => {
            tracing::info!(run_id = %submitted.run_id, shards = submitted.shards, already = submitted.already_submitted, "drift run submitted");
            Ok(submitted)
        }
        Err(e) => {
            tracing::error!(error = %e, retryable = e.is_retryable(), "scheduled drift run failed");
            Err(diagnostic(&e))
        }
    }
}

/// Builds the scheduler from the environment.
pub async fn from_env() -> Result<Scheduler, StartupError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let required = |name: &str| {
        var(name).ok_or_else(|| StartupError::new(name, format!("is not set ({FUNCTION} submits AWS Batch jobs)")))
    };
    let target = BatchTarget {
        job_queue: required(env::BATCH_JOB_QUEUE)?,
        job_definition: required(env::BATCH_JOB_DEFINITION)?,
    };
    let endpoint = var(env::AWS_ENDPOINT_URL);
    let config = deltaone_aws::sdk_config(endpoint.as_deref()).await;
    let s3 = S3Objects::client(&config, endpoint.is_some());
    Ok(Scheduler {
        listing: Arc::new(S3Listing::new(s3.clone())),
        objects: Arc::new(S3Objects::new(s3)),
        batch: Arc::new(AwsBatch::new(aws_sdk_batch::Client::new(&config))),
        target,
    })
}

#[cfg(test)]
mod startup_tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_job_queue_stops_the_start_with_one_line_naming_it() {
        // SAFETY: the test reads the environment only through `from_env`, after this change.
        unsafe {
            std::env::remove_var("DELTAONE_BATCH_JOB_QUEUE");
        }
        let Err(e) = from_env().await else { panic!("started without its required setting") };
        assert_eq!(
            deltaone_app::startup::line(FUNCTION, &e),
            "drift-scheduler cannot start: DELTAONE_BATCH_JOB_QUEUE: is not set (drift-scheduler submits AWS Batch jobs)"
        );
    }
}

#[cfg(test)]
mod tests;
