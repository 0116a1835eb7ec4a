# chaos-agent as an ECS daemon service: one agent task on every EC2
# container instance of a cluster (docs/install.md). A module for the
# infrastructure to call:
#
#   module "chaos_agent" {
#     source            = "../../packaging/daemon"
#     cluster_arn       = aws_ecs_cluster.this.arn
#     image             = "${aws_ecr_repository.agent.repository_url}:0.1.0"
#     key_parameter_arn = aws_ssm_parameter.agent_key.arn
#     region            = "eu-west-1"
#   }
#
# The container is task-definition.json beside this file, the definition
# the tests validate with botocore and run; only the values that depend on
# the account (image, key parameter, log group) are replaced here.

variable "cluster_arn" {
  description = "the ECS cluster whose EC2 container instances each get an agent"
  type        = string
}

variable "image" {
  description = "the agent image (make image-agent, pushed to ECR)"
  type        = string
}

variable "key_parameter_arn" {
  description = "the SSM SecureString parameter holding the agents' key file text"
  type        = string
}

variable "kms_key_arn" {
  description = "the KMS key of the parameter when it is not the AWS managed aws/ssm key"
  type        = string
  default     = null
}

variable "region" {
  description = "the region of the cluster and the log group"
  type        = string
}

variable "agent_port" {
  description = "the agents' port on each host's private address"
  type        = number
  default     = 8421
}

variable "log_retention_days" {
  type    = number
  default = 30
}

locals {
  task = jsondecode(file("${path.module}/task-definition.json"))
  container = merge(local.task.containerDefinitions[0], {
    image       = var.image
    environment = [{ name = "CHAOS_AGENT_PORT", value = tostring(var.agent_port) }]
    secrets     = [{ name = "CHAOS_AGENT_KEY", valueFrom = var.key_parameter_arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.agent.name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = "chaos-agent"
      }
    }
  })
}

resource "aws_cloudwatch_log_group" "agent" {
  name              = "/ecs/chaos-agent"
  retention_in_days = var.log_retention_days
}

# The execution role: the ECS agent pulls the image, reads the key into the
# container's environment (ECS secrets) and ships the logs. The task itself
# gets no role: the agent calls no AWS API.
resource "aws_iam_role" "execution" {
  name_prefix = "chaos-agent-exec-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "execution" {
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      { Effect = "Allow", Action = ["ssm:GetParameters"], Resource = [var.key_parameter_arn] },
      { Effect = "Allow", Action = ["ecr:GetAuthorizationToken"], Resource = ["*"] },
      {
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = ["*"]
      },
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.agent.arn}:*"]
      },
      ], var.kms_key_arn == null ? [] : [
      { Effect = "Allow", Action = ["kms:Decrypt"], Resource = [var.kms_key_arn] },
    ])
  })
}

resource "aws_ecs_task_definition" "agent" {
  family                   = local.task.family
  requires_compatibilities = local.task.requiresCompatibilities
  network_mode             = local.task.networkMode
  pid_mode                 = local.task.pidMode
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions    = jsonencode([local.container])

  dynamic "volume" {
    for_each = local.task.volumes
    content {
      name      = volume.value.name
      host_path = volume.value.host.sourcePath
    }
  }
}

# DAEMON: one task per container instance. On a new revision ECS stops the
# old task on a host (the agent reverts its faults on SIGTERM) before it
# starts the new one there; a daemon service allows no more than one task
# per host, hence 0 and 100 %.
resource "aws_ecs_service" "agent" {
  name                               = "chaos-agent"
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.agent.arn
  launch_type                        = "EC2"
  scheduling_strategy                = "DAEMON"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  enable_ecs_managed_tags            = true
  propagate_tags                     = "TASK_DEFINITION"
}

output "service_name" {
  value = aws_ecs_service.agent.name
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.agent.arn
}

output "execution_role_arn" {
  value = aws_iam_role.execution.arn
}
