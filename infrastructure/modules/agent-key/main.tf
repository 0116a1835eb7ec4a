# The agents' shared key as an SSM SecureString under a customer managed KMS
# key, and never in state: the key is an ephemeral random value (it exists
# only while OpenTofu runs) written through the parameter's write-only
# attribute value_wo, which the provider sends to SSM and does not store.
# The value is written when the parameter is created and whenever
# key_version changes; between those, whatever the parameter holds (for
# example a second key appended for a rotation) is left alone.

# 64 characters drawn from 0-9a-f: 32 random bytes in hex, the format of
# `chaosctl keygen`. random_password draws from crypto/rand; "special"
# characters are set to a-f so that the alphabet is exactly the hex digits.
ephemeral "random_password" "agent_key" {
  length           = 64
  upper            = false
  lower            = false
  numeric          = true
  special          = true
  override_special = "abcdef"
}

# Nothing but IAM decides who may use the key: the hosts' and the runner's
# roles allow kms:Decrypt only through SSM and only for this parameter.
module "key" {
  source = "../kms-key"

  description = "${var.name}: chaos-agent key in SSM"
  tags        = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-agent-key"
  target_key_id = module.key.key_id
}

resource "aws_ssm_parameter" "agent_key" {
  name        = var.parameter_name
  description = "chaos-agent key file ('<key-id> <hex>' lines); written by OpenTofu through value_wo, never stored in state"
  type        = "SecureString"
  key_id      = module.key.arn

  value_wo         = "${var.key_id} ${ephemeral.random_password.agent_key.result}\n"
  value_wo_version = var.key_version

  tags = var.tags
}

data "aws_region" "current" {}

# What a reader of the key needs (the hosts' user data, chaosctl
# --key-ssm-parameter): the parameter, and its KMS key only through SSM and
# only for this parameter (SSM puts the parameter's ARN in the encryption
# context). Roles include this document rather than spelling it out again.
data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ReadTheAgentKey"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.agent_key.arn]
  }

  statement {
    sid       = "DecryptTheAgentKeyThroughSsm"
    actions   = ["kms:Decrypt"]
    resources = [module.key.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${data.aws_region.current.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [aws_ssm_parameter.agent_key.arn]
    }
  }
}
