# The sample "comments" application of the original starter pack, on the
# cluster's EC2 hosts instead of Fargate, so that the chaos agent on each
# host reaches its tasks: a web front end behind a public load balancer,
# an API backed by MySQL and a spam checker behind an internal one,
# target-tracking autoscaling, the alarms experiments use as stop
# conditions, and an SNS topic for the SRE team with a queue that
# experiments read notifications from.
#
# Files: main.tf (keys, logs, roles, images), lb.tf, services.tf,
# scaling.tf, alarms.tf, notifications.tf.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  registry = coalesce(var.image_registry, "${local.account}.dkr.ecr.${local.region}.amazonaws.com/ecr-public/devlearnops")
  images   = { for k, s in var.services : k => strcontains(s.image, "/") ? s.image : "${local.registry}/${s.image}" }

  pull_through_repository_arn = "arn:${local.partition}:ecr:${local.region}:${local.account}:repository/ecr-public/*"

  log_group = "/ecs/${var.name}"
}

# ---- a key for the logs, the SNS topic and the notification queue: alarms
# publish to the encrypted topic, the topic delivers to the encrypted queue

module "key" {
  source = "../kms-key"

  description        = "${var.name}: container logs, SRE topic and notification queue"
  log_group_names    = [local.log_group]
  service_principals = ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
  tags               = var.tags
}

resource "aws_cloudwatch_log_group" "containers" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key.arn

  tags = var.tags
}

# ---- images: public.ecr.aws through this account's ECR, reachable from the
# private subnets through the ECR endpoints (no NAT gateway needed)

resource "aws_ecr_pull_through_cache_rule" "public" {
  count = var.create_pull_through_cache ? 1 : 0

  ecr_repository_prefix = "ecr-public"
  upstream_registry_url = "public.ecr.aws"
}

# ---- the tasks' execution role (the ECS agent acts with it for the tasks:
# image pulls, log streams, the database secret). The tasks themselves
# call no AWS API and get no task role.

module "execution_role" {
  source = "../task-execution-role"

  name                         = "${var.name}-task-execution"
  images                       = values(local.images)
  pull_through_repository_arns = [local.pull_through_repository_arn]
  log_group_arn                = aws_cloudwatch_log_group.containers.arn
  secret_arns                  = [var.db_secret_arn]
  secret_kms_key_arns          = [var.db_kms_key_arn]
  tags                         = var.tags
}
