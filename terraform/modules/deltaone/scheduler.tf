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
