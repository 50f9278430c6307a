//! DeltaOne's AWS adapters: each implements a port of `deltaone-app` over one service. One cargo
//! feature per service (`dynamodb`, `s3`, `sns`, `sqs`, `batch`), so that a function links only the
//! SDKs it calls.
//!
//! Architecture invariant: nothing here decides anything; a use case in `deltaone-app` does, and these
//! types only carry its requests to AWS and its errors back as the port's error kinds.

#[cfg(feature = "batch")]
pub mod batch;
#[cfg(feature = "dynamodb")]
pub mod credits;
#[cfg(feature = "dynamodb")]
pub mod cursor;
#[cfg(feature = "dynamodb")]
pub mod deliveries;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "dynamodb")]
pub mod promotion;
#[cfg(feature = "dynamodb")]
pub mod read_model;
#[cfg(feature = "dynamodb")]
pub mod read_only;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "sns")]
pub mod sns;
#[cfg(feature = "sqs")]
pub mod sqs;
#[cfg(feature = "dynamodb")]
pub mod verdicts;
#[cfg(feature = "dynamodb")]
pub mod watermarks;

// The SDKs, for entry points that build clients for these adapters.
#[cfg(feature = "batch")]
pub use aws_sdk_batch;
#[cfg(feature = "dynamodb")]
pub use aws_sdk_dynamodb;
#[cfg(feature = "s3")]
pub use aws_sdk_s3;
#[cfg(feature = "sns")]
pub use aws_sdk_sns;
#[cfg(feature = "sqs")]
pub use aws_sdk_sqs;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use deltaone_app::env;

/// The shared SDK configuration. With `endpoint_url` (a local emulator such as moto) the region
/// defaults to us-east-1 and, when no credentials are in the environment, dummy static ones are
/// used; without it, the standard provider chains apply unchanged.
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
        if std::env::var_os(env::AWS_REGION).is_none() && std::env::var_os(env::AWS_DEFAULT_REGION).is_none() {
            loader = loader.region(Region::new("us-east-1"));
        }
        if std::env::var_os(env::AWS_ACCESS_KEY_ID).is_none() {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
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
