# tofu test with a mocked AWS provider (its schema from the schema stub,
# tests/infra/stubprovider): names the library relies on, the HTTPS switch,
# scaling and the task definitions. make check-infra runs it.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      region = "us-east-1"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{}"
    }
  }
}

variables {
  name                   = "live-chaos-comment"
  environment            = "live"
  cluster_name           = "live-chaos-comment-cluster"
  capacity_provider_name = "live-chaos-comment-ondemand"
  vpc_id                 = "vpc-0123"
  public_subnet_ids      = ["subnet-p1", "subnet-p2"]
  private_subnet_ids     = ["subnet-a1", "subnet-a2"]
  host_security_group_id = "sg-hosts"
  db_address             = "db.example"
  db_name                = "COMMENTS_SCHEMA"
  db_username            = "comments_user"
  db_secret_arn          = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1"
  db_kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/1"
}

run "names_the_library_uses" {
  command = plan

  assert {
    condition     = toset([for s in aws_ecs_service.this : s.name]) == toset(["comments-api-service", "comments-web-service", "comments-spamcheck-service"])
    error_message = "Service names differ from the library's."
  }
  assert {
    condition = toset(values(output.alarm_names)) == toset([
      "TargetResponseTime-Avg/live/comments/internal-alb",
      "TargetResponseTime-Avg/live/comments/public-alb",
      "Target_5XX_Response-Count/live/comments/internal-alb",
      "Service-MaxCapacity/live/comments/api",
      "Service-MaxCapacity/live/comments/web",
      "Service-MaxCapacity/live/comments/spamcheck",
    ])
    error_message = "Alarm names differ from the library's."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this["api"].container_definitions)[0].name == "live-chaos-comment-api"
    error_message = "The API container is not live-chaos-comment-api."
  }
}

run "tasks_use_dynamic_host_ports_logs_and_the_secret" {
  command = plan

  assert {
    condition     = alltrue([for t in aws_ecs_task_definition.this : t.network_mode == "bridge" && jsondecode(t.container_definitions)[0].portMappings[0].hostPort == 0])
    error_message = "Tasks are not in bridge mode with dynamic host ports."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this["api"].container_definitions)[0].secrets[0].valueFrom == "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1:password::"
    error_message = "The API does not get the password from the secret's password key."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this["web"].container_definitions)[0].image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-public/devlearnops/comments-web:v1"
    error_message = "Images are not pulled through this account's cache."
  }
  assert {
    condition     = alltrue([for t in aws_ecs_task_definition.this : jsondecode(t.container_definitions)[0].logConfiguration.logDriver == "awslogs"])
    error_message = "A task does not log to CloudWatch."
  }
}

run "scaling_on_cpu_memory_and_api_requests" {
  command = plan

  assert {
    condition     = length(aws_appautoscaling_policy.this) == 7
    error_message = "Expected CPU and memory policies for three services and one request policy."
  }
  assert {
    condition     = aws_appautoscaling_policy.this["api-requests"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ALBRequestCountPerTarget"
    error_message = "The API does not scale on requests."
  }
  assert {
    condition     = aws_appautoscaling_target.this["api"].max_capacity == 4 && aws_appautoscaling_target.this["api"].min_capacity == 2
    error_message = "The API scales outside 2-4 tasks."
  }
}

run "plain_http_without_a_certificate" {
  command = plan

  assert {
    condition     = length(aws_lb_listener.public_https) == 0 && aws_lb_listener.public_http.default_action[0].type == "forward"
    error_message = "Without a certificate port 80 must serve the web front end."
  }
}

run "https_with_a_certificate_and_a_redirect_from_http" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/1"
  }

  assert {
    condition     = length(aws_lb_listener.public_https) == 1 && aws_lb_listener.public_http.default_action[0].type == "redirect"
    error_message = "With a certificate port 443 must serve and port 80 redirect."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.public_lb) == 2
    error_message = "Expected ports 80 and 443 open on the public load balancer."
  }
}

run "a_services_map_without_the_api_is_refused" {
  command = plan

  variables {
    services = {
      web       = { image = "comments-web:v1", container_port = 3000, health_path = "/" }
      spamcheck = { image = "comments-spamcheck:v1", container_port = 8000, health_path = "/spam/health" }
    }
  }
  expect_failures = [var.services]
}
