# The names and URLs of the deployed stack as SSM parameters, where the
# library's live contexts look them up (as the original's experiments read
# /live/app/comments/web_url), so that a live run needs no editing.

resource "aws_ssm_parameter" "this" {
  # checkov:skip=CKV2_AWS_34:These are names, URLs and identifiers, not secrets; probes read them without decryption rights. The agent key is the SecureString of the agent-key module.
  for_each = var.values

  name        = each.key
  description = "Published by infrastructure/ for the chaos-kit library"
  type        = "String"
  value       = each.value

  tags = var.tags
}
