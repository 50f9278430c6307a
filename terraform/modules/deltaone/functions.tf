# The six Lambda functions. Every environment variable here is one the code reads (the test
# tests/tests/deploy.rs compares both lists); the settings are documented in each function's README.

locals {
  # Notifications larger than SNS's 256 KiB go to the reports bucket here; SNS carries a reference.
  notifications_prefix = "notifications/"
  mlflow_environment = merge(
    {
      MLFLOW_TRACKING_URI          = var.mlflow_tracking_uri
      DELTAONE_MLFLOW_TIMEOUT_SECS = "10"
      DELTAONE_MLFLOW_RETRIES      = "3"
      DELTAONE_MLFLOW_PAGE_SIZE    = "1000"
    },
    var.mlflow_tracking_token == null ? {} : { MLFLOW_TRACKING_TOKEN = var.mlflow_tracking_token },
  )
  check_environment = merge(
    local.mlflow_environment,
    {
      DELTAONE_VERDICT_TABLE       = aws_dynamodb_table.verdicts.name
      DELTAONE_CREDITS_TABLE       = aws_dynamodb_table.credits.name
      DELTAONE_TOPIC_ARN           = aws_sns_topic.alerts.arn
      DELTAONE_NOTIFICATION_BUCKET = module.reports.id
      DELTAONE_NOTIFICATION_PREFIX = local.notifications_prefix
      DELTAONE_THRESHOLD_PP        = tostring(var.threshold_pp)
      DELTAONE_DIRECTION           = var.direction
    },
    var.attestation_key_secret_arn == null ? {} : {
      DELTAONE_ATTESTATION_KEY = data.aws_secretsmanager_secret_version.attestation_key[0].secret_string
    },
  )
}

module "evaluation" {
  source               = "../lambda-function"
  architecture         = var.architecture
  name                 = "${var.name_prefix}-evaluation"
  description          = "DeltaOne: evaluation artifacts uploaded to S3 -> metrics to MLflow -> DeltaOne check, verdict, notification"
  zip_path             = "${local.zips}/deltaone-evaluation.zip"
  memory_mb            = 512
  timeout_seconds      = 120
  reserved_concurrency = var.reserved_concurrency.evaluation
  kms_key_arn          = aws_kms_key.main.arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = aws_sns_topic.alerts.arn
  policy_json          = data.aws_iam_policy_document.evaluation.json
  tags                 = local.tags
  environment = merge(local.check_environment, {
    DELTAONE_DEAD_LETTER_QUEUE_URL = aws_sqs_queue.dead_letters["evaluation-dead-letters"].url
    DELTAONE_KEY_TEMPLATE          = var.evaluation_key_template
    DELTAONE_QUARANTINE_PREFIX     = "quarantine/"
  })
}

module "registry_webhook" {
  source       = "../lambda-function"
  architecture = var.architecture
  name         = "${var.name_prefix}-registry-webhook"
  description  = "DeltaOne: MLflow Model Registry webhook (Function URL, HMAC-verified) -> DeltaOne check"
  zip_path     = "${local.zips}/deltaone-registry-webhook.zip"
  memory_mb    = 256
  # A delivery is answered in milliseconds (claimed, queued); the same function runs the queued checks
  # from SQS, which may wait on a slow MLflow. Below the delivery claims' 120 s takeover.
  timeout_seconds        = 60
  reserved_concurrency   = var.reserved_concurrency.registry_webhook
  kms_key_arn            = aws_kms_key.main.arn
  log_retention_days     = var.log_retention_days
  alarm_topic_arn        = aws_sns_topic.alerts.arn
  policy_json            = data.aws_iam_policy_document.registry_webhook.json
  layers                 = [var.secrets_extension_layer_arn]
  function_url_auth_type = "NONE"
  tags                   = local.tags
  environment = merge(local.check_environment, {
    DELTAONE_DELIVERY_TABLE            = aws_dynamodb_table.deliveries.name
    DELTAONE_DEAD_LETTER_QUEUE_URL     = aws_sqs_queue.dead_letters["registry-webhook-dead-letters"].url
    DELTAONE_MLFLOW_WEBHOOK_SECRET_ARN = aws_secretsmanager_secret.mlflow_webhook.arn
    DELTAONE_WEBHOOK_TOLERANCE_SECS    = "300"
    DELTAONE_CHECK_QUEUE_URL           = aws_sqs_queue.registry_checks.url
  })
}

# The registry webhook's queued checks: the function answers MLflow at once and runs the check from
# here, with SQS's retries (then the checks' DLQ) and one message's failure never holding the rest.
resource "aws_lambda_event_source_mapping" "registry_checks" {
  event_source_arn                   = aws_sqs_queue.registry_checks.arn
  function_name                      = module.registry_webhook.function_arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = max(2, var.reserved_concurrency.registry_webhook - 1)
  }
}

locals {
  # The notifier's endpoints document (infra/src/webhooks/config.rs): secrets are referenced by ARN.
  webhook_endpoints_json = jsonencode({
    endpoints = [for name, e in var.webhook_endpoints : merge(
      { name = name, kind = e.kind, event_types = e.event_types },
      e.kind == "slack" ? { url = aws_secretsmanager_secret.webhook_endpoint[name].arn } : {
        url                     = e.url
        secret                  = aws_secretsmanager_secret.webhook_endpoint[name].arn
      },
    )]
  })
}

