variable "name" {
  description = "Prefix of every resource name, e.g. live-chaos."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC; each subnet is a /24 of it (private from index 0, public from index 4)."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "The cidr_block must be an IPv4 CIDR of /20 or larger (it holds eight /24 subnets)."
  }
}

variable "az_count" {
  description = "How many availability zones to span (the first ones the region offers without opting in)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "The az_count must be 2, 3 or 4."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints in the private subnets. The defaults are what ECS hosts need without a NAT gateway: ECS (ecs, ecs-agent, ecs-telemetry), ECR (ecr.api, ecr.dkr), CloudWatch Logs and SSM (the agent key)."
  type        = list(string)
  default     = ["ecs", "ecs-agent", "ecs-telemetry", "ecr.api", "ecr.dkr", "logs", "ssm"]
}

variable "enable_nat_gateway" {
  description = "Create one NAT gateway (in the first zone) for the private subnets. Off by default: the hosts reach AWS through the endpoints, and Amazon Linux packages through the S3 gateway endpoint."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days to keep the VPC flow logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of this module (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}
