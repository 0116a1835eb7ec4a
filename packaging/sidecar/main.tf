# chaos-agent as a sidecar of an ECS task (Fargate, or awsvpc on EC2):
# the container definition and the task settings to add to a task
# definition, from task-definition.json beside this file (the definition
# the tests validate with botocore), with the values that depend on the
# account replaced. No provider and no resource: the caller owns the task
# definition (docs/sidecar.md).
#
#   module "chaos_sidecar" {
#     source            = "../../../packaging/sidecar"
#     image             = "${aws_ecr_repository.agent.repository_url}:0.1.0"
#     key_parameter_arn = aws_ssm_parameter.agent_key.arn
#     log_group         = aws_cloudwatch_log_group.containers.name
#     region            = "eu-west-1"
#   }
#
#   resource "aws_ecs_task_definition" "api" {
#     requires_compatibilities = ["FARGATE"]
#     network_mode             = module.chaos_sidecar.network_mode
#     pid_mode                 = module.chaos_sidecar.pid_mode
#     enable_fault_injection   = module.chaos_sidecar.enable_fault_injection
#     container_definitions    = jsonencode([local.api, module.chaos_sidecar.container_definition])
#     volume {
#       name = module.chaos_sidecar.volume_name
#     }
#     ...
#   }
#
# The task's execution role must be allowed ssm:GetParameters on
# module.chaos_sidecar.secret_arns (and kms:Decrypt on the parameter's key
# when it is not aws/ssm); the task role needs nothing for the agent.

terraform {
  required_version = ">= 1.11.0"
}

variable "image" {
  description = "The agent image: chaos-agent at /usr/sbin/chaos-agent."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+$", var.image))
    error_message = "The image must be an image reference without spaces."
  }
}

variable "key_parameter_arn" {
  description = "ARN of the SSM SecureString parameter holding the agents' key file text."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/", var.key_parameter_arn))
    error_message = "The key_parameter_arn must be an SSM parameter ARN."
  }
}

variable "port" {
  description = "TCP port of the agent on the task's address."
  type        = number
  default     = 8421

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "The port must be a whole number from 1 to 65535."
  }
}

variable "log_group" {
  description = "CloudWatch Logs group for the agent's JSON log lines. Null: no log configuration."
  type        = string
  default     = null
}

variable "region" {
  description = "Region of the log group (with log_group)."
  type        = string
  default     = null
}

variable "extra_args" {
  description = "More chaos-agent arguments, e.g. [\"--set\", \"max_duration=1800\"]."
  type        = list(string)
  default     = []
}

locals {
  task     = jsondecode(file("${path.module}/task-definition.json"))
  template = one([for c in local.task.containerDefinitions : c if c.name == "chaos-agent"])
  # Everything of the tested container but what depends on the account.
  base = { for k, v in local.template : k => v if k != "logConfiguration" }
  container = merge(local.base, {
    image = var.image
    command = concat([for a in local.template.command :
    a == "0.0.0.0:8421" ? "0.0.0.0:${var.port}" : a], var.extra_args)
    portMappings = [{ containerPort = var.port, protocol = "tcp", name = "chaos-agent" }]
    secrets      = [{ name = "CHAOS_AGENT_KEY", valueFrom = var.key_parameter_arn }]
    }, var.log_group == null ? {} : {
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = var.log_group
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = "chaos-agent"
      }
    }
  })
}

output "container_definition" {
  description = "The sidecar's container definition, to add to the task's container_definitions."
  value       = local.container
}

output "volume_name" {
  description = "The task volume that keeps the agent's state across container restarts."
  value       = local.task.volumes[0].name
}

output "pid_mode" {
  description = "The task's pidMode: task, so that the sidecar sees the task's processes."
  value       = local.task.pidMode
}

output "network_mode" {
  description = "The task's network mode: awsvpc (the fault injection endpoints need awsvpc or host)."
  value       = local.task.networkMode
}

output "enable_fault_injection" {
  description = "The task's enableFaultInjection: true, or the ECS agent refuses the network faults."
  value       = local.task.enableFaultInjection
}

output "port" {
  description = "The agent's port, for the security group that lets chaosctl in."
  value       = var.port
}

output "secret_arns" {
  description = "What the task's execution role must be allowed to read (ssm:GetParameters)."
  value       = [var.key_parameter_arn]
}
