variable "name_prefix" {
  description = "Prefix of every resource name (say \"deltaone-prod\"); lowercase so that it is a valid S3 bucket name part."
  type        = string
  default     = "deltaone"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "package_dir" {
  description = "Directory holding the function zips built by infra/package.sh (<dir>/lambda/<binary>.zip)."
  type        = string
  validation {
    condition     = length(trimspace(var.package_dir)) > 0
    error_message = "package_dir must name the directory infra/package.sh wrote (default target/deploy)."
  }
}

variable "mlflow_tracking_uri" {
  description = "The MLflow tracking server the functions read versions from and write verdicts back to (https://...)."
  type        = string
  validation {
    condition     = can(regex("^https?://[^ ]+$", var.mlflow_tracking_uri))
    error_message = "mlflow_tracking_uri must be an http(s):// URL."
  }
}

variable "mlflow_tracking_token" {
  description = "Bearer token for MLflow (MLFLOW_TRACKING_TOKEN), or null when the server needs none. Stored in the functions' KMS-encrypted environment."
  type        = string
  default     = null
  sensitive   = true
}

variable "mlflow_webhook_secret" {
  description = "The secret the MLflow webhook signs deliveries with (the same string you give MLflow when creating the webhook). Null: create the Secrets Manager secret empty and put its value later with `aws secretsmanager put-secret-value`."
  type        = string
  default     = null
  sensitive   = true
  validation {
    condition     = var.mlflow_webhook_secret == null || length(coalesce(var.mlflow_webhook_secret, "x")) >= 16
    error_message = "mlflow_webhook_secret must be at least 16 characters."
  }
}

variable "attestation_key_secret_arn" {
  description = "ARN of an existing Secrets Manager secret whose SecretString is the 32-byte Ed25519 seed (hex or base64) that signs verdict attestations; null disables attestations."
  type        = string
  default     = null
  validation {
    condition     = var.attestation_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", coalesce(var.attestation_key_secret_arn, "x")))
    error_message = "attestation_key_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "threshold_pp" {
  description = "Improvement over the baseline, in percentage points, that counts as a DeltaOne."
  type        = number
  default     = 1
  validation {
    condition     = var.threshold_pp >= 0 && var.threshold_pp <= 100
    error_message = "threshold_pp must be within 0..100."
  }
}

variable "direction" {
  description = "Default metric direction when a model has no benchmark_direction tag."
  type        = string
  default     = "higher"
  validation {
    condition     = contains(["higher", "lower"], var.direction)
    error_message = "direction must be \"higher\" or \"lower\"."
  }
}

variable "evaluation_key_template" {
  description = "Where evaluation artifacts are uploaded in the artifacts bucket; {model}, {version}, {file} (one segment) and a final {**}."
  type        = string
  default     = "evaluations/{model}/{version}/{file}"
  validation {
    condition     = strcontains(var.evaluation_key_template, "{model}") && strcontains(var.evaluation_key_template, "{version}")
    error_message = "evaluation_key_template must contain {model} and {version}."
  }
}

variable "evaluation_prefix" {
  description = "Key prefix of the artifacts bucket whose new objects trigger the evaluation function (the literal start of evaluation_key_template)."
  type        = string
  default     = "evaluations/"
  validation {
    condition     = endswith(var.evaluation_prefix, "/")
    error_message = "evaluation_prefix must end with '/'."
  }
}

variable "alert_emails" {
  description = "Addresses subscribed to the alerts topic (verdicts, drift, alarms). Each must confirm the subscription email AWS sends."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", e))])
    error_message = "alert_emails must be email addresses."
  }
}

variable "webhook_endpoints" {
  description = "Endpoints the webhook notifier delivers every alert to, by name. kind \"standard\" (Standard Webhooks signed JSON to url) or \"slack\" (an incoming-webhook URL, which is itself the secret: leave url null). Without any, the notifier and its queue are not deployed. Each endpoint gets a Secrets Manager secret: the whsec_... signing key for standard, the webhook URL for slack; put its value with `aws secretsmanager put-secret-value` after the first apply. event_types: empty means every event."
  type = map(object({
    kind        = optional(string, "standard")
    url         = optional(string)
    event_types = optional(list(string), [])
  }))
  default = {}
  validation {
    condition     = alltrue([for name, e in var.webhook_endpoints : can(regex("^[a-z0-9-]{1,40}$", name))])
    error_message = "webhook_endpoints: names are 1-40 lowercase letters, digits or '-'."
  }
  validation {
    condition     = alltrue([for name, e in var.webhook_endpoints : contains(["standard", "slack"], e.kind)])
    error_message = "webhook_endpoints: kind must be \"standard\" or \"slack\"."
  }
  validation {
    condition     = alltrue([for name, e in var.webhook_endpoints : e.kind == "slack" ? e.url == null : can(regex("^https://", coalesce(e.url, "-")))])
    error_message = "webhook_endpoints: a standard endpoint needs an https:// url; a slack endpoint's url lives in its secret (leave url null)."
  }
  validation {
    condition     = alltrue(flatten([for name, e in var.webhook_endpoints : [for t in e.event_types : contains(["deltaone.achieved", "deltaone.checked", "drift.detected", "drift.report"], t)]]))
    error_message = "webhook_endpoints: event_types must be among deltaone.achieved, deltaone.checked, drift.detected, drift.report."
  }
}

variable "drift_schedules_file" {
  description = "The drift schedules file (JSON, format of samples/schedules/schedules.json; check it with `deltaone schedules check FILE`): one EventBridge Scheduler schedule per entry invokes the drift-scheduler function with that entry. Prediction logs must be in the artifacts bucket or a bucket of prediction_log_bucket_arns, and each entry's `reports` under s3://<reports bucket>/drift/. null: no schedules."
  type        = string
  default     = null
  validation {
    condition     = var.drift_schedules_file == null || can(jsondecode(file(var.drift_schedules_file)).schedules)
    error_message = "drift_schedules_file must name a readable JSON file with a `schedules` list."
  }
  validation {
    condition = var.drift_schedules_file == null || alltrue([
      for s in try(jsondecode(file(var.drift_schedules_file)).schedules, []) :
      can(regex("^(cron|rate)\\(.+\\)$", s.cron)) && startswith(s.current.prefix, "s3://") && startswith(s.reference.prefix, "s3://") && startswith(s.reports, "s3://")
    ])
    error_message = "drift_schedules_file: every entry needs cron(...) or rate(...) and s3:// prefixes and reports (run `deltaone schedules check FILE` for the details)."
  }
}

variable "prediction_log_bucket_arns" {
  description = "Buckets (ARNs) besides the artifacts bucket that hold prediction logs the drift schedules read; the drift job may list and read them."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for arn in var.prediction_log_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]+$", arn))])
    error_message = "prediction_log_bucket_arns must be bucket ARNs (arn:aws:s3:::name)."
  }
}

