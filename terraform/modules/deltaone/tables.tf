# DynamoDB tables: on demand, point-in-time recovery, deletion protection, the stack's KMS key.

resource "aws_dynamodb_table" "verdicts" {
  name                        = "${var.name_prefix}-verdicts"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "model"
  range_key                   = "version"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "model"
    type = "S"
  }
  attribute {
    name = "version"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
  tags = local.tags
}

resource "aws_dynamodb_table" "drift" {
  name                        = "${var.name_prefix}-drift"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
  tags = local.tags
}

resource "aws_dynamodb_table" "credits" {
  name                        = "${var.name_prefix}-credits"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "contributor"
  range_key                   = "event"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "contributor"
    type = "S"
  }
  attribute {
    name = "event"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
  tags = local.tags
}

# MLflow webhook delivery ids seen (infra/src/deliveries.rs): claims expire after 7 days.
resource "aws_dynamodb_table" "deliveries" {
  name                        = "${var.name_prefix}-webhook-deliveries"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "delivery_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "delivery_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
  tags = local.tags
}
