# The alerts topic (verdicts, drift, alarms) and every queue: the notifier's input, and the places
# where what failed for good is kept (never lost) until an operator redrives it.

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = aws_kms_key.main.arn
  tags              = local.tags
}

data "aws_iam_policy_document" "alerts_topic" {
  statement {
    sid     = "AccountPublishesAndSubscribes"
    actions = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    resources = [aws_sns_topic.alerts.arn]
  }
  statement {
    sid     = "CloudWatchAlarmsPublish"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }
    resources = [aws_sns_topic.alerts.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  # name => what waits in it (alarm text). Each alarms as soon as one message waits.
  dead_letter_queues = {
    "evaluation-dead-letters"       = "evaluation events that failed for good (parked by the function with the original event; redrive with `deltaone dlq redrive`)"
    "registry-webhook-dead-letters" = "MLflow webhook deliveries that failed for good (redrive with redrive_request, see functions/registry-webhook/README.md), and versions the registry sweep can never check"
    "notifier-input-dlq"            = "alerts the webhook notifier could not process after 5 receives"
    "webhook-dead-letters"          = "webhook deliveries an endpoint refused for good or after every retry"
    "registry-checks-dlq"           = "queued registry checks that failed 5 times (MLflow or AWS unavailable for longer than the retries): redrive to the registry-checks queue"
    "drift-schedule-dlq"            = "schedules EventBridge Scheduler could not deliver (drift runs to drift-scheduler, sweeps to registry-sweep)"
  }
}

resource "aws_sqs_queue" "dead_letters" {
  for_each                  = local.dead_letter_queues
  name                      = "${var.name_prefix}-${each.key}"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each            = local.dead_letter_queues
  alarm_name          = "${var.name_prefix}-${each.key}-not-empty"
  alarm_description   = "Messages wait in ${aws_sqs_queue.dead_letters[each.key].name}: ${each.value}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}

# The webhook notifier's input: every alert, through SQS so that a slow endpoint never loses one.
# Only with webhook endpoints: the notifier refuses to start without any.
locals {
  notifier = length(var.webhook_endpoints) > 0
}

resource "aws_sqs_queue" "notifier_input" {
  count                      = local.notifier ? 1 : 0
  name                       = "${var.name_prefix}-notifier-input"
  kms_master_key_id          = aws_kms_key.main.arn
  message_retention_seconds  = 345600
  visibility_timeout_seconds = 6 * 60
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters["notifier-input-dlq"].arn
    maxReceiveCount     = 5
  })
  tags = local.tags
}

data "aws_iam_policy_document" "notifier_input" {
  count = local.notifier ? 1 : 0
  statement {
    sid     = "AlertsTopicDelivers"
    actions = ["sqs:SendMessage"]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    resources = [aws_sqs_queue.notifier_input[0].arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.alerts.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "notifier_input" {
  count     = local.notifier ? 1 : 0
  queue_url = aws_sqs_queue.notifier_input[0].id
  policy    = data.aws_iam_policy_document.notifier_input[0].json
}

resource "aws_sns_topic_subscription" "notifier_input" {
  count                = local.notifier ? 1 : 0
  topic_arn            = aws_sns_topic.alerts.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.notifier_input[0].arn
  raw_message_delivery = false
}

resource "aws_cloudwatch_metric_alarm" "notifier_backlog" {
  count               = local.notifier ? 1 : 0
  alarm_name          = "${var.name_prefix}-notifier-input-backlog"
  alarm_description   = "The oldest alert in ${aws_sqs_queue.notifier_input[0].name} has waited over 15 minutes: the webhook notifier is failing or throttled."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.notifier_input[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 900
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}

# Checks the registry webhook queued: consumed by the same function (its SQS trigger).
resource "aws_sqs_queue" "registry_checks" {
  name                       = "${var.name_prefix}-registry-checks"
  kms_master_key_id          = aws_kms_key.main.arn
  message_retention_seconds  = 345600
  visibility_timeout_seconds = 6 * 60
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters["registry-checks-dlq"].arn
    maxReceiveCount     = 5
  })
  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "registry_checks_backlog" {
  alarm_name          = "${var.name_prefix}-registry-checks-backlog"
  alarm_description   = "The oldest queued registry check in ${aws_sqs_queue.registry_checks.name} has waited over 15 minutes: the registry webhook's worker is failing or throttled, or MLflow is down."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.registry_checks.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 900
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}
