include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//ecs-cluster"
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    vpc_id                    = "vpc-00000000000000000"
    vpc_cidr_block            = "10.0.0.0/16"
    private_subnet_ids        = ["subnet-00000000000000001", "subnet-00000000000000002"]
    public_subnet_cidr_blocks = ["10.0.4.0/24", "10.0.5.0/24"]
    s3_prefix_list_id         = "pl-00000000"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "agent_key" {
  config_path = "../agent-key"

  mock_outputs = {
    parameter_name     = "/live/chaos/agent_key"
    reader_policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  name           = include.root.locals.env.app_name
  cluster_name   = "${include.root.locals.env.app_name}-cluster"
  asg_name       = "${include.root.locals.env.app_name}-ondemand-asg"
  vpc_id         = dependency.network.outputs.vpc_id
  vpc_cidr_block = dependency.network.outputs.vpc_cidr_block
  subnet_ids     = dependency.network.outputs.private_subnet_ids

  s3_prefix_list_id = dependency.network.outputs.s3_prefix_list_id
  instance_type     = "t3.medium"
  min_size          = 2
  max_size          = 5

  agent_package_url            = include.root.locals.env.agent_package_url
  agent_package_sha256         = include.root.locals.env.agent_package_sha256
  agent_key_parameter_name     = dependency.agent_key.outputs.parameter_name
  agent_key_reader_policy_json = dependency.agent_key.outputs.reader_policy_json
  agent_port                   = include.root.locals.env.agent_port

  # The runner's jobs run in the public subnets: the agents' own IP filter
  # admits them and the operators' networks only.
  agent_client_cidrs = dependency.network.outputs.public_subnet_cidr_blocks
  operator_cidrs     = include.root.locals.env.operator_cidrs

  # One source: the script the packaging tests run.
  user_data_template_path = "${get_repo_root()}/packaging/ecs/user-data.sh"
}
