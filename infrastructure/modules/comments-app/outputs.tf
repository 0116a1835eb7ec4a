output "web_url" {
  description = "URL of the web front end (public load balancer)."
  value       = "${local.https ? "https" : "http"}://${aws_lb.public.dns_name}"
}

output "api_url" {
  description = "URL of the API through the internal load balancer (reachable inside the VPC)."
  value       = "${local.api_base_url}/api"
}

output "internal_alb_dns_name" {
  description = "DNS name of the internal load balancer."
  value       = aws_lb.internal.dns_name
}

output "public_alb_dns_name" {
  description = "DNS name of the public load balancer."
  value       = aws_lb.public.dns_name
}

output "service_names" {
  description = "ECS service name of each service (api, web, spamcheck)."
  value       = { for k, s in aws_ecs_service.this : k => s.name }
}

output "container_names" {
  description = "Container name of each service."
  value       = { for k in keys(var.services) : k => "${var.name}-${k}" }
}

output "alarm_names" {
  description = "Names of the load balancer alarms (latency_internal, latency_public, errors_internal) and of each service's max-capacity alarm (max_capacity_<service>)."
  value       = merge(local.alarm_names, { for k, v in local.max_capacity_alarm_names : "max_capacity_${k}" => v })
}

output "alarm_arns" {
  description = "ARNs of every alarm of the application."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.latency : a.arn],
    [aws_cloudwatch_metric_alarm.errors_internal.arn],
    [for a in aws_cloudwatch_metric_alarm.max_capacity : a.arn],
  )
}

output "sns_topic_arn" {
  description = "ARN of the SRE notification topic."
  value       = aws_sns_topic.sre.arn
}

output "notification_queue_url" {
  description = "URL of the queue subscribed to the SRE topic."
  value       = aws_sqs_queue.notifications.id
}

output "notification_queue_arn" {
  description = "ARN of that queue."
  value       = aws_sqs_queue.notifications.arn
}

output "kms_key_arn" {
  description = "KMS key of the logs, the topic and the queue (a reader of the queue needs kms:Decrypt on it)."
  value       = module.key.arn
}

output "service_max_counts" {
  description = "Maximum task count of each service."
  value       = { for k, s in var.services : k => s.max_count }
}

output "task_definition_families" {
  description = "Task definition family of each service."
  value       = { for k, t in aws_ecs_task_definition.this : k => t.family }
}
