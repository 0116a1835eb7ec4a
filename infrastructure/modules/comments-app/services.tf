# The three services, on the cluster's EC2 capacity provider, in bridge
# network mode with dynamic host ports. Container names follow the original
# (<name>-api is the library's container_name).

locals {
  api_base_url = "http://${aws_lb.internal.dns_name}"

  # What each service needs to find the others, merged under the variable's
  # extra environment.
  wiring = {
    api = {
      SPRING_DATASOURCE_URL      = "jdbc:mysql://${var.db_address}:${var.db_port}/${var.db_name}"
      SPRING_DATASOURCE_USERNAME = var.db_username
      APPLICATION_PATH_BASE      = "/api"
      APPLICATION_SPAMCHECK_URL  = "${local.api_base_url}/spam"
    }
    spamcheck = {
      APPLICATION_PATH_BASE = "/spam"
    }
    web = {
      API_URL = "${local.api_base_url}/api"
    }
  }

  secrets = {
    api       = [{ name = "SPRING_DATASOURCE_PASSWORD", valueFrom = "${var.db_secret_arn}:password::" }]
    spamcheck = []
    web       = []
  }
}

resource "aws_ecs_task_definition" "this" {
  # readonlyRootFilesystem stays false: the sample's third-party images write to their root file systems (Spring Boot's temporary files).
  for_each = var.services

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  execution_role_arn       = module.execution_role.arn

  container_definitions = jsonencode([{
    name      = "${var.name}-${each.key}"
    image     = local.images[each.key]
    essential = true
    cpu       = each.value.cpu
    memory    = each.value.memory

    portMappings = [{
      containerPort = each.value.container_port
      hostPort      = 0
      protocol      = "tcp"
    }]

    environment = [
      for k, v in merge(local.wiring[each.key], each.value.environment) : { name = k, value = v }
    ]
    secrets = local.secrets[each.key]

    privileged             = false
    readonlyRootFilesystem = false

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.containers.name
        awslogs-region        = local.region
        awslogs-stream-prefix = each.key
      }
    }
  }])

  tags = var.tags
}

resource "aws_ecs_service" "this" {
  for_each = var.services

  name                              = "${var.application}-${each.key}-service"
  cluster                           = var.cluster_name
  task_definition                   = aws_ecs_task_definition.this[each.key].arn
  desired_count                     = each.value.min_count
  health_check_grace_period_seconds = 60
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"
  # A teardown deletes the service without scaling it to zero first.
  force_delete = true

  capacity_provider_strategy {
    capacity_provider = var.capacity_provider_name
    base              = 0
    weight            = 1
  }

  # One task per zone before a second in the same zone, then one per host:
  # an AZ or host failure takes as few tasks as possible.
  ordered_placement_strategy {
    type  = "spread"
    field = "attribute:ecs.availability-zone"
  }

  ordered_placement_strategy {
    type  = "spread"
    field = "instanceId"
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this[each.key].arn
    container_name   = "${var.name}-${each.key}"
    container_port   = each.value.container_port
  }

  tags = var.tags

  lifecycle {
    # Autoscaling (and the scaling experiments) own the desired count.
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.public_http, aws_lb_listener_rule.internal]
}
