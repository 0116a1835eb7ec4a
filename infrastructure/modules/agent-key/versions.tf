terraform {
  # Write-only attributes (value_wo) and ephemeral resources: OpenTofu and
  # Terraform 1.11 and later.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.62"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}
