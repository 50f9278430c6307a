# One EventBridge Scheduler schedule per entry of the drift schedules file. Each invokes the
# drift-scheduler function with its entry and the scheduled time; the function lists the window's
# files, writes the run's manifest and submits the AWS Batch jobs (one job, or map + reduce).

locals {
  drift_schedules = var.drift_schedules_file == null ? {} : {
    for s in jsondecode(file(var.drift_schedules_file)).schedules : s.model => s
  }
}

resource "aws_scheduler_schedule" "drift" {
  for_each                     = local.drift_schedules
  name                         = "${var.name_prefix}-drift-${substr(replace(lower(each.key), "/[^a-z0-9-]/", "-"), 0, 40)}"
  description                  = "DeltaOne drift run for model ${each.key}"
  schedule_expression          = each.value.cron
  schedule_expression_timezone = try(each.value.timezone, "UTC")
  kms_key_arn                  = aws_kms_key.main.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.drift_scheduler.function_arn
    role_arn = aws_iam_role.scheduler.arn
    # <aws.scheduler.scheduled-time> is filled in by EventBridge Scheduler at each run.
    input = jsonencode({
      schedule       = each.value
      scheduled_time = "<aws.scheduler.scheduled-time>"
    })
    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
    dead_letter_config {
      arn = aws_sqs_queue.dead_letters["drift-schedule-dlq"].arn
    }
  }
}

# The registry sweep: every interval, the versions whose webhook event was lost get their verdict.
resource "aws_scheduler_schedule" "registry_sweep" {
  name                         = "${var.name_prefix}-registry-sweep"
  description                  = "DeltaOne: check registry versions whose webhook event was lost"
  schedule_expression          = "rate(${var.registry_sweep.interval_minutes} minute${var.registry_sweep.interval_minutes == 1 ? "" : "s"})"
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.main.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.registry_sweep.function_arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ sweep = "scheduled", scheduled_time = "<aws.scheduler.scheduled-time>" })
    # A missed sweep is not worth a retry: the next one covers its versions.
    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 60 * var.registry_sweep.interval_minutes
    }
    dead_letter_config {
      arn = aws_sqs_queue.dead_letters["drift-schedule-dlq"].arn
    }
  }
}

# Versions reconciled by the sweep are registry events the webhook never received: worth a look at
# the webhook's reachability when it happens.
resource "aws_cloudwatch_metric_alarm" "lost_registry_events" {
  alarm_name          = "${var.name_prefix}-lost-registry-events"
  alarm_description   = "The registry sweep checked versions whose MLflow webhook event never arrived (metric ReconciledVersions from its EMF log lines): is the registry webhook reachable?"
  namespace           = "DeltaOne"
  metric_name         = "ReconciledVersions"
  dimensions          = { Function = "registry-sweep" }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}

# A model whose scheduled drift runs stopped (a broken schedule, a failing job, an empty window):
# its runs' RowsRead metric (the drift job's EMF lines) is missing or zero for two days.
resource "aws_cloudwatch_metric_alarm" "drift_runs_missing" {
  for_each            = local.drift_schedules
  alarm_name          = "${var.name_prefix}-drift-runs-missing-${substr(replace(lower(each.key), "/[^a-z0-9-]/", "-"), 0, 40)}"
  alarm_description   = "No drift run of model ${each.key} read any rows for two days (metric RowsRead from the drift job's EMF lines): check its schedule, its Batch jobs and its prediction logs."
  namespace           = "DeltaOne"
  metric_name         = "RowsRead"
  dimensions          = { Model = each.key }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}
