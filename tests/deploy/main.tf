# A test environment for infra/deploy-apply.sh: the production module terraform/modules/deltaone,
# applied to a moto server on loopback. Only what a local emulator needs differs from a real
# environment (endpoints, dummy credentials, fixtures moto cannot provide itself); everything
# under test is the module as deployed. Kept outside terraform/ so that checkov and
# tests/tests/deploy.rs see only production code.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

variable "moto_url" {
  description = "The moto server every AWS service endpoint points at."
  type        = string
}

variable "package_dir" {
  description = "Where infra/package.sh --host put the x86_64 zips."
  type        = string
}

variable "mlflow_tracking_uri" {
  description = "The MLflow server the functions talk to."
  type        = string
}

variable "layer_zip" {
  description = "A small zip standing in for the AWS Parameters and Secrets extension layer (moto needs the layer to exist)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "d1-deploy-test"
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
    batch          = var.moto_url
    cloudwatch     = var.moto_url
    cloudwatchlogs = var.moto_url
    dynamodb       = var.moto_url
    ec2            = var.moto_url
    ecr            = var.moto_url
    eventbridge    = var.moto_url
    iam            = var.moto_url
    kms            = var.moto_url
    lambda         = var.moto_url
    s3             = var.moto_url
    scheduler      = var.moto_url
    secretsmanager = var.moto_url
    sns            = var.moto_url
    sqs            = var.moto_url
    sts            = var.moto_url
  }
}

# Fixtures: what an AWS account already has and moto does not.
resource "aws_lambda_layer_version" "secrets_extension" {
  layer_name               = "AWS-Parameters-and-Secrets-Lambda-Extension"
  filename                 = var.layer_zip
  compatible_architectures = ["x86_64"]
}

data "aws_iam_policy_document" "batch_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["batch.amazonaws.com"]
    }
  }
}

# moto's Batch needs an explicit service role (AWS would use its service-linked role).
resource "aws_iam_role" "batch_service" {
  name               = "${var.name_prefix}-batch-service"
  assume_role_policy = data.aws_iam_policy_document.batch_assume.json
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

module "deltaone" {
  source = "../../terraform/modules/deltaone"

  name_prefix                 = var.name_prefix
  package_dir                 = var.package_dir
  architecture                = "x86_64"
  mlflow_tracking_uri         = var.mlflow_tracking_uri
  mlflow_webhook_secret       = "deploy-test-webhook-secret-0123456789"
  secrets_extension_layer_arn = aws_lambda_layer_version.secrets_extension.arn
  alert_emails                = ["ml-oncall@example.com"]
  # A loopback address, which the notifier's SSRF guard refuses for good: the delivery is parked
  # in the Terraform-made webhook dead-letter queue at once, where the test finds it.
  webhook_endpoints = {
    orders = { url = "https://127.0.0.1/deltaone" }
  }
  drift_schedules_file    = "${path.module}/schedules.json"
  vpc_id                  = data.aws_vpc.default.id
  batch_subnet_ids        = slice(sort(data.aws_subnets.default.ids), 0, 2)
  batch_service_role_arn  = aws_iam_role.batch_service.arn
  deletion_protection     = false
  force_destroy_buckets   = true
  log_retention_days      = 1
  artifact_retention_days = 1
}

output "stack" {
  description = "Everything infra/deploy-apply.sh uses the stack through."
  value = {
    bucket_names         = module.deltaone.bucket_names
    table_names          = module.deltaone.table_names
    queue_urls           = module.deltaone.queue_urls
    alerts_topic_arn     = module.deltaone.alerts_topic_arn
    function_names       = module.deltaone.function_names
    drift_job_queue_arn  = module.deltaone.drift_job_queue_arn
    drift_job_definition = module.deltaone.drift_job_definition
    webhook_secret_arn   = module.deltaone.mlflow_webhook_secret_arn
    endpoint_secret_arns = module.deltaone.webhook_endpoint_secret_arns
    registry_webhook_url = module.deltaone.registry_webhook_url
    name_prefix          = var.name_prefix
  }
}
