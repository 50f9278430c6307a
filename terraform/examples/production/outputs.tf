output "registry_webhook_url" {
  description = "URL for MLflow's registry webhook."
  value       = module.deltaone.registry_webhook_url
}

output "query_api_url" {
  description = "The read-only query API (AWS_IAM auth)."
  value       = module.deltaone.query_api_url
}

output "alerts_topic_arn" {
  description = "SNS topic of every alert."
  value       = module.deltaone.alerts_topic_arn
}

output "queue_urls" {
  description = "The notifier's input queue and every dead-letter queue."
  value       = module.deltaone.queue_urls
}

output "table_names" {
  description = "DynamoDB tables."
  value       = module.deltaone.table_names
}

output "bucket_names" {
  description = "S3 buckets."
  value       = module.deltaone.bucket_names
}

output "ecr_repository_url" {
  description = "Where to push the drift job image."
  value       = module.deltaone.ecr_repository_url
}

output "mlflow_webhook_secret_arn" {
  description = "Secret holding the MLflow webhook's signing secret."
  value       = module.deltaone.mlflow_webhook_secret_arn
}

output "webhook_endpoint_secret_arns" {
  description = "Secret per webhook endpoint."
  value       = module.deltaone.webhook_endpoint_secret_arns
}

output "function_names" {
  description = "The Lambda functions."
  value       = module.deltaone.function_names
}
