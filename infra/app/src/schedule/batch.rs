//! The batch-jobs port: submit one planned job, get its id (adapter: AWS Batch in `deltaone-aws`;
//! for tests, [`MemoryBatchJobs`] below).

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

/// The in-memory twin of AWS Batch for tests: records each submitted job with the ids it waits
/// for, and answers ids `job-1`, `job-2`, … in submission order.
#[derive(Debug, Default)]
pub struct MemoryBatchJobs {
    submitted: std::sync::Mutex<Vec<(JobRequest, Vec<String>)>>,
}

impl MemoryBatchJobs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every job submitted so far, with the job ids it depends on.
    pub fn submitted(&self) -> Vec<(JobRequest, Vec<String>)> {
        self.submitted.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl BatchJobs for MemoryBatchJobs {
    async fn submit(&self, job: &JobRequest, depends_on: &[String]) -> Result<String, BatchError> {
        let mut submitted = self.submitted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        submitted.push((job.clone(), depends_on.to_vec()));
        Ok(format!("job-{}", submitted.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_batch_jobs_number_submissions_and_keep_their_dependencies() {
        let batch = MemoryBatchJobs::new();
        let job = |role: &str| JobRequest {
            role: role.into(),
            job_name: format!("drift-{role}"),
            job_queue: "q".into(),
            job_definition: "d".into(),
            command: vec!["deltaone-drift".into()],
            array_size: None,
            depends_on: Vec::new(),
            environment: Default::default(),
        };
        let map = batch.submit(&job("map"), &[]).await.unwrap();
        let reduce = batch.submit(&job("reduce"), std::slice::from_ref(&map)).await.unwrap();
        assert_eq!((map.as_str(), reduce.as_str()), ("job-1", "job-2"));
        let submitted = batch.submitted();
        assert_eq!(submitted[1].0.role, "reduce");
        assert_eq!(submitted[1].1, ["job-1"]);
    }
}
