# tofu test: the installer rendered with this module's inputs. No provider
# is involved, so this runs offline (make check-infra).

variables {
  ecs_cluster      = "live-chaos-comment-cluster"
  ecs_config_extra = ["ECS_ENABLE_TASK_IAM_ROLE=true", "ECS_CONTAINER_STOP_TIMEOUT=30s"]
  package_url      = "s3://chaos-artifacts/chaos-agent-0.1.0-1.x86_64.rpm"
  package_sha256   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  key_parameter    = "/live/chaos/agent_key"
  allowed_cidrs    = ["10.0.4.0/24", "10.0.5.0/24"]
}

run "every_input_lands_in_its_quoted_slot" {
  command = plan

  assert {
    condition     = strcontains(output.user_data, "ECS_CLUSTER='live-chaos-comment-cluster'")
    error_message = "ECS_CLUSTER is not the cluster name."
  }
  assert {
    condition     = strcontains(output.user_data, "ECS_CONFIG_EXTRA='ECS_ENABLE_TASK_IAM_ROLE=true\nECS_CONTAINER_STOP_TIMEOUT=30s'")
    error_message = "The extra ecs.config lines are not one per line."
  }
  assert {
    condition     = strcontains(output.user_data, "ALLOWED_CIDRS='10.0.4.0/24 10.0.5.0/24'")
    error_message = "allowed_cidrs is not space-separated."
  }
  assert {
    condition     = strcontains(output.user_data, "AGENT_PORT='8421'") && strcontains(output.user_data, "LISTEN_ADDRESS=''")
    error_message = "The port and listen address defaults are not rendered."
  }
  assert {
    condition     = strcontains(output.user_data, "KEY_PARAMETER='/live/chaos/agent_key'")
    error_message = "The key parameter is not rendered."
  }
}

run "no_placeholder_is_left" {
  command = plan

  assert {
    condition     = !strcontains(output.user_data, "$${") && !strcontains(output.user_data, "%%{")
    error_message = "A template sequence survived the rendering."
  }
  assert {
    condition     = startswith(output.user_data, "#!/usr/bin/env bash\n")
    error_message = "The rendered user data does not start with the bash shebang."
  }
  assert {
    condition     = base64decode(output.user_data_base64) == output.user_data
    error_message = "The base64 output is not the rendered script."
  }
}

run "a_quote_in_the_cluster_name_is_refused" {
  command = plan

  variables {
    ecs_cluster = "x'; reboot; '"
  }
  expect_failures = [var.ecs_cluster]
}

run "a_quote_in_an_ecs_config_line_is_refused" {
  command = plan

  variables {
    ecs_config_extra = ["ECS_LOGLEVEL=debug'"]
  }
  expect_failures = [var.ecs_config_extra]
}

run "an_http_package_url_is_refused" {
  command = plan

  variables {
    package_url = "http://example.com/chaos-agent.rpm"
  }
  expect_failures = [var.package_url]
}

run "a_short_checksum_is_refused" {
  command = plan

  variables {
    package_sha256 = "abc"
  }
  expect_failures = [var.package_sha256]
}

run "a_bad_cidr_is_refused" {
  command = plan

  variables {
    allowed_cidrs = ["10.0.0.0/16", "everyone"]
  }
  expect_failures = [var.allowed_cidrs]
}

run "a_port_out_of_range_is_refused" {
  command = plan

  variables {
    agent_port = 70000
  }
  expect_failures = [var.agent_port]
}

run "a_listen_address_that_is_no_ipv4_address_is_refused" {
  command = plan

  variables {
    listen_address = "0.0.0.0:8421"
  }
  expect_failures = [var.listen_address]
}

run "a_region_and_an_endpoint_are_rendered_when_given" {
  command = plan

  variables {
    aws_region   = "eu-west-1"
    aws_endpoint = "http://127.0.0.1:5000"
  }

  assert {
    condition     = strcontains(output.user_data, "AWS_REGION_NAME='eu-west-1'") && strcontains(output.user_data, "AWS_ENDPOINT='http://127.0.0.1:5000'")
    error_message = "The region or the endpoint is not rendered."
  }
}

run "a_bad_region_is_refused" {
  command = plan

  variables {
    aws_region = "Europe"
  }
  expect_failures = [var.aws_region]
}
