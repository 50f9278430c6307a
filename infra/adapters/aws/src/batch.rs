//! The batch-jobs port over AWS Batch.

use async_trait::async_trait;
use aws_sdk_batch::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_batch::types::{ArrayProperties, ContainerOverrides, JobDependency, KeyValuePair};
use deltaone_app::schedule::batch::{BatchError, BatchJobs};
use deltaone_app::schedule::plan::JobRequest;

/// [`BatchJobs`] over the AWS SDK.
pub struct AwsBatch {
    client: aws_sdk_batch::Client,
}

impl AwsBatch {
    pub fn new(client: aws_sdk_batch::Client) -> Self {
        Self { client }
    }

    /// The SubmitJob call for `job` (separate so that its shape can be inspected).
    pub fn request(
        &self,
        job: &JobRequest,
        depends_on: &[String],
    ) -> aws_sdk_batch::operation::submit_job::builders::SubmitJobFluentBuilder {
        let environment = job
            .environment
            .iter()
            .map(|(name, value)| KeyValuePair::builder().name(name).value(value).build())
            .collect::<Vec<_>>();
        let overrides = ContainerOverrides::builder()
            .set_command(Some(job.command.clone()))
            .set_environment(Some(environment))
            .build();
        let mut request = self
            .client
            .submit_job()
            .job_name(&job.job_name)
            .job_queue(&job.job_queue)
            .job_definition(&job.job_definition)
            .container_overrides(overrides)
            .propagate_tags(true)
            .tags("deltaone:role", &job.role);
        if let Some(size) = job.array_size {
            request = request.array_properties(ArrayProperties::builder().size(size as i32).build());
        }
        for id in depends_on {
            request = request.depends_on(JobDependency::builder().job_id(id).build());
        }
        request
    }
}

#[async_trait]
impl BatchJobs for AwsBatch {
    async fn submit(&self, job: &JobRequest, depends_on: &[String]) -> Result<String, BatchError> {
        let out = self.request(job, depends_on).send().await.map_err(|e| failed(&job.job_name, e))?;
        out.job_id().map(str::to_owned).ok_or_else(|| BatchError::Submit {
            job_name: job.job_name.clone(),
            message: "the response names no job id".into(),
            retryable: false,
        })
    }
}

fn failed<E, R>(job_name: &str, err: SdkError<E, R>) -> BatchError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(s) => matches!(s.err().code(), Some("ServerException" | "ThrottlingException")),
        _ => false,
    };
    BatchError::Submit { job_name: job_name.to_owned(), message: DisplayErrorContext(&err).to_string(), retryable }
}
