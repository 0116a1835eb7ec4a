include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//database"
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id             = "vpc-00000000000000000"
    private_subnet_ids = ["subnet-00000000000000001", "subnet-00000000000000002"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "ecs_cluster" {
  config_path = "../ecs-cluster"

  mock_outputs = {
    host_security_group_id = "sg-00000000000000001"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  name                      = include.root.locals.env.app_name
  identifier                = "${include.root.locals.env.environment}-chaos-comments-db"
  vpc_id                    = dependency.network.outputs.vpc_id
  subnet_ids                = dependency.network.outputs.private_subnet_ids
  client_security_group_ids = [dependency.ecs_cluster.outputs.host_security_group_id]
  instance_class            = "db.t4g.micro"
  multi_az                  = true
}
