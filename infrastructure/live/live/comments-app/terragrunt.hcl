include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//comments-app"
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id             = "vpc-00000000000000000"
    public_subnet_ids  = ["subnet-00000000000000003", "subnet-00000000000000004"]
    private_subnet_ids = ["subnet-00000000000000001", "subnet-00000000000000002"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "ecs_cluster" {
  config_path = "../ecs-cluster"

  mock_outputs = {
    cluster_name                   = "live-chaos-comment-cluster"
    capacity_provider_name         = "live-chaos-comment-ondemand"
    host_security_group_id         = "sg-00000000000000001"
    agent_client_security_group_id = "sg-00000000000000002"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "database" {
  config_path = "../database"

  mock_outputs = {
    address                = "live-chaos-comments-db.example.us-east-1.rds.amazonaws.com"
    port                   = 3306
    db_name                = "COMMENTS_SCHEMA"
    username               = "comments_user"
    master_user_secret_arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:rds!db-0000"
    kms_key_arn            = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000001"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  name        = include.root.locals.env.app_name
  environment = include.root.locals.env.environment
  application = "comments"

  cluster_name           = dependency.ecs_cluster.outputs.cluster_name
  capacity_provider_name = dependency.ecs_cluster.outputs.capacity_provider_name
  host_security_group_id = dependency.ecs_cluster.outputs.host_security_group_id
  # Batch jobs carry the agent-client group: they probe the API through the
  # internal load balancer.
  internal_client_security_group_ids = [dependency.ecs_cluster.outputs.agent_client_security_group_id]

  vpc_id             = dependency.network.outputs.vpc_id
  public_subnet_ids  = dependency.network.outputs.public_subnet_ids
  private_subnet_ids = dependency.network.outputs.private_subnet_ids

  db_address     = dependency.database.outputs.address
  db_port        = dependency.database.outputs.port
  db_name        = dependency.database.outputs.db_name
  db_username    = dependency.database.outputs.username
  db_secret_arn  = dependency.database.outputs.master_user_secret_arn
  db_kms_key_arn = dependency.database.outputs.kms_key_arn
}
