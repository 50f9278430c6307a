variable "name" {
  description = "Function name (also names its role, log group, dead-letter queue and alarms)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9-_]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, '-' or '_' (the suffixes added to it must still fit AWS limits)."
  }
}

variable "description" {
  description = "What the function does, shown in the console."
  type        = string
}

variable "zip_path" {
  description = "Path of the function's zip as built by infra/package.sh (target/deploy/lambda/<binary>.zip: a `bootstrap` executable for var.architecture)."
  type        = string
  validation {
    condition     = endswith(var.zip_path, ".zip")
    error_message = "zip_path must name a .zip file."
  }
}

variable "architecture" {
  description = "Instruction set the zip was built for: \"arm64\" (what infra/package.sh builds by default) or \"x86_64\" (infra/package.sh --x86-64)."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "memory_mb" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 256
  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be within 128..10240."
  }
}

variable "timeout_seconds" {
  description = "Invocation timeout in seconds."
  type        = number
  default     = 30
  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be within 1..900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: a ceiling that protects MLflow and DynamoDB from a burst, and a floor other functions cannot take."
  type        = number
  default     = 10
  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1 (0 would disable the function)."
  }
}

variable "environment" {
  description = "Environment variables the function reads (see the function's README). Encrypted at rest with kms_key_arn."
  type        = map(string)
  default     = {}
}

variable "policy_json" {
  description = "IAM policy (JSON) with exactly the actions and resources the function's code uses; logging, tracing and the dead-letter queue are added by this module."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the environment, the log group and the dead-letter queue."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, ...)."
  }
}

variable "log_level" {
  description = "Application log level (Lambda's JSON log format; the function maps it to its tracing filter)."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "layers" {
  description = "Lambda layer ARNs (the registry webhook uses the AWS Parameters and Secrets extension)."
  type        = list(string)
  default     = []
}

variable "function_url_auth_type" {
  description = "null for no Function URL; \"AWS_IAM\" or \"NONE\" for one (NONE only where the function authenticates requests itself)."
  type        = string
  default     = null
  validation {
    condition     = var.function_url_auth_type == null || contains(["AWS_IAM", "NONE"], coalesce(var.function_url_auth_type, "NONE"))
    error_message = "function_url_auth_type must be null, \"AWS_IAM\" or \"NONE\"."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of asynchronous invocations (S3 and SNS events) before the event goes to the dead-letter queue."
  type        = number
  default     = 2
  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be within 0..2."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the function's alarms (errors, throttles, dead letters) notify."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets to run in (empty: no VPC; the functions only call AWS APIs and MLflow over HTTPS)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups when subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
