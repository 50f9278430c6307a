//! Every environment variable the check functions, the CLI and the adapters read, declared once.
//! Code names a variable through these constants; the Terraform modules and the docs spell the same
//! names (the deploy tests compare them). The drift job's own variables are in `deltaone_drift::env`.

// Settings (see `crate::settings`): flags of the CLI, variables of the functions.
pub const CONFIG: &str = "DELTAONE_CONFIG";
pub const MLFLOW_TRACKING_URI: &str = "MLFLOW_TRACKING_URI";
pub const MLFLOW_TRACKING_TOKEN: &str = "MLFLOW_TRACKING_TOKEN";
pub const MLFLOW_TRACKING_USERNAME: &str = "MLFLOW_TRACKING_USERNAME";
pub const MLFLOW_TRACKING_PASSWORD: &str = "MLFLOW_TRACKING_PASSWORD";
pub const REGISTRY_SNAPSHOT: &str = "DELTAONE_REGISTRY_SNAPSHOT";
pub const THRESHOLD_PP: &str = "DELTAONE_THRESHOLD_PP";
pub const SCALE: &str = "DELTAONE_SCALE";
pub const DIRECTION: &str = "DELTAONE_DIRECTION";
pub const REQUIRE_CONFIDENCE: &str = "DELTAONE_REQUIRE_CONFIDENCE";
pub const CONFIDENCE_LEVEL: &str = "DELTAONE_CONFIDENCE_LEVEL";
pub const GUARDRAILS: &str = "DELTAONE_GUARDRAILS";
pub const CHAMPION_ALIAS: &str = "DELTAONE_CHAMPION_ALIAS";
pub const VERDICT_TABLE: &str = "DELTAONE_VERDICT_TABLE";
pub const CREDITS_TABLE: &str = "DELTAONE_CREDITS_TABLE";
pub const DRIFT_TABLE: &str = "DELTAONE_DRIFT_TABLE";
pub const STORE_DIR: &str = "DELTAONE_STORE_DIR";
pub const TOPIC_ARN: &str = "DELTAONE_TOPIC_ARN";
pub const DEAD_LETTER_QUEUE_URL: &str = "DELTAONE_DEAD_LETTER_QUEUE_URL";
pub const ATTESTATION_KEY: &str = "DELTAONE_ATTESTATION_KEY";
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
pub const MLFLOW_TIMEOUT_SECS: &str = "DELTAONE_MLFLOW_TIMEOUT_SECS";
pub const MLFLOW_RETRIES: &str = "DELTAONE_MLFLOW_RETRIES";
pub const MLFLOW_PAGE_SIZE: &str = "DELTAONE_MLFLOW_PAGE_SIZE";

// The attestation verifier (`deltaone verify`).
pub const ATTESTATION_PUBLIC_KEY: &str = "DELTAONE_ATTESTATION_PUBLIC_KEY";

// The evaluation function.
pub const KEY_TEMPLATE: &str = "DELTAONE_KEY_TEMPLATE";
pub const QUARANTINE_PREFIX: &str = "DELTAONE_QUARANTINE_PREFIX";

// Notifications: large messages offloaded to S3.
pub const NOTIFICATION_BUCKET: &str = "DELTAONE_NOTIFICATION_BUCKET";
pub const NOTIFICATION_PREFIX: &str = "DELTAONE_NOTIFICATION_PREFIX";

// The registry webhook function.
pub const DELIVERY_TABLE: &str = "DELTAONE_DELIVERY_TABLE";
pub const MLFLOW_WEBHOOK_SECRET: &str = "DELTAONE_MLFLOW_WEBHOOK_SECRET";
pub const MLFLOW_WEBHOOK_SECRET_ARN: &str = "DELTAONE_MLFLOW_WEBHOOK_SECRET_ARN";
pub const WEBHOOK_TOLERANCE_SECS: &str = "DELTAONE_WEBHOOK_TOLERANCE_SECS";
pub const CHECK_QUEUE_URL: &str = "DELTAONE_CHECK_QUEUE_URL";

// The AWS Parameters and Secrets Lambda extension (webhook secrets by ARN): Lambda's session token
// authenticates the call; the port is the extension's.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: &str = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT";

// The webhook notifier.
pub const WEBHOOK_ENDPOINTS: &str = "DELTAONE_WEBHOOK_ENDPOINTS";
pub const WEBHOOK_ENDPOINTS_JSON: &str = "DELTAONE_WEBHOOK_ENDPOINTS_JSON";
pub const WEBHOOK_DLQ_URL: &str = "DELTAONE_WEBHOOK_DLQ_URL";

// The registry sweep function.
pub const SWEEP_MODELS: &str = "DELTAONE_SWEEP_MODELS";
pub const SWEEP_SETTLE_SECS: &str = "DELTAONE_SWEEP_SETTLE_SECS";
pub const SWEEP_LOOKBACK_HOURS: &str = "DELTAONE_SWEEP_LOOKBACK_HOURS";
pub const SWEEP_MAX_CHECKS: &str = "DELTAONE_SWEEP_MAX_CHECKS";

// The drift scheduler function.
pub const BATCH_JOB_QUEUE: &str = "DELTAONE_BATCH_JOB_QUEUE";
pub const BATCH_JOB_DEFINITION: &str = "DELTAONE_BATCH_JOB_DEFINITION";

// The drift job, as the scheduler starts it (`crate::schedule`): the job reads these, and
// `deltaone_drift::env` re-exports them.
pub const DRIFT_MANIFEST: &str = "DELTAONE_DRIFT_MANIFEST";
pub const DRIFT_RUN_ID: &str = "DELTAONE_DRIFT_RUN_ID";
pub const DRIFT_MODEL: &str = "DELTAONE_DRIFT_MODEL";

// The AWS SDK's own (read by the SDK; we look at them only to choose a local emulator's defaults).
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";

// Metrics (`crate::emf`): on under Lambda (the runtime sets the function's name), else off;
// `on`/`off` overrides.
pub const EMF: &str = "DELTAONE_EMF";
pub const AWS_LAMBDA_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";

// Logging (`crate::telemetry`): Lambda's own, then ours; colour follows https://no-color.org.
pub const AWS_LAMBDA_LOG_FORMAT: &str = "AWS_LAMBDA_LOG_FORMAT";
pub const AWS_LAMBDA_LOG_LEVEL: &str = "AWS_LAMBDA_LOG_LEVEL";
pub const LOG_FORMAT: &str = "DELTAONE_LOG_FORMAT";
pub const NO_COLOR: &str = "NO_COLOR";