variable "drift_share" {
  description = "Share of columns that must drift for the dataset to count as drifted."
  type        = number
  default     = 0.5
  validation {
    condition     = var.drift_share > 0 && var.drift_share <= 1
    error_message = "drift_share must be within (0, 1]."
  }
}

variable "drift_retention_days" {
  description = "Days drift results stay in the drift table (its TTL)."
  type        = number
  default     = 400
  validation {
    condition     = var.drift_retention_days >= 1 && var.drift_retention_days <= 3650
    error_message = "drift_retention_days must be within 1..3650."
  }
}

variable "drift_image_tag" {
  description = "Tag of the drift job image in the ECR repository (tags are immutable: push a new tag per release)."
  type        = string
  default     = "latest-release"
  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.drift_image_tag))
    error_message = "drift_image_tag must be a valid image tag."
  }
}

variable "drift_vcpu" {
  description = "vCPUs per drift job (Fargate: 0.25, 0.5, 1, 2, 4, 8 or 16)."
  type        = number
  default     = 1
  validation {
    condition     = contains([0.25, 0.5, 1, 2, 4, 8, 16], var.drift_vcpu)
    error_message = "drift_vcpu must be one of 0.25, 0.5, 1, 2, 4, 8, 16."
  }
}

variable "drift_memory_mb" {
  description = "Memory per drift job in MiB (must be a Fargate combination with drift_vcpu; 2048 fits 1 vCPU)."
  type        = number
  default     = 2048
  validation {
    condition     = var.drift_memory_mb >= 512 && var.drift_memory_mb <= 122880
    error_message = "drift_memory_mb must be within 512..122880."
  }
}

