# One EventBridge Scheduler schedule per model in var.drift_schedules, submitting the drift job to
# AWS Batch directly (universal target batch:submitJob) with the model's windows as overrides.

resource "aws_scheduler_schedule" "drift" {
  for_each                     = var.drift_schedules
  name                         = "${var.name_prefix}-drift-${substr(replace(lower(each.key), "/[^a-z0-9-]/", "-"), 0, 40)}"
  description                  = "DeltaOne drift run for model ${each.key}"
  schedule_expression          = each.value.schedule_expression
  schedule_expression_timezone = each.value.timezone
  kms_key_arn                  = aws_kms_key.main.arn

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 15
  }

  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:batch:submitJob"
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      JobName       = "drift-${substr(replace(each.key, "/[^A-Za-z0-9_-]/", "-"), 0, 100)}"
      JobQueue      = aws_batch_job_queue.drift.arn
      JobDefinition = aws_batch_job_definition.drift.arn_prefix
      ContainerOverrides = {
        Environment = [
          { Name = "DELTAONE_DRIFT_MODEL", Value = each.key },
          { Name = "DELTAONE_DRIFT_REFERENCE", Value = each.value.reference },
          { Name = "DELTAONE_DRIFT_CURRENT", Value = each.value.current },
        ]
      }
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
