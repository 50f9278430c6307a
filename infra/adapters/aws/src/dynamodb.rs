//! What every DynamoDB adapter shares: failures with whether a retry may help, and table creation.

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

/// Creates an on-demand DynamoDB table with the given key attributes (partition key first, then an
/// optional sort key) unless it exists, and waits until it is active. `Ok(true)` when it was created.
/// The error is `(message, retryable)`, as [`dynamodb_failure`] gives it.
pub async fn create_dynamodb_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: &[(&str, aws_sdk_dynamodb::types::ScalarAttributeType)],
) -> Result<bool, (String, bool)> {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, TableStatus};
    let mut request = client.create_table().table_name(table).billing_mode(BillingMode::PayPerRequest);
    for (i, (name, kind)) in keys.iter().enumerate() {
        let key_type = if i == 0 { KeyType::Hash } else { KeyType::Range };
        let key = KeySchemaElement::builder().attribute_name(*name).key_type(key_type).build().expect("complete");
        let definition = AttributeDefinition::builder()
            .attribute_name(*name)
            .attribute_type(kind.clone())
            .build()
            .expect("complete");
        request = request.key_schema(key).attribute_definitions(definition);
    }
    let created = match request.send().await {
        Ok(_) => true,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => false,
        Err(e) => return Err(dynamodb_failure("CreateTable", &e)),
    };
    for _ in 0..120 {
        let described = client.describe_table().table_name(table).send().await;
        let described = described.map_err(|e| dynamodb_failure("DescribeTable", &e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(created);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err((format!("table {table} did not become ACTIVE within 60 s"), true))
}
