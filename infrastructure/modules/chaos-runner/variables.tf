variable "name" {
  description = "Prefix of resource names, e.g. live-chaos (the queue is <name>-batch-job-queue, the job definition <name>-batch-job-definition)."
  type        = string
}

variable "environment" {
  description = "Environment the jobs run experiments in: CHAOS_CONTEXT of every job, and the SSM path prefix (/<environment>/...) they may read."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the jobs."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the jobs. With assign_public_ip, public subnets (the jobs call AWS APIs without a NAT gateway)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give each job a public address (public subnets, no NAT gateway)."
  type        = bool
  default     = true
}

variable "extra_security_group_ids" {
  description = "More security groups for the jobs, e.g. the cluster's agent-client group that opens the agent port."
  type        = list(string)
  default     = []
}

variable "runner_image" {
  description = "Image of the experiment runner (packaging/runner), e.g. <account>.dkr.ecr.<region>.amazonaws.com/chaos-kit-runner:0.1.0."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][^\\s]*[:@][^\\s]+$", var.runner_image))
    error_message = "The runner_image must be an image reference with a tag or digest (set CHAOS_RUNNER_IMAGE for the live environment)."
  }
}

variable "vcpu" {
  description = "vCPUs of a job (chaosctl submit --vcpu overrides it per job)."
  type        = number
  default     = 1
}

variable "memory" {
  description = "Memory of a job, MiB (chaosctl submit --memory overrides it per job)."
  type        = number
  default     = 2048
}

variable "max_vcpus" {
  description = "vCPUs of all running jobs together."
  type        = number
  default     = 4
}

variable "job_timeout_seconds" {
  description = "Longest a job may run."
  type        = number
  default     = 3600
}

variable "journals_bucket_name" {
  description = "Name of the journals bucket. Null: <name>-journals- plus a unique suffix."
  type        = string
  default     = null
}

variable "journal_retention_days" {
  description = "Days to keep journals and logs in the bucket."
  type        = number
  default     = 365
}

variable "log_retention_days" {
  description = "Days to keep the jobs' CloudWatch logs."
  type        = number
  default     = 365
}

variable "cluster_name" {
  description = "ECS cluster the experiments act on."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of that cluster."
  type        = string
}

variable "autoscaling_group_name" {
  description = "Auto scaling group of the cluster's hosts."
  type        = string
}

variable "autoscaling_group_arn" {
  description = "ARN of that group."
  type        = string
}

variable "autoscaling_group_subnet_ids" {
  description = "The group's subnets: the only ones ecs-instance-asg-fail-az may set on it."
  type        = list(string)
}

variable "task_definition_families" {
  description = "Task definition families of the application's services: the only ones a job may set on a service."
  type        = list(string)
}

variable "db_instance_arn" {
  description = "ARN of the application's RDS instance (rds-instance-reboot)."
  type        = string
}

variable "alarm_arns" {
  description = "Alarms the experiments read (steady-state probes, chaosctl run --stop-alarm)."
  type        = list(string)
}

variable "agent_key_reader_policy_json" {
  description = "IAM policy document that allows reading the agent key (the agent-key module's reader_policy_json; chaosctl --key-ssm-parameter)."
  type        = string
}

variable "notification_queue_arn" {
  description = "Queue subscribed to the SRE topic (ecs-service-max-capacity-alarm reads it)."
  type        = string
}

variable "notification_kms_key_arn" {
  description = "KMS key of that queue."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
