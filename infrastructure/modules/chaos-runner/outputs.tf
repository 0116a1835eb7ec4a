output "job_queue_name" {
  description = "Batch job queue (chaosctl submit --queue)."
  value       = aws_batch_job_queue.this.name
}

output "job_definition_name" {
  description = "Batch job definition (chaosctl submit --job-definition)."
  value       = aws_batch_job_definition.this.name
}

output "journals_bucket" {
  description = "Bucket the jobs upload journals to."
  value       = module.journals.id
}

output "job_role_arn" {
  description = "ARN of the role experiments run with."
  value       = aws_iam_role.job.arn
}

output "security_group_id" {
  description = "Security group of the jobs."
  value       = aws_security_group.jobs.id
}

output "log_group_name" {
  description = "CloudWatch log group of the jobs."
  value       = aws_cloudwatch_log_group.jobs.name
}
