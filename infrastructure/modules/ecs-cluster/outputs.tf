output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "capacity_provider_name" {
  description = "Capacity provider of the EC2 hosts (services place their tasks with it)."
  value       = aws_ecs_capacity_provider.hosts.name
}

output "autoscaling_group_name" {
  description = "Name of the hosts' auto scaling group."
  value       = aws_autoscaling_group.hosts.name
}

output "autoscaling_group_arn" {
  description = "ARN of the hosts' auto scaling group."
  value       = aws_autoscaling_group.hosts.arn
}

output "host_security_group_id" {
  description = "Security group of the hosts (the application adds its load balancers' rules to it)."
  value       = aws_security_group.hosts.id
}

output "agent_client_security_group_id" {
  description = "Security group whose members may reach the agents' port."
  value       = aws_security_group.agent_clients.id
}

output "host_role_arn" {
  description = "ARN of the hosts' IAM role."
  value       = aws_iam_role.hosts.arn
}

output "agent_port" {
  description = "TCP port of the agents."
  value       = var.agent_port
}

output "user_data_template_sha256" {
  description = "SHA-256 of the user-data template the launch template was rendered from."
  value       = module.user_data.template_sha256
}

output "autoscaling_group_subnet_ids" {
  description = "Subnets of the hosts' auto scaling group (what an AZ-failure experiment may narrow and restore)."
  value       = aws_autoscaling_group.hosts.vpc_zone_identifier
}
