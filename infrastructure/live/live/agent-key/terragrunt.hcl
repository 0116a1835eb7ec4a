include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//agent-key"
}

inputs = {
  name           = include.root.locals.env.name
  parameter_name = include.root.locals.env.agent_key_parameter
  key_id         = "k1"
  key_version    = 1
}
