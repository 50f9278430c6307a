# The drift job: its image repository, and AWS Batch on Fargate (compute environment, queue, job
# definition with a retry strategy) in the operator's private subnets.

resource "aws_ecr_repository" "drift" {
  name                 = "${var.name_prefix}/drift"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "drift" {
  repository = aws_ecr_repository.drift.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the 20 newest images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "drift" {
  name              = "/aws/batch/${var.name_prefix}-drift"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  tags              = local.tags
}

resource "aws_security_group" "drift" {
  name        = "${var.name_prefix}-drift-job"
  description = "DeltaOne drift job: no inbound; HTTPS out to AWS APIs (S3, DynamoDB, SNS, ECR, Logs)"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "drift_https" {
  security_group_id = aws_security_group.drift.id
  description       = "HTTPS to AWS APIs (through NAT or VPC endpoints)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# No name argument: provider 5 calls it compute_environment_name and provider 6 name, and neither
# accepts the other's; left out, the provider generates a unique name in both. Nothing refers to
# it by name (the queue uses its ARN); the Name tag says whose it is.
resource "aws_batch_compute_environment" "drift" {
  type         = "MANAGED"
  state        = "ENABLED"
  service_role = var.batch_service_role_arn
  compute_resources {
    type               = "FARGATE"
    max_vcpus          = 16
    subnets            = var.batch_subnet_ids
    security_group_ids = [aws_security_group.drift.id]
  }
  tags = merge(local.tags, { Name = "${var.name_prefix}-drift" })
}

resource "aws_batch_job_queue" "drift" {
  name     = "${var.name_prefix}-drift"
  state    = "ENABLED"
  priority = 1
  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.drift.arn
  }
  tags = local.tags
}

resource "aws_batch_job_definition" "drift" {
  name                  = "${var.name_prefix}-drift"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  propagate_tags        = true

  retry_strategy {
    attempts = 3
    # Infrastructure failures (the task was stopped, the host went away) are retried; a run that
    # exited on its own (a typed error, exit code 1) is not: it would fail the same way again.
    evaluate_on_exit {
      on_status_reason = "Task failed to start*"
      action           = "RETRY"
    }
    evaluate_on_exit {
      on_status_reason = "Host EC2*"
      action           = "RETRY"
    }
    evaluate_on_exit {
      on_reason = "CannotPullContainerError*"
      action    = "RETRY"
    }
    evaluate_on_exit {
      on_exit_code = "*"
      action       = "EXIT"
    }
  }

  timeout {
    attempt_duration_seconds = 3 * 3600
  }

  container_properties = jsonencode({
    image                        = "${aws_ecr_repository.drift.repository_url}:${var.drift_image_tag}"
    command                      = ["run"]
    jobRoleArn                   = aws_iam_role.drift_job.arn
    executionRoleArn             = aws_iam_role.drift_execution.arn
    runtimePlatform              = { cpuArchitecture = upper(var.architecture), operatingSystemFamily = "LINUX" }
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    networkConfiguration         = { assignPublicIp = "DISABLED" }
    readonlyRootFilesystem       = false
    resourceRequirements = [
      { type = "VCPU", value = tostring(var.drift_vcpu) },
      { type = "MEMORY", value = tostring(var.drift_memory_mb) },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.drift.name
        "awslogs-region"        = local.region
        "awslogs-stream-prefix" = "drift"
      }
    }
    # Per-model settings (model, windows) come from each schedule's container overrides.
    environment = [
      { name = "DELTAONE_DRIFT_TABLE", value = aws_dynamodb_table.drift.name },
      { name = "DELTAONE_DRIFT_RETENTION_DAYS", value = tostring(var.drift_retention_days) },
      { name = "DELTAONE_DRIFT_OUTPUT", value = "s3://${module.reports.id}/drift/" },
      { name = "DELTAONE_DRIFT_SHARE", value = tostring(var.drift_share) },
      { name = "DELTAONE_DRIFT_BINNING", value = "quantiles" },
      { name = "DELTAONE_TOPIC_ARN", value = aws_sns_topic.alerts.arn },
      { name = "DELTAONE_NOTIFICATION_BUCKET", value = module.reports.id },
      { name = "DELTAONE_NOTIFICATION_PREFIX", value = local.notifications_prefix },
      { name = "DELTAONE_DRIFT_QUARANTINE", value = "s3://${module.artifacts.id}/quarantine/drift/" },
      { name = "DELTAONE_DRIFT_NO_PROGRESS", value = "true" },
      { name = "DELTAONE_LOG_FORMAT", value = "json" },
    ]
  })
  tags = local.tags
}

# A failed drift job (after its retries) alerts like everything else.
resource "aws_cloudwatch_event_rule" "drift_failed" {
  name        = "${var.name_prefix}-drift-job-failed"
  description = "A DeltaOne drift job ended FAILED"
  event_pattern = jsonencode({
    source      = ["aws.batch"]
    detail-type = ["Batch Job State Change"]
    detail      = { status = ["FAILED"], jobQueue = [aws_batch_job_queue.drift.arn] }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "drift_failed" {
  rule = aws_cloudwatch_event_rule.drift_failed.name
  arn  = aws_sns_topic.alerts.arn
}
