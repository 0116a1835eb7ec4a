# Runs library experiments as AWS Batch jobs (chaosctl submit): a Fargate
# compute environment, a job queue, and a job definition running the
# runner image (packaging/runner, entry point `chaosctl run`), which
# uploads every journal to an encrypted, versioned, private bucket. The
# job role allows exactly the AWS calls the library's actions and probes
# make; iam.tf lists them, each with the experiment that needs it.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
  log_group = "/aws/batch/${var.name}-runner"
}

# ---- a key for the journals and the job logs

module "key" {
  source = "../kms-key"

  description     = "${var.name}: experiment journals and runner logs"
  log_group_names = [local.log_group]
  tags            = var.tags
}

resource "aws_cloudwatch_log_group" "jobs" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key.arn

  tags = var.tags
}

# ---- the journals bucket

module "journals" {
  source = "../private-bucket"

  name            = var.journals_bucket_name
  name_prefix     = "${var.name}-journals-"
  kms_key_arn     = module.key.arn
  expiration_days = var.journal_retention_days
  tags            = var.tags
}

# ---- network: out to AWS APIs and the application's load balancers (the
# agent port comes from extra_security_group_ids)

resource "aws_security_group" "jobs" {
  name        = "${var.name}-runner"
  description = "Experiment runner jobs: HTTP and HTTPS out, nothing in"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-runner" })
}

resource "aws_vpc_security_group_egress_rule" "jobs" {
  for_each = toset(["80", "443"])

  security_group_id = aws_security_group.jobs.id
  description       = each.value == "443" ? "AWS APIs and HTTPS probes" : "HTTP probes and load against the application"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = "0.0.0.0/0"
}

# ---- Batch

resource "aws_batch_compute_environment" "this" {
  name  = "${var.name}-runner"
  type  = "MANAGED"
  state = "ENABLED"

  compute_resources {
    type               = "FARGATE"
    max_vcpus          = var.max_vcpus
    subnets            = var.subnet_ids
    security_group_ids = concat([aws_security_group.jobs.id], var.extra_security_group_ids)
  }

  tags = var.tags
}

resource "aws_batch_job_queue" "this" {
  name     = "${var.name}-batch-job-queue"
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.this.arn
  }

  tags = var.tags
}

resource "aws_batch_job_definition" "this" {
  name                  = "${var.name}-batch-job-definition"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  propagate_tags        = true

  timeout {
    attempt_duration_seconds = var.job_timeout_seconds
  }

  retry_strategy {
    attempts = 1
  }

  # CHAOS_CONFIG_FILE comes with each job (chaosctl submit).
  container_properties = jsonencode({
    image            = var.runner_image
    jobRoleArn       = aws_iam_role.job.arn
    executionRoleArn = module.execution_role.arn
    resourceRequirements = [
      { type = "VCPU", value = tostring(var.vcpu) },
      { type = "MEMORY", value = tostring(var.memory) },
    ]
    environment = [
      { name = "CHAOS_CONTEXT", value = var.environment },
      { name = "CHAOS_JOURNALS_BUCKET", value = module.journals.id },
      { name = "AWS_REGION", value = local.region },
      { name = "AWS_DEFAULT_REGION", value = local.region },
    ]
    networkConfiguration         = { assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED" }
    fargatePlatformConfiguration = { platformVersion = "LATEST" }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.jobs.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "runner"
      }
    }
  })

  tags = var.tags
}
