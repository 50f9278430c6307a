output "registry_webhook_url" {
  description = "Give this URL to MLflow when creating the registry webhook (with the secret in the mlflow-webhook-secret secret)."
  value       = module.registry_webhook.function_url
  precondition {
    # The extension layer is published per instruction set; the wrong one cannot start with the function.
    condition     = strcontains(var.secrets_extension_layer_arn, ":layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:") == (var.architecture == "arm64")
    error_message = "secrets_extension_layer_arn must be the layer for var.architecture: AWS-Parameters-and-Secrets-Lambda-Extension-Arm64 for arm64, AWS-Parameters-and-Secrets-Lambda-Extension for x86_64."
  }
}

output "query_api_url" {
  description = "The read-only query API (AWS_IAM auth: sign requests with SigV4, service \"lambda\")."
  value       = module.query_api.function_url
}

output "alerts_topic_arn" {
  description = "SNS topic with every verdict, drift result and alarm; subscribe more endpoints here."
  value       = aws_sns_topic.alerts.arn
}

output "queue_urls" {
  description = "Queues by name: the notifier's input, the registry webhook's queued checks and every dead-letter queue (redrive from here)."
  value = merge(
    { for q in aws_sqs_queue.notifier_input : "notifier-input" => q.url },
    { "registry-checks" = aws_sqs_queue.registry_checks.url },
    { for k, q in aws_sqs_queue.dead_letters : k => q.url },
    { for m in module.webhook_notifier : "webhook-notifier-async-dlq" => m.async_dlq_url },
    {
      "evaluation-async-dlq"       = module.evaluation.async_dlq_url
      "registry-webhook-async-dlq" = module.registry_webhook.async_dlq_url
      "query-api-async-dlq"        = module.query_api.async_dlq_url
    },
  )
}

output "table_names" {
  description = "DynamoDB tables: verdicts, drift, credits, webhook deliveries."
  value = {
    verdicts   = aws_dynamodb_table.verdicts.name
    drift      = aws_dynamodb_table.drift.name
    credits    = aws_dynamodb_table.credits.name
    deliveries = aws_dynamodb_table.deliveries.name
  }
}

output "bucket_names" {
  description = "S3 buckets: artifacts (upload evaluation artifacts under evaluation_prefix), reports, access-logs."
  value = {
    artifacts   = module.artifacts.id
    reports     = module.reports.id
    access_logs = aws_s3_bucket.access_logs.id
  }
}

output "ecr_repository_url" {
  description = "Push the drift job image here (tag = drift_image_tag)."
  value       = aws_ecr_repository.drift.repository_url
}

output "mlflow_webhook_secret_arn" {
  description = "Secrets Manager secret holding the MLflow webhook's signing secret."
  value       = aws_secretsmanager_secret.mlflow_webhook.arn
}

output "webhook_endpoint_secret_arns" {
  description = "Secrets Manager secret per webhook endpoint (signing key, or the Slack URL)."
  value       = { for k, s in aws_secretsmanager_secret.webhook_endpoint : k => s.arn }
}

output "function_names" {
  description = "The Lambda functions."
  value = {
    evaluation       = module.evaluation.function_name
    registry_webhook = module.registry_webhook.function_name
    webhook_notifier = try(module.webhook_notifier[0].function_name, null)
    query_api        = module.query_api.function_name
    drift_scheduler  = module.drift_scheduler.function_name
    registry_sweep   = module.registry_sweep.function_name
  }
}

output "drift_job_queue_arn" {
  description = "AWS Batch job queue of the drift job (submit ad-hoc runs here)."
  value       = aws_batch_job_queue.drift.arn
}

output "drift_job_definition" {
  description = "AWS Batch job definition of the drift job (without revision: the latest active one)."
  value       = aws_batch_job_definition.drift.arn_prefix
}
