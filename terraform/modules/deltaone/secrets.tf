# Secrets Manager: the MLflow webhook's signing secret and one secret per webhook endpoint. The
# functions read them at cold start through the AWS Parameters and Secrets Lambda extension.

resource "aws_secretsmanager_secret" "mlflow_webhook" {
  #checkov:skip=CKV2_AWS_57:The webhook secret is shared with MLflow, which has no rotation hook: rotate by updating the MLflow webhook and this secret together (functions/registry-webhook/README.md).
  name                    = "${var.name_prefix}/mlflow-webhook-secret"
  description             = "Secret the MLflow registry webhook signs deliveries with (HMAC-SHA256); the same string as in MLflow's webhook."
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "mlflow_webhook" {
  count         = var.mlflow_webhook_secret == null ? 0 : 1
  secret_id     = aws_secretsmanager_secret.mlflow_webhook.id
  secret_string = var.mlflow_webhook_secret
}

resource "aws_secretsmanager_secret" "webhook_endpoint" {
  #checkov:skip=CKV2_AWS_57:Endpoint signing keys and Slack URLs are issued by the receiving side; rotation is coordinated with it, not automatic.
  for_each                = var.webhook_endpoints
  name                    = "${var.name_prefix}/webhook-endpoints/${each.key}"
  description             = each.value.kind == "slack" ? "Slack incoming-webhook URL of endpoint ${each.key}" : "Standard Webhooks signing key (whsec_...) of endpoint ${each.key}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

# The attestation signing seed: an existing secret the operator created (never generated here). The
# functions read it only from DELTAONE_ATTESTATION_KEY, so its value is resolved at apply time into
# their KMS-encrypted environment, and therefore also sits in Terraform's state: keep the state
# encrypted (the README's S3 backend does).
data "aws_secretsmanager_secret_version" "attestation_key" {
  count     = var.attestation_key_secret_arn == null ? 0 : 1
  secret_id = var.attestation_key_secret_arn
}
