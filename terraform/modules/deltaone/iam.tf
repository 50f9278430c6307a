# What each piece of code may do: exactly the actions its AWS calls use, on the ARNs they touch.
# tests/tests/deploy.rs fails on "*" (or "service:*") actions, and on "*" resources except for the
# few actions AWS offers no resource-level permissions for.

locals {
  verdict_actions = [
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
  ]
}

data "aws_iam_policy_document" "evaluation" {
  statement {
    sid       = "OffloadLargeNotifications"
    actions   = ["s3:PutObject"]
    resources = ["${module.reports.arn}/${local.notifications_prefix}*"]
  }
  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${module.artifacts.arn}/*"]
  }
  statement {
    sid       = "QuarantineCorruptArtifacts"
    actions   = ["s3:PutObject"]
    resources = ["${module.artifacts.arn}/quarantine/*"]
  }
  statement {
    # Records and the attestation chain head (TransactWriteItems is authorised per item action).
    sid       = "VerdictsAndCredits"
    actions   = local.verdict_actions
    resources = [aws_dynamodb_table.verdicts.arn, aws_dynamodb_table.credits.arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid       = "ParkFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters["evaluation-dead-letters"].arn]
  }
}

data "aws_iam_policy_document" "registry_webhook" {
  statement {
    sid       = "OffloadLargeNotifications"
    actions   = ["s3:PutObject"]
    resources = ["${module.reports.arn}/${local.notifications_prefix}*"]
  }
  statement {
    sid       = "VerdictsAndCredits"
    actions   = local.verdict_actions
    resources = [aws_dynamodb_table.verdicts.arn, aws_dynamodb_table.credits.arn]
  }
  statement {
    sid       = "DeliveryIds"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.deliveries.arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid       = "ParkFailedDeliveries"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters["registry-webhook-dead-letters"].arn]
  }
  statement {
    sid       = "QueueChecks"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.registry_checks.arn]
  }
  statement {
    sid       = "ConsumeQueuedChecks"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.registry_checks.arn]
  }
  statement {
    sid       = "WebhookSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.mlflow_webhook.arn]
  }
}

# The registry sweep: what a check does, plus its watermarks in the delivery table.
data "aws_iam_policy_document" "registry_sweep" {
  statement {
    sid       = "OffloadLargeNotifications"
    actions   = ["s3:PutObject"]
    resources = ["${module.reports.arn}/${local.notifications_prefix}*"]
  }
  statement {
    sid       = "VerdictsAndCredits"
    actions   = local.verdict_actions
    resources = [aws_dynamodb_table.verdicts.arn, aws_dynamodb_table.credits.arn]
  }
  statement {
    sid       = "Watermarks"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.deliveries.arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid       = "ParkUncheckableVersions"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters["registry-webhook-dead-letters"].arn]
  }
}

data "aws_iam_policy_document" "webhook_notifier" {
  count = local.notifier ? 1 : 0
  statement {
    sid       = "ReadOffloadedNotifications"
    actions   = ["s3:GetObject"]
    resources = ["${module.reports.arn}/${local.notifications_prefix}*"]
  }
  statement {
    sid       = "ConsumeAlerts"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.notifier_input[0].arn]
  }
  statement {
    sid       = "ParkFailedDeliveries"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters["webhook-dead-letters"].arn]
  }
  statement {
    sid       = "EndpointSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for s in aws_secretsmanager_secret.webhook_endpoint : s.arn]
  }
}

data "aws_iam_policy_document" "query_api" {
  statement {
    sid     = "ReadTables"
    actions = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [
      aws_dynamodb_table.verdicts.arn, aws_dynamodb_table.drift.arn, aws_dynamodb_table.credits.arn,
    ]
  }
}

# The drift job's task role: its own code's calls.
data "aws_iam_policy_document" "drift_job" {
  statement {
    sid       = "ListPredictionLogs"
    actions   = ["s3:ListBucket"]
    resources = concat([module.artifacts.arn], var.prediction_log_bucket_arns)
  }
  statement {
    # GetObject also authorises HeadObject and the source side of the quarantine copy.
    sid       = "ReadPredictionLogs"
    actions   = ["s3:GetObject"]
    resources = concat(["${module.artifacts.arn}/*"], [for arn in var.prediction_log_bucket_arns : "${arn}/*"])
  }
  statement {
    # The run summary links the report with a presigned GET, signed with this role.
    sid       = "LinkReports"
    actions   = ["s3:GetObject"]
    resources = ["${module.reports.arn}/drift/*"]
  }
  statement {
    sid       = "WriteReportsQuarantineAndLargeAlerts"
    actions   = ["s3:PutObject"]
    resources = ["${module.reports.arn}/drift/*", "${module.artifacts.arn}/quarantine/drift/*", "${module.reports.arn}/${local.notifications_prefix}*"]
  }
  statement {
    sid       = "WriteDriftResults"
    actions   = ["dynamodb:BatchWriteItem"]
    resources = [aws_dynamodb_table.drift.arn]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid       = "EncryptedData"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

# The drift job's execution role: what ECS needs to start the container and ship its logs.
data "aws_iam_policy_document" "drift_execution" {
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.drift.arn]
  }
  statement {
    # ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only resource it accepts.
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.drift.arn}:*"]
  }
  statement {
    sid       = "DecryptImageLayers"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
  }
}

# EventBridge Scheduler: invoke the drift-scheduler and registry-sweep functions, and park what it
# cannot deliver.
data "aws_iam_policy_document" "scheduler" {
  statement {
    sid     = "InvokeScheduledFunctions"
    actions = ["lambda:InvokeFunction"]
    resources = [
      module.drift_scheduler.function_arn, "${module.drift_scheduler.function_arn}:*",
      module.registry_sweep.function_arn, "${module.registry_sweep.function_arn}:*",
    ]
  }
  statement {
    sid       = "ParkFailedInvocations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters["drift-schedule-dlq"].arn]
  }
  statement {
    sid       = "EncryptedQueueAndSchedules"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

# The drift-scheduler function: list the windows' files, write the run manifest, submit the jobs.
data "aws_iam_policy_document" "drift_scheduler" {
  statement {
    sid       = "ListPredictionLogs"
    actions   = ["s3:ListBucket"]
    resources = concat([module.artifacts.arn], var.prediction_log_bucket_arns)
  }
  statement {
    # GetObject: a retried invocation reads the manifest to find the jobs it already submitted.
    sid       = "RunManifests"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.reports.arn}/drift/*"]
  }
  statement {
    sid       = "SubmitDriftJobs"
    actions   = ["batch:SubmitJob", "batch:TagResource"]
    resources = [aws_batch_job_queue.drift.arn, aws_batch_job_definition.drift.arn_prefix, "${aws_batch_job_definition.drift.arn_prefix}:*", "arn:${local.partition}:batch:${local.region}:${local.account}:job/*"]
  }
  statement {
    sid       = "EncryptedManifests"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "drift_job" {
  name               = "${var.name_prefix}-drift-job"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "drift_job" {
  name   = "code"
  role   = aws_iam_role.drift_job.id
  policy = data.aws_iam_policy_document.drift_job.json
}

resource "aws_iam_role" "drift_execution" {
  name               = "${var.name_prefix}-drift-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "drift_execution" {
  name   = "start-container"
  role   = aws_iam_role.drift_execution.id
  policy = data.aws_iam_policy_document.drift_execution.json
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-drift-scheduler"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "submit-drift-job"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
