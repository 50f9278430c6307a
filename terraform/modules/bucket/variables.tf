variable "name" {
  description = "Bucket name (globally unique)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name (3-63 lowercase letters, digits, '.' or '-')."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key the objects are encrypted with."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket receiving this bucket's server access logs."
  type        = string
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 90
  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with every object version in it (test stacks only: data is lost)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
