# The alarms the experiments use as stop conditions and steady-state probes,
# under the original's names (the library refers to them by name).

locals {
  alarm_prefix = "${var.environment}/${var.application}"

  alarm_names = {
    latency_internal = "TargetResponseTime-Avg/${local.alarm_prefix}/internal-alb"
    latency_public   = "TargetResponseTime-Avg/${local.alarm_prefix}/public-alb"
    errors_internal  = "Target_5XX_Response-Count/${local.alarm_prefix}/internal-alb"
  }
  max_capacity_alarm_names = { for k in keys(var.services) : k => "Service-MaxCapacity/${local.alarm_prefix}/${k}" }
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  for_each = {
    internal = { name = local.alarm_names.latency_internal, lb = aws_lb.internal.arn_suffix, threshold = var.internal_latency_threshold }
    public   = { name = local.alarm_names.latency_public, lb = aws_lb.public.arn_suffix, threshold = var.public_latency_threshold }
  }

  alarm_name          = each.value.name
  alarm_description   = "Average target response time of the ${each.key} load balancer is high"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  dimensions          = { LoadBalancer = each.value.lb }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors_internal" {
  alarm_name          = local.alarm_names.errors_internal
  alarm_description   = "Targets behind the internal load balancer answer 5XX"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.error_5xx_threshold
  treat_missing_data  = "notBreaching"
  dimensions          = { LoadBalancer = aws_lb.internal.arn_suffix }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "max_capacity" {
  for_each = var.services

  alarm_name          = local.max_capacity_alarm_names[each.key]
  alarm_description   = "The ${each.key} service runs at its maximum task count"
  namespace           = "ECS/ContainerInsights"
  metric_name         = "DesiredTaskCount"
  statistic           = "Maximum"
  unit                = "Count"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value.max_count
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.sre.arn]
  dimensions = {
    ClusterName = var.cluster_name
    ServiceName = aws_ecs_service.this[each.key].name
  }

  tags = var.tags
}
