# Everything a live experiment looks up, under /<environment>/: the
# original's parameter names where it had them, the rest beside them.

include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//published-values"
}

locals {
  env = include.root.locals.env.environment
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id                = "vpc-00000000000000000"
    vpc_cidr_block        = "10.0.0.0/16"
    private_subnet_ids    = ["subnet-00000000000000001", "subnet-00000000000000002"]
    public_subnet_ids     = ["subnet-00000000000000003", "subnet-00000000000000004"]
    private_subnets_by_az = { us-east-1a = "subnet-00000000000000001", us-east-1b = "subnet-00000000000000002" }
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "agent_key" {
  config_path = "../agent-key"

  mock_outputs = {
    parameter_name = "/live/chaos/agent_key"
    key_id         = "k1"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "ecs_cluster" {
  config_path = "../ecs-cluster"

  mock_outputs = {
    cluster_name           = "live-chaos-comment-cluster"
    autoscaling_group_name = "live-chaos-comment-ondemand-asg"
    agent_port             = 8421
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "database" {
  config_path = "../database"

  mock_outputs = {
    identifier = "live-chaos-comments-db"
    address    = "live-chaos-comments-db.example.us-east-1.rds.amazonaws.com"
    port       = 3306
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "comments_app" {
  config_path = "../comments-app"

  mock_outputs = {
    web_url                = "http://mock-public.example"
    api_url                = "http://mock-internal.example/api"
    internal_alb_dns_name  = "mock-internal.example"
    service_names          = { api = "comments-api-service", web = "comments-web-service", spamcheck = "comments-spamcheck-service" }
    container_names        = { api = "live-chaos-comment-api", web = "live-chaos-comment-web", spamcheck = "live-chaos-comment-spamcheck" }
    alarm_names            = { errors_internal = "Target_5XX_Response-Count/live/comments/internal-alb" }
    service_max_counts     = { api = 4, web = 4, spamcheck = 4 }
    sns_topic_arn          = "arn:aws:sns:us-east-1:000000000000:live-chaos-comment-sre-updates"
    notification_queue_url = "https://sqs.us-east-1.amazonaws.com/000000000000/live-chaos-comment-sre-notifications"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "chaos_runner" {
  config_path = "../chaos-runner"

  mock_outputs = {
    journals_bucket     = "live-chaos-journals-mock"
    job_queue_name      = "live-chaos-batch-job-queue"
    job_definition_name = "live-chaos-batch-job-definition"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  values = merge(
    {
      "/${local.env}/vpc/id"                    = dependency.network.outputs.vpc_id
      "/${local.env}/vpc/cidr-blocks/vpc"       = dependency.network.outputs.vpc_cidr_block
      "/${local.env}/vpc/private_subnets"       = join(",", dependency.network.outputs.private_subnet_ids)
      "/${local.env}/vpc/public_subnets"        = join(",", dependency.network.outputs.public_subnet_ids)
      "/${local.env}/vpc/private_subnets_by_az" = jsonencode(dependency.network.outputs.private_subnets_by_az)

      "/${local.env}/app/comments/cluster_name"                    = dependency.ecs_cluster.outputs.cluster_name
      "/${local.env}/app/comments/autoscaling_group/ondemand/name" = dependency.ecs_cluster.outputs.autoscaling_group_name
      "/${local.env}/app/comments/web_url"                         = dependency.comments_app.outputs.web_url
      "/${local.env}/app/comments/api_url"                         = dependency.comments_app.outputs.api_url
      "/${local.env}/app/comments/internal_alb_dns_name"           = dependency.comments_app.outputs.internal_alb_dns_name
      "/${local.env}/app/comments/sre/notification_topic_arn"      = dependency.comments_app.outputs.sns_topic_arn
      "/${local.env}/app/comments/sre/notification_queue_url"      = dependency.comments_app.outputs.notification_queue_url
      "/${local.env}/app/comments/db_instance_identifier"          = dependency.database.outputs.identifier
      "/${local.env}/app/comments/db_instance_address"             = dependency.database.outputs.address
      "/${local.env}/app/comments/db_port"                         = tostring(dependency.database.outputs.port)

      "/${local.env}/chaos/agent_key_parameter"  = dependency.agent_key.outputs.parameter_name
      "/${local.env}/chaos/agent_key_id"         = dependency.agent_key.outputs.key_id
      "/${local.env}/chaos/agent_port"           = tostring(dependency.ecs_cluster.outputs.agent_port)
      "/${local.env}/chaos/journals_bucket"      = dependency.chaos_runner.outputs.journals_bucket
      "/${local.env}/chaos/batch/job_queue"      = dependency.chaos_runner.outputs.job_queue_name
      "/${local.env}/chaos/batch/job_definition" = dependency.chaos_runner.outputs.job_definition_name
    },
    { for k, v in dependency.comments_app.outputs.service_names : "/${local.env}/app/comments/services/${k}/name" => v },
    { for k, v in dependency.comments_app.outputs.container_names : "/${local.env}/app/comments/services/${k}/container_name" => v },
    { for k, v in dependency.comments_app.outputs.service_max_counts : "/${local.env}/app/comments/services/${k}/max_count" => tostring(v) },
    { for k, v in dependency.comments_app.outputs.alarm_names : "/${local.env}/app/comments/alarms/${k}" => v },
  )
}
