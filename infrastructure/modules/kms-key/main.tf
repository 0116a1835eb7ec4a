# A customer managed KMS key with yearly rotation and a policy that leaves
# access to IAM (the account's root principal), except for the AWS services
# that must use the key themselves: CloudWatch Logs for the named log
# groups, and the given service principals for this account's resources.
# Every other module takes its keys from here, so that the key policy is
# written once.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
}

data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_AWS_109:A key policy's Resource is always the key itself ("*"); access is limited by the principals and conditions.
  # checkov:skip=CKV_AWS_111:A key policy's Resource is always the key itself ("*"); access is limited by the principals and conditions.
  # checkov:skip=CKV_AWS_356:A key policy's Resource is always the key itself ("*"); access is limited by the principals and conditions.
  statement {
    sid       = "AccountAdministersTheKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.log_group_names) > 0 ? [1] : []

    content {
      sid       = "CloudWatchLogsEncryptsTheseGroups"
      actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = [for g in var.log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${g}"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.service_principals) > 0 ? [1] : []

    content {
      sid       = "ServicesUseTheKeyForThisAccount"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = var.service_principals
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.this.json

  tags = var.tags
}
