# The ECS user data of a container instance: packaging/ecs/user-data.sh
# rendered with templatefile. Its only placeholders are the inputs at its top,
# each inside single quotes, so every value is checked here (the variables'
# validations) before it can reach the script: a quote or a line break
# would change the program rather than its data.
locals {
  template = coalesce(var.template_path, "${path.module}/../../../packaging/ecs/user-data.sh")

  user_data = templatefile(local.template, {
    ecs_cluster      = var.ecs_cluster
    ecs_config_extra = join("\n", var.ecs_config_extra)
    package_url      = var.package_url
    package_sha256   = var.package_sha256
    key_parameter    = var.key_parameter
    agent_port       = tostring(var.agent_port)
    listen_address   = var.listen_address
    allowed_cidrs    = join(" ", var.allowed_cidrs)
    aws_region       = var.aws_region
    aws_endpoint     = var.aws_endpoint
  })
}
