variable "template_path" {
  description = "Path of the user-data installer to render. Null: packaging/ecs/user-data.sh of this repository, the same file the packaging tests run."
  type        = string
  default     = null
}

variable "ecs_cluster" {
  description = "Name of the ECS cluster the instance joins (ECS_CLUSTER)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.ecs_cluster))
    error_message = "The ecs_cluster must be 1-255 letters, digits, '-' or '_'."
  }
}

variable "ecs_config_extra" {
  description = "More /etc/ecs/ecs.config lines, each KEY=value."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for l in var.ecs_config_extra : can(regex("^[A-Z][A-Z0-9_]*=[^'\\n\\r]*$", l))])
    error_message = "Each ecs_config_extra line must be KEY=value, with no single quote or line break."
  }
}

variable "package_url" {
  description = "Where hosts fetch the chaos-agent package: s3://BUCKET/KEY or https://..., ending in .rpm or .deb."
  type        = string

  validation {
    condition     = can(regex("^(s3://[a-z0-9.-]+/|https://)[^\\s']+\\.(rpm|deb)$", var.package_url))
    error_message = "The package_url must be s3://BUCKET/KEY or https://... ending in .rpm or .deb, without spaces or quotes."
  }
}

variable "package_sha256" {
  description = "SHA-256 of the package (64 hex digits); hosts refuse any other file."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F]{64}$", var.package_sha256))
    error_message = "The package_sha256 must be 64 hex digits."
  }
}

variable "key_parameter" {
  description = "Name of the SSM SecureString parameter that holds the agent key file."
  type        = string

  validation {
    condition     = can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.key_parameter))
    error_message = "The key_parameter must be an SSM parameter name such as /live/chaos/agent_key."
  }
}

variable "agent_port" {
  description = "TCP port the agent listens on."
  type        = number
  default     = 8421

  validation {
    condition     = var.agent_port >= 1 && var.agent_port <= 65535 && floor(var.agent_port) == var.agent_port
    error_message = "The agent_port must be a whole number from 1 to 65535."
  }
}

variable "listen_address" {
  description = "IPv4 address the agent binds. Empty: the instance's private IPv4, read through IMDSv2."
  type        = string
  default     = ""

  validation {
    condition     = var.listen_address == "" || can(cidrhost("${var.listen_address}/32", 0))
    error_message = "The listen_address must be an IPv4 address or empty."
  }
}

variable "allowed_cidrs" {
  description = "IPv4 CIDRs that may reach the agent, enforced on the host by the unit's IP filter as well as by security groups. Empty: no host filter."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrnetmask(c))])
    error_message = "Each allowed_cidrs entry must be an IPv4 CIDR such as 10.0.0.0/16."
  }
}

variable "aws_region" {
  description = "Region for the AWS CLI calls on the host. Empty: the instance's region, read through IMDSv2."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_region == "" || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "The aws_region must be a region name such as eu-west-1, or empty."
  }
}

variable "aws_endpoint" {
  description = "Endpoint URL for the AWS CLI calls (tests only). Empty on AWS."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_endpoint == "" || can(regex("^https?://[^\\s']+$", var.aws_endpoint))
    error_message = "The aws_endpoint must be an http(s) URL or empty."
  }
}