module "webhook_notifier" {
  count                  = local.notifier ? 1 : 0
  source                 = "../lambda-function"
  architecture           = var.architecture
  name                   = "${var.name_prefix}-webhook-notifier"
  description            = "DeltaOne: alerts from SQS -> signed HTTPS deliveries to the configured webhook endpoints"
  zip_path               = "${local.zips}/deltaone-webhook-notifier.zip"
  memory_mb              = 256
  timeout_seconds        = 300
  reserved_concurrency   = var.reserved_concurrency.webhook_notifier
  kms_key_arn            = aws_kms_key.main.arn
  log_retention_days     = var.log_retention_days
  alarm_topic_arn        = aws_sns_topic.alerts.arn
  policy_json            = data.aws_iam_policy_document.webhook_notifier[0].json
  layers                 = [var.secrets_extension_layer_arn]
  maximum_retry_attempts = 0
  tags                   = local.tags
  environment = {
    DELTAONE_WEBHOOK_ENDPOINTS_JSON = local.webhook_endpoints_json
    DELTAONE_WEBHOOK_DLQ_URL        = aws_sqs_queue.dead_letters["webhook-dead-letters"].url
  }
}

resource "aws_lambda_event_source_mapping" "webhook_notifier" {
  count                              = local.notifier ? 1 : 0
  event_source_arn                   = aws_sqs_queue.notifier_input[0].arn
  function_name                      = module.webhook_notifier[0].function_arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = max(2, var.reserved_concurrency.webhook_notifier)
  }
}

module "registry_sweep" {
  source               = "../lambda-function"
  architecture         = var.architecture
  name                 = "${var.name_prefix}-registry-sweep"
  description          = "DeltaOne: on a schedule, checks registry versions whose webhook event was lost (no verdict yet)"
  zip_path             = "${local.zips}/deltaone-registry-sweep.zip"
  memory_mb            = 256
  timeout_seconds      = 300
  reserved_concurrency = var.reserved_concurrency.registry_sweep
  kms_key_arn          = aws_kms_key.main.arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = aws_sns_topic.alerts.arn
  policy_json          = data.aws_iam_policy_document.registry_sweep.json
  # A failed sweep is not retried by Lambda: the next scheduled sweep resumes from the watermark.
  maximum_retry_attempts = 0
  tags                   = local.tags
  environment = merge(
    local.check_environment,
    {
      DELTAONE_DELIVERY_TABLE        = aws_dynamodb_table.deliveries.name
      DELTAONE_DEAD_LETTER_QUEUE_URL = aws_sqs_queue.dead_letters["registry-webhook-dead-letters"].url
      DELTAONE_SWEEP_SETTLE_SECS     = tostring(var.registry_sweep.settle_seconds)
      DELTAONE_SWEEP_LOOKBACK_HOURS  = tostring(var.registry_sweep.lookback_hours)
      DELTAONE_SWEEP_MAX_CHECKS      = tostring(var.registry_sweep.max_checks)
    },
    length(var.registry_sweep.models) == 0 ? {} : { DELTAONE_SWEEP_MODELS = join(",", var.registry_sweep.models) },
  )
}

module "query_api" {
  source                 = "../lambda-function"
  architecture           = var.architecture
  name                   = "${var.name_prefix}-query-api"
  description            = "DeltaOne: read-only JSON API over verdicts, drift runs and credits (Function URL, AWS_IAM auth)"
  zip_path               = "${local.zips}/deltaone-query-api.zip"
  memory_mb              = 256
  timeout_seconds        = 15
  reserved_concurrency   = var.reserved_concurrency.query_api
  kms_key_arn            = aws_kms_key.main.arn
  log_retention_days     = var.log_retention_days
  alarm_topic_arn        = aws_sns_topic.alerts.arn
  policy_json            = data.aws_iam_policy_document.query_api.json
  function_url_auth_type = "AWS_IAM"
  tags                   = local.tags
  environment = {
    DELTAONE_VERDICT_TABLE = aws_dynamodb_table.verdicts.name
    DELTAONE_DRIFT_TABLE   = aws_dynamodb_table.drift.name
    DELTAONE_CREDITS_TABLE = aws_dynamodb_table.credits.name
  }
}

module "drift_scheduler" {
  source               = "../lambda-function"
  architecture         = var.architecture
  name                 = "${var.name_prefix}-drift-scheduler"
  description          = "DeltaOne: a scheduled model's drift run -> manifest in S3 -> AWS Batch jobs (run, or map + reduce)"
  zip_path             = "${local.zips}/deltaone-drift-scheduler.zip"
  memory_mb            = 256
  timeout_seconds      = 60
  reserved_concurrency = var.reserved_concurrency.drift_scheduler
  kms_key_arn          = aws_kms_key.main.arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = aws_sns_topic.alerts.arn
  policy_json          = data.aws_iam_policy_document.drift_scheduler.json
  tags                 = local.tags
  environment = {
    DELTAONE_BATCH_JOB_QUEUE      = aws_batch_job_queue.drift.arn
    DELTAONE_BATCH_JOB_DEFINITION = aws_batch_job_definition.drift.arn_prefix
  }
}
