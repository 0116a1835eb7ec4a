include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//chaos-runner"
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id            = "vpc-00000000000000000"
    public_subnet_ids = ["subnet-00000000000000003", "subnet-00000000000000004"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "agent_key" {
  config_path = "../agent-key"

  mock_outputs = {
    reader_policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "ecs_cluster" {
  config_path = "../ecs-cluster"

  mock_outputs = {
    cluster_name                   = "live-chaos-comment-cluster"
    cluster_arn                    = "arn:aws:ecs:us-east-1:000000000000:cluster/live-chaos-comment-cluster"
    autoscaling_group_name         = "live-chaos-comment-ondemand-asg"
    autoscaling_group_arn          = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/live-chaos-comment-ondemand-asg"
    autoscaling_group_subnet_ids   = ["subnet-00000000000000001", "subnet-00000000000000002"]
    agent_client_security_group_id = "sg-00000000000000002"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "database" {
  config_path = "../database"

  mock_outputs = {
    arn = "arn:aws:rds:us-east-1:000000000000:db:live-chaos-comments-db"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "comments_app" {
  config_path = "../comments-app"

  mock_outputs = {
    alarm_arns               = ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:mock"]
    task_definition_families = { api = "live-chaos-comment-api", web = "live-chaos-comment-web", spamcheck = "live-chaos-comment-spamcheck" }
    notification_queue_arn   = "arn:aws:sqs:us-east-1:000000000000:live-chaos-comment-sre-notifications"
    kms_key_arn              = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000002"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  name        = include.root.locals.env.name
  environment = include.root.locals.env.environment

  vpc_id                   = dependency.network.outputs.vpc_id
  subnet_ids               = dependency.network.outputs.public_subnet_ids
  assign_public_ip         = true
  extra_security_group_ids = [dependency.ecs_cluster.outputs.agent_client_security_group_id]

  runner_image = include.root.locals.env.runner_image

  cluster_name                 = dependency.ecs_cluster.outputs.cluster_name
  cluster_arn                  = dependency.ecs_cluster.outputs.cluster_arn
  autoscaling_group_name       = dependency.ecs_cluster.outputs.autoscaling_group_name
  autoscaling_group_arn        = dependency.ecs_cluster.outputs.autoscaling_group_arn
  autoscaling_group_subnet_ids = dependency.ecs_cluster.outputs.autoscaling_group_subnet_ids
  task_definition_families     = values(dependency.comments_app.outputs.task_definition_families)
  db_instance_arn              = dependency.database.outputs.arn
  alarm_arns                   = dependency.comments_app.outputs.alarm_arns
  agent_key_reader_policy_json = dependency.agent_key.outputs.reader_policy_json

  notification_queue_arn   = dependency.comments_app.outputs.notification_queue_arn
  notification_kms_key_arn = dependency.comments_app.outputs.kms_key_arn
}
