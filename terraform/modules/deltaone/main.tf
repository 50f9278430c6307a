# DeltaOne on AWS: the verdict, drift, credits and delivery tables; the artifacts and reports buckets;
# the alerts topic and the queues around it; the four Lambda functions; the drift job on AWS Batch
# (Fargate) with its image repository and per-model schedules. One customer-managed KMS key encrypts
# everything at rest. Each file holds one part; iam.tf holds every policy the code needs.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.id
  tags      = merge({ "app" = "deltaone" }, var.tags)
  zips      = "${var.package_dir}/lambda"
}

resource "aws_kms_key" "main" {
  description             = "${var.name_prefix}: DeltaOne tables, buckets, topics, queues, logs, secrets and function environments"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key and nothing else; the account's administrators keep control of it so it cannot become unmanageable.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key and nothing else; write access is limited to the account and the named AWS services.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key and nothing else.
  statement {
    sid = "AccountAdministersAndDelegatesToIam"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    actions = [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
      "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
      "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
    ]
    resources = ["*"]
  }
  statement {
    sid = "CloudWatchLogsEncryptsTheLogGroups"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
    }
  }
  statement {
    # SNS delivers to the encrypted notifier queue; CloudWatch alarms and S3 publish to the encrypted topic.
    sid = "ServicesUseTheEncryptedTopicAndQueues"
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com"]
    }
    # No source condition: CloudWatch alarms do not send one to KMS, and each service can use the key
    # only on this stack's resources that are encrypted with it.
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
  }
}
