variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "deltaone-prod"
}

variable "package_dir" {
  description = "Where infra/package.sh put the zips (relative paths are from this directory)."
  type        = string
  default     = "../../../target/deploy"
}

variable "architecture" {
  description = "What infra/package.sh built: \"arm64\" (its default) or \"x86_64\" (--x86-64); the functions and the drift job run on it."
  type        = string
  default     = "arm64"
}

variable "mlflow_tracking_uri" {
  description = "Your MLflow tracking server (https://...)."
  type        = string
}

variable "mlflow_tracking_token" {
  description = "Bearer token for MLflow, or null."
  type        = string
  default     = null
  sensitive   = true
}

variable "mlflow_webhook_secret" {
  description = "The MLflow webhook's signing secret (or null, and put it into Secrets Manager yourself)."
  type        = string
  default     = null
  sensitive   = true
}

variable "attestation_key_secret_arn" {
  description = "Secret holding the Ed25519 seed that signs verdict attestations, or null."
  type        = string
  default     = null
}

variable "secrets_extension_layer_arn" {
  description = "The AWS Parameters and Secrets Lambda extension layer ARN for var.region and var.architecture (the -Arm64 layer for arm64)."
  type        = string
}

variable "threshold_pp" {
  description = "Percentage points a new version must gain to be a DeltaOne."
  type        = number
  default     = 1
}

variable "alert_emails" {
  description = "Email addresses that receive alerts (each confirms a subscription email)."
  type        = list(string)
  default     = []
}

variable "webhook_endpoints" {
  description = "Webhook endpoints by name (see modules/deltaone/variables.tf)."
  type = map(object({
    kind        = optional(string, "standard")
    url         = optional(string)
    event_types = optional(list(string), [])
  }))
  default = {}
}

variable "drift_schedules_file" {
  description = "The drift schedules file (JSON; see modules/deltaone/variables.tf and schedules.json here). null: no schedules."
  type        = string
  default     = null
}

variable "drift_image_tag" {
  description = "Tag of the drift job image pushed to the ECR repository."
  type        = string
  default     = "latest-release"
}

variable "vpc_id" {
  description = "VPC for the drift job's Fargate tasks."
  type        = string
}

variable "batch_subnet_ids" {
  description = "Private subnets (NAT or VPC endpoints) for the drift job's Fargate tasks."
  type        = list(string)
}
