//! AWS SDK configuration, built once per process.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The shared SDK configuration. With `endpoint_url` (a local emulator such as moto) the region
/// defaults to us-east-1 and, when no credentials are in the environment, dummy static ones are
/// used; without it, the standard provider chains apply unchanged.
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
        if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
            loader = loader.region(Region::new("us-east-1"));
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "local-emulator",
            ));
        }
    }
    loader.load().await
}

/// DynamoDB error codes worth retrying: throttling and transient server trouble.
const RETRYABLE_DYNAMODB_CODES: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// A DynamoDB call's failure as a message naming the operation, and whether retrying may help.
pub fn dynamodb_failure<E, R>(operation: &str, err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> (String, bool)
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::SdkError;
    let retryable = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            service.err().code().is_some_and(|code| RETRYABLE_DYNAMODB_CODES.contains(&code))
        }
        _ => false,
    };
    (format!("{operation}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(err)), retryable)
}