variable "batch_subnet_ids" {
  description = "Private subnets (with a NAT gateway or VPC endpoints for ECR, S3, DynamoDB, SNS and CloudWatch Logs) the drift job's Fargate tasks run in."
  type        = list(string)
  validation {
    condition     = length(var.batch_subnet_ids) > 0 && alltrue([for s in var.batch_subnet_ids : startswith(s, "subnet-")])
    error_message = "batch_subnet_ids must list at least one subnet-... id."
  }
}

variable "vpc_id" {
  description = "The VPC of batch_subnet_ids (the drift job's security group is created in it)."
  type        = string
  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "vpc_id must be a vpc-... id."
  }
}

variable "log_retention_days" {
  description = "Days logs are kept (functions and the drift job); at least a year by default for audits."
  type        = number
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, ...)."
  }
}

variable "artifact_retention_days" {
  description = "Days noncurrent object versions and access logs are kept in the buckets."
  type        = number
  default     = 90
  validation {
    condition     = var.artifact_retention_days >= 1
    error_message = "artifact_retention_days must be at least 1."
  }
}

variable "deletion_protection" {
  description = "Protect the DynamoDB tables from deletion (turn off only to tear a test stack down)."
  type        = bool
  default     = true
}

variable "reserved_concurrency" {
  description = "Reserved concurrency per function: caps the load on MLflow and DynamoDB."
  type = object({
    evaluation       = optional(number, 10)
    registry_webhook = optional(number, 10)
    webhook_notifier = optional(number, 5)
    query_api        = optional(number, 5)
    drift_scheduler  = optional(number, 2)
    registry_sweep   = optional(number, 2)
  })
  default = {}
  validation {
    condition     = alltrue([for n in values(var.reserved_concurrency) : n >= 2])
    error_message = "reserved_concurrency values must be at least 2 (the notifier's SQS mapping needs 2; 0 would disable a function)."
  }
}

variable "secrets_extension_layer_arn" {
  description = "ARN of the AWS Parameters and Secrets Lambda extension layer of your region for var.architecture (see the AWS docs' table: AWS-Parameters-and-Secrets-Lambda-Extension-Arm64 for arm64, AWS-Parameters-and-Secrets-Lambda-Extension for x86_64); the webhook functions read their secrets through it."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension(-Arm64)?:[0-9]+$", var.secrets_extension_layer_arn))
    error_message = "secrets_extension_layer_arn must be an AWS-Parameters-and-Secrets-Lambda-Extension layer version ARN (the -Arm64 one for arm64)."
  }
}

variable "architecture" {
  description = "Instruction set of the functions' zips and of the drift job image: \"arm64\" (Graviton: what infra/package.sh builds by default, cheaper per GB-second) or \"x86_64\"."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "batch_service_role_arn" {
  description = "IAM role AWS Batch manages the compute environment with; null uses Batch's service-linked role (AWSServiceRoleForBatch), which AWS creates on first use."
  type        = string
  default     = null
  validation {
    condition     = var.batch_service_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", coalesce(var.batch_service_role_arn, "x")))
    error_message = "batch_service_role_arn must be an IAM role ARN."
  }
}

variable "force_destroy_buckets" {
  description = "Let `terraform destroy` delete the artifacts, reports and access-log buckets with every object version in them. For test stacks only: the data is lost."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "registry_sweep" {
  description = "The registry sweep, which checks versions whose webhook event was lost: how often it runs (a lost event waits at most this long for its verdict), which models (empty: every registered model, as the webhook covers), how old a version must be before the sweep takes it over from its webhook, how far back a model's first sweep looks, and how many checks one sweep makes per model."
  type = object({
    interval_minutes = optional(number, 15)
    models           = optional(list(string), [])
    settle_seconds   = optional(number, 120)
    lookback_hours   = optional(number, 24)
    max_checks       = optional(number, 50)
  })
  default = {}
  validation {
    condition     = var.registry_sweep.interval_minutes >= 1 && var.registry_sweep.interval_minutes <= 1440
    error_message = "registry_sweep.interval_minutes must be within 1..1440."
  }
  validation {
    condition     = var.registry_sweep.settle_seconds >= 0 && var.registry_sweep.settle_seconds <= 86400 && var.registry_sweep.lookback_hours >= 0 && var.registry_sweep.lookback_hours <= 8760
    error_message = "registry_sweep.settle_seconds must be within 0..86400 and lookback_hours within 0..8760."
  }
  validation {
    condition     = var.registry_sweep.max_checks >= 1 && var.registry_sweep.max_checks <= 10000
    error_message = "registry_sweep.max_checks must be within 1..10000."
  }
}
