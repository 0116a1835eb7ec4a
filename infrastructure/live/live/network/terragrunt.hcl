include "root" {
  path   = find_in_parent_folders("root.hcl")
  expose = true
}

terraform {
  source = "${get_repo_root()}/infrastructure/modules//network"
}

inputs = {
  name       = include.root.locals.env.name
  cidr_block = "10.0.0.0/16"
  az_count   = 2
}
