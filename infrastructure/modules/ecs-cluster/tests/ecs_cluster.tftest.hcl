# tofu test with a mocked AWS provider (schema from tests/infra/stubprovider):
# the launch template's metadata settings and user data, the group, and who
# may reach the agent port. make check-infra runs it.

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
  name                         = "live-chaos-comment"
  cluster_name                 = "live-chaos-comment-cluster"
  asg_name                     = "live-chaos-comment-ondemand-asg"
  vpc_id                       = "vpc-0123"
  vpc_cidr_block               = "10.0.0.0/16"
  subnet_ids                   = ["subnet-a1", "subnet-a2"]
  s3_prefix_list_id            = "pl-63a5400a"
  agent_package_url            = "s3://chaos-artifacts/chaos-agent-0.1.0-1.x86_64.rpm"
  agent_package_sha256         = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  agent_key_parameter_name     = "/live/chaos/agent_key"
  agent_key_reader_policy_json = "{}"
  agent_client_cidrs           = ["10.0.4.0/24", "10.0.5.0/24"]
}

run "imdsv2_only_and_one_hop" {
  command = plan

  assert {
    condition     = aws_launch_template.hosts.metadata_options[0].http_tokens == "required" && aws_launch_template.hosts.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "IMDSv2 is not required, or containers can reach the metadata service."
  }
  assert {
    condition     = aws_launch_template.hosts.image_id == "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    error_message = "The AMI is not the ECS-optimized AL2023 one from its public parameter."
  }
  assert {
    condition     = aws_launch_template.hosts.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "Root volumes are not encrypted."
  }
}

run "user_data_is_the_installer_for_this_cluster" {
  command = plan

  assert {
    condition     = startswith(base64decode(aws_launch_template.hosts.user_data), "#!/usr/bin/env bash\n# chaos-agent installer for ECS container instances")
    error_message = "The user data is not packaging/ecs/user-data.sh."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.hosts.user_data), "ECS_CLUSTER='live-chaos-comment-cluster'")
    error_message = "The user data does not join this cluster."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.hosts.user_data), "ALLOWED_CIDRS='10.0.4.0/24 10.0.5.0/24'")
    error_message = "The agents' own filter does not admit the runner's subnets."
  }
}

run "the_group_is_named_as_the_library_expects_and_managed_by_ecs" {
  command = plan

  assert {
    condition     = aws_autoscaling_group.hosts.name == "live-chaos-comment-ondemand-asg" && aws_autoscaling_group.hosts.protect_from_scale_in
    error_message = "The group's name or its scale-in protection is wrong."
  }
  assert {
    condition     = contains([for t in aws_autoscaling_group.hosts.tag : t.key], "AmazonECSManaged")
    error_message = "The group lacks the AmazonECSManaged tag."
  }
}

run "the_agent_port_is_closed_to_operators_by_default" {
  command = plan

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.agent_from_operators) == 0
    error_message = "The agent port is open to operator CIDRs although none are given."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.agent_from_clients.from_port == 8421 && aws_vpc_security_group_ingress_rule.agent_from_clients.to_port == 8421
    error_message = "The agent-client rule opens more than the agent port."
  }
}

run "operator_cidrs_open_the_port_and_the_agents_filter" {
  command = plan

  variables {
    operator_cidrs = ["192.0.2.0/24"]
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.agent_from_operators) == 1
    error_message = "The operator CIDR gets no rule."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.hosts.user_data), "ALLOWED_CIDRS='10.0.4.0/24 10.0.5.0/24 192.0.2.0/24'")
    error_message = "The agents' own filter does not admit the operator CIDR."
  }
}

run "an_empty_package_url_is_refused" {
  command = plan

  variables {
    agent_package_url = ""
  }
  expect_failures = [var.agent_package_url]
}
