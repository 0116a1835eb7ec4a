output "parameter_name" {
  description = "Name of the SSM SecureString holding the agent key file."
  value       = aws_ssm_parameter.agent_key.name
}

output "parameter_arn" {
  description = "ARN of the SSM parameter (for ssm:GetParameter grants)."
  value       = aws_ssm_parameter.agent_key.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the parameter (for kms:Decrypt grants)."
  value       = module.key.arn
}

output "key_id" {
  description = "Key id of the key Terraform wrote (chaosctl --key-id)."
  value       = var.key_id
}

output "reader_policy_json" {
  description = "IAM policy document allowing to read and decrypt the key (ssm:GetParameter, and kms:Decrypt through SSM for this parameter only)."
  value       = data.aws_iam_policy_document.reader.json
}
