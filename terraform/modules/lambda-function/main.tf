# One DeltaOne Lambda function: provided.al2023 (arm64 by default) from a cargo-lambda zip, with its own role,
# encrypted log group, X-Ray tracing, reserved concurrency, an on-failure destination queue for
# asynchronous invocations that failed every retry, and alarms on errors, throttles and dead letters.

locals {
  log_group_name = "/aws/lambda/${var.name}"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "async_dlq" {
  name                      = "${var.name}-async-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.async_dlq.arn]
  }
  statement {
    sid       = "EncryptedEnvironmentAndQueues"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    # X-Ray's trace APIs have no resource-level permissions: "*" is the only resource they accept.
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      # ENI management for VPC functions: these EC2 actions accept no resource ARNs.
      sid       = "VpcNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "runtime"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_iam_role_policy" "code" {
  name   = "code"
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_272:Code signing needs AWS Signer profiles and a signing step in the release pipeline; the zips are built from the locked workspace by infra/package.sh and their SHA-256 is pinned in source_code_hash.
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the on-failure destination (aws_lambda_function_event_invoke_config below, the same queue), which records the error and request context; a legacy dead_letter_config as well would park every failure twice.
  #checkov:skip=CKV_AWS_117:No VPC by default: the functions call only AWS APIs and the MLflow server over HTTPS; set subnet_ids to run inside a VPC.
  function_name                  = var.name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  layers                         = var.layers

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  dynamic "vpc_config" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.runtime, aws_iam_role_policy.code]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.async_dlq.arn
    }
  }
}

resource "aws_lambda_function_url" "this" {
  #checkov:skip=CKV_AWS_258:Auth type NONE is chosen only for the MLflow registry webhook, which verifies an HMAC-SHA256 signature over every request body itself (MLflow cannot sign AWS SigV4); every other URL uses AWS_IAM.
  count              = var.function_url_auth_type == null ? 0 : 1
  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.function_url_auth_type
}

locals {
  # The function's own alarms: any error, any throttle.
  function_alarms = {
    Errors    = { suffix = "errors", description = "${var.name} returned errors (a failed invocation; see its log group ${local.log_group_name})." }
    Throttles = { suffix = "throttles", description = "${var.name} was throttled: its reserved concurrency (${var.reserved_concurrency}) is exhausted." }
  }
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each            = local.function_alarms
  alarm_name          = "${var.name}-${each.value.suffix}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.key
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "async_dead_letters" {
  alarm_name          = "${var.name}-async-dead-letters"
  alarm_description   = "Asynchronous invocations of ${var.name} failed every retry and wait in ${aws_sqs_queue.async_dlq.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.async_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}
