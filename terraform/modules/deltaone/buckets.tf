# S3: "artifacts" (evaluation artifacts under evaluation_prefix, prediction logs for the drift job,
# quarantined artifacts) and "reports" (drift.json and report.html per run), both versioned,
# KMS-encrypted, private, TLS-only and access-logged to "access-logs".

locals {
  # The logging configuration names the access-log bucket through its policy, so that it is applied
  # after the policy: S3 refuses PutBucketLogging (InvalidTargetBucketForLogging) while the target
  # bucket does not yet let the logging service write.
  access_log_bucket = aws_s3_bucket_policy.access_logs.bucket
}

module "artifacts" {
  source                  = "../bucket"
  name                    = "${var.name_prefix}-artifacts-${local.account}"
  kms_key_arn             = aws_kms_key.main.arn
  access_log_bucket       = local.access_log_bucket
  force_destroy           = var.force_destroy_buckets
  noncurrent_version_days = var.artifact_retention_days
  tags                    = local.tags
}

module "reports" {
  source                  = "../bucket"
  name                    = "${var.name_prefix}-reports-${local.account}"
  kms_key_arn             = aws_kms_key.main.arn
  access_log_bucket       = local.access_log_bucket
  force_destroy           = var.force_destroy_buckets
  noncurrent_version_days = var.artifact_retention_days
  tags                    = local.tags
}

# New evaluation artifacts invoke the evaluation function directly (retries: the function's async
# retry policy, then its dead-letter queue).
resource "aws_lambda_permission" "artifacts_invoke_evaluation" {
  statement_id   = "AllowArtifactsBucket"
  action         = "lambda:InvokeFunction"
  function_name  = module.evaluation.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = module.artifacts.arn
  source_account = local.account
}

resource "aws_s3_bucket_notification" "artifacts" {
  bucket = module.artifacts.id
  lambda_function {
    lambda_function_arn = module.evaluation.function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.evaluation_prefix
  }
  depends_on = [aws_lambda_permission.artifacts_invoke_evaluation]
}

# Server access logs of the two buckets above.
resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it into itself would log its own log writes forever.
  #checkov:skip=CKV_AWS_144:Access logs are kept in one region; replicating them is the operator's choice.
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES256), not SSE-KMS.
  #checkov:skip=CKV2_AWS_62:Nothing consumes access-log delivery events.
  bucket        = "${var.name_prefix}-access-logs-${local.account}"
  force_destroy = var.force_destroy_buckets
  tags          = local.tags
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {
      prefix = ""
    }
    expiration {
      days = var.artifact_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid     = "S3ServerAccessLogs"
    actions = ["s3:PutObject"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    resources = ["${aws_s3_bucket.access_logs.arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs.json
}
