# Root configuration of every unit under infrastructure/live/<environment>/:
# remote state in S3 (one object per unit, S3-native lock files instead of
# a DynamoDB table), OpenTofu as the binary, and the AWS provider with the
# environment's default tags. Each unit includes this file.

locals {
  env         = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  environment = local.env.environment
  region      = local.env.region
  account_id  = get_aws_account_id()
}

# use_lockfile (S3 lock files) and write-only attributes (the agent key):
# OpenTofu 1.11 or later.
terraform_binary             = "tofu"
terraform_version_constraint = ">= 1.11.0"

remote_state {
  backend = "s3"

  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }

  config = {
    bucket       = "${local.account_id}-${local.environment}-chaos-kit-tfstate"
    key          = "${path_relative_to_include()}/tofu.tfstate"
    region       = local.region
    encrypt      = true
    use_lockfile = true
  }
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<-EOT
    provider "aws" {
      region              = "${local.region}"
      allowed_account_ids = ["${local.account_id}"]

      default_tags {
        tags = {
          Environment          = "${local.environment}"
          Program              = "chaos"
          Application          = "comments"
          ChaosEngineeringTeam = "true"
          ManagedBy            = "chaos-kit/infrastructure"
        }
      }
    }
  EOT
}
