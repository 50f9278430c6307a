# The example environment: one DeltaOne stack. Copy this directory, fill terraform.tfvars (see
# terraform.tfvars.example) and follow terraform/README.md.

module "deltaone" {
  source = "../../modules/deltaone"

  name_prefix                 = var.name_prefix
  package_dir                 = var.package_dir
  architecture                = var.architecture
  mlflow_tracking_uri         = var.mlflow_tracking_uri
  mlflow_tracking_token       = var.mlflow_tracking_token
  mlflow_webhook_secret       = var.mlflow_webhook_secret
  attestation_key_secret_arn  = var.attestation_key_secret_arn
  secrets_extension_layer_arn = var.secrets_extension_layer_arn
  threshold_pp                = var.threshold_pp
  alert_emails                = var.alert_emails
  webhook_endpoints           = var.webhook_endpoints
  drift_schedules_file        = var.drift_schedules_file
  drift_image_tag             = var.drift_image_tag
  vpc_id                      = var.vpc_id
  batch_subnet_ids            = var.batch_subnet_ids
}
