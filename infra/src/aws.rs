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
