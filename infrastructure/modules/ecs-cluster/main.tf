# An ECS cluster on EC2 capacity: an auto scaling group of ECS-optimized
# Amazon Linux 2023 hosts across the private subnets, managed by a capacity
# provider, each host installing chaos-agent from its user data
# (packaging/ecs/user-data.sh, rendered by ../agent-user-data).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  container_instances_arn = "arn:${local.partition}:ecs:${local.region}:${local.account}:container-instance/${var.cluster_name}/*"

  # s3://bucket/key -> arn:aws:s3:::bucket/key, for the hosts' s3:GetObject.
  package_in_s3  = startswith(var.agent_package_url, "s3://")
  package_s3_arn = local.package_in_s3 ? "arn:${local.partition}:s3:::${trimprefix(var.agent_package_url, "s3://")}" : null

  host_tags = merge(var.tags, { Name = "${var.name}-host" })
}

resource "aws_ecs_cluster" "this" {
  name = var.cluster_name

  # ECS/ContainerInsights metrics (DesiredTaskCount, RunningTaskCount): the
  # max-capacity alarms and the scaling experiments read them.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

module "user_data" {
  source = "../agent-user-data"

  template_path    = var.user_data_template_path
  ecs_cluster      = aws_ecs_cluster.this.name
  ecs_config_extra = concat(["ECS_ENABLE_TASK_IAM_ROLE=true", "ECS_ENABLE_CONTAINER_METADATA=true"], var.ecs_config_extra)
  package_url      = var.agent_package_url
  package_sha256   = var.agent_package_sha256
  key_parameter    = var.agent_key_parameter_name
  agent_port       = var.agent_port
  allowed_cidrs    = concat(var.agent_client_cidrs, var.operator_cidrs)
}

# ---- security groups

resource "aws_security_group" "hosts" {
  name        = "${var.name}-hosts"
  description = "ECS hosts: the agent port from the agent clients only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-hosts" })
}

# Whoever carries this group may reach the agents: the Batch runner does.
resource "aws_security_group" "agent_clients" {
  # checkov:skip=CKV2_AWS_5:Attached outside this module: the chaos-runner module gives it to every Batch job.
  name        = "${var.name}-agent-clients"
  description = "Clients of the chaos agents (the experiment runner)"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-agent-clients" })
}

resource "aws_vpc_security_group_ingress_rule" "agent_from_clients" {
  security_group_id            = aws_security_group.hosts.id
  description                  = "chaos-agent from its clients"
  ip_protocol                  = "tcp"
  from_port                    = var.agent_port
  to_port                      = var.agent_port
  referenced_security_group_id = aws_security_group.agent_clients.id
}

resource "aws_vpc_security_group_ingress_rule" "agent_from_operators" {
  for_each = toset(var.operator_cidrs)

  security_group_id = aws_security_group.hosts.id
  description       = "chaos-agent from an operator network"
  ip_protocol       = "tcp"
  from_port         = var.agent_port
  to_port           = var.agent_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "clients_to_agents" {
  security_group_id            = aws_security_group.agent_clients.id
  description                  = "to the chaos agents"
  ip_protocol                  = "tcp"
  from_port                    = var.agent_port
  to_port                      = var.agent_port
  referenced_security_group_id = aws_security_group.hosts.id
}

resource "aws_vpc_security_group_egress_rule" "hosts_to_s3" {
  security_group_id = aws_security_group.hosts.id
  description       = "HTTPS to S3 (gateway endpoint)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.s3_prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "hosts_to_vpc" {
  for_each = toset([for p in var.vpc_egress_ports : tostring(p)])

  security_group_id = aws_security_group.hosts.id
  description       = "TCP ${each.value} inside the VPC"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "hosts_to_internet" {
  for_each = var.allow_internet_egress ? toset(["80", "443"]) : toset([])

  security_group_id = aws_security_group.hosts.id
  description       = "TCP ${each.value} to the internet (through the NAT gateway)"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = "0.0.0.0/0"
}

# ---- the hosts' role: the ECS agent's calls for this cluster, and what
# the user data needs to install chaos-agent. Nothing else: images and
# logs of tasks go through each task's execution role.

data "aws_iam_policy_document" "hosts_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "hosts" {
  name               = "${var.name}-hosts"
  assume_role_policy = data.aws_iam_policy_document.hosts_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "hosts" {
  # The user data reads the agent key: the key module's reader policy.
  source_policy_documents = [var.agent_key_reader_policy_json]

  statement {
    sid       = "EcsAgentFindsItsEndpoint"
    actions   = ["ecs:DiscoverPollEndpoint"]
    resources = ["*"]
  }

  statement {
    sid       = "EcsAgentJoinsThisCluster"
    actions   = ["ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance"]
    resources = [aws_ecs_cluster.this.arn]
  }

  statement {
    sid = "EcsAgentRunsThisClustersTasks"
    actions = [
      "ecs:Poll",
      "ecs:StartTelemetrySession",
      "ecs:UpdateContainerInstancesState",
      "ecs:SubmitAttachmentStateChanges",
      "ecs:SubmitContainerStateChange",
      "ecs:SubmitTaskStateChange",
    ]
    resources = [aws_ecs_cluster.this.arn, local.container_instances_arn]
  }

  dynamic "statement" {
    for_each = local.package_in_s3 ? [1] : []

    content {
      sid       = "UserDataDownloadsTheAgentPackage"
      actions   = ["s3:GetObject"]
      resources = [local.package_s3_arn]
    }
  }
}

resource "aws_iam_role_policy" "hosts" {
  name   = "ecs-agent-and-chaos-agent-install"
  role   = aws_iam_role.hosts.id
  policy = data.aws_iam_policy_document.hosts.json
}

resource "aws_iam_instance_profile" "hosts" {
  name = "${var.name}-hosts"
  role = aws_iam_role.hosts.name

  tags = var.tags
}

# ---- hosts

resource "aws_launch_template" "hosts" {
  name                   = "${var.name}-hosts"
  description            = "ECS-optimized Amazon Linux 2023 with chaos-agent"
  image_id               = "resolve:ssm:${var.ami_parameter}"
  instance_type          = var.instance_type
  user_data              = module.user_data.user_data_base64
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.hosts.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.hosts.arn
  }

  # IMDSv2 only, and one hop: the host's own processes (ECS agent,
  # chaos-agent, the AWS CLI in the user data) reach the metadata service;
  # bridge-mode containers, one hop further, do not.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      encrypted             = "true" # a string in the provider's schema
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = local.host_tags
  }

  tag_specifications {
    resource_type = "volume"
    tags          = local.host_tags
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "hosts" {
  name                = var.asg_name
  min_size            = var.min_size
  max_size            = var.max_size
  vpc_zone_identifier = var.subnet_ids
  health_check_type   = "EC2"
  # The capacity provider's managed termination protection needs it: ECS
  # decides which host may go (one without tasks).
  protect_from_scale_in = true

  launch_template {
    id      = aws_launch_template.hosts.id
    version = aws_launch_template.hosts.latest_version
  }

  dynamic "tag" {
    for_each = merge(local.host_tags, { AmazonECSManaged = "true" })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # The capacity provider sets the desired capacity.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "hosts" {
  name = "${var.name}-ondemand"

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.hosts.arn
    managed_termination_protection = "ENABLED"
    managed_draining               = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = 100
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 2
      instance_warmup_period    = 300
    }
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = [aws_ecs_capacity_provider.hosts.name]

  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.hosts.name
    base              = 1
    weight            = 1
  }
}
