//! The batch-jobs port: submit one planned job, get its id (adapter: AWS Batch in `deltaone-aws`).

use async_trait::async_trait;

use super::plan::JobRequest;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("AWS Batch SubmitJob {job_name}: {message}")]
    Submit { job_name: String, message: String, retryable: bool },
}

impl BatchError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Submit { retryable: true, .. })
    }
}

/// Submits jobs to AWS Batch.
#[async_trait]
pub trait BatchJobs: Send + Sync {
    /// Submits `job`, waiting for the jobs `depends_on` (ids); returns the new job's id.
    async fn submit(&self, job: &JobRequest, depends_on: &[String]) -> Result<String, BatchError>;
}
