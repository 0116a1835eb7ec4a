# Target tracking, as the original: CPU and memory for every service, and
# request count per task for the API (what ecs-service-autoscaling drives
# with load).

resource "aws_appautoscaling_target" "this" {
  for_each = var.services

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.this[each.key].name}"
  min_capacity       = each.value.min_count
  max_capacity       = each.value.max_count

  tags = var.tags
}

locals {
  scaling_policies = merge(
    { for k in keys(var.services) : "${k}-cpu" => { service = k, metric = "ECSServiceAverageCPUUtilization", target = var.cpu_target_percent, label = null } },
    { for k in keys(var.services) : "${k}-memory" => { service = k, metric = "ECSServiceAverageMemoryUtilization", target = var.memory_target_percent, label = null } },
    {
      "api-requests" = {
        service = "api"
        metric  = "ALBRequestCountPerTarget"
        target  = var.api_requests_per_target
        label   = "${aws_lb.internal.arn_suffix}/${aws_lb_target_group.this["api"].arn_suffix}"
      }
    },
  )
}

resource "aws_appautoscaling_policy" "this" {
  for_each = local.scaling_policies

  name               = "${var.name}-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.value.service].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[each.value.service].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[each.value.service].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = each.value.metric
      resource_label         = each.value.label
    }
  }
}
