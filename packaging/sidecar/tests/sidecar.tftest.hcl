# tofu test: the sidecar module's outputs. No provider: runs offline.

variables {
  image             = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/chaos-kit-agent:0.1.0"
  key_parameter_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/live/chaos/agent_key"
}

run "the_tested_container_with_the_accounts_values" {
  command = plan

  assert {
    condition     = output.container_definition.name == "chaos-agent" && output.container_definition.essential
    error_message = "The sidecar is not the essential chaos-agent container."
  }
  assert {
    condition     = output.container_definition.restartPolicy.enabled && output.container_definition.restartPolicy.restartAttemptPeriod == 60
    error_message = "The restart policy is not the one docs/faults.md asks for."
  }
  assert {
    condition     = output.container_definition.secrets[0].valueFrom == var.key_parameter_arn
    error_message = "The key does not come from the parameter."
  }
  assert {
    condition     = contains(output.container_definition.command, "mode=task") && contains(output.container_definition.command, "key_env=CHAOS_AGENT_KEY")
    error_message = "The agent does not start in task mode with the key from its environment."
  }
  assert {
    condition     = !can(output.container_definition.logConfiguration)
    error_message = "The template's example log group leaked into the definition."
  }
  assert {
    condition     = output.pid_mode == "task" && output.network_mode == "awsvpc" && output.enable_fault_injection
    error_message = "The task settings are not pidMode task, awsvpc and enableFaultInjection."
  }
}

run "another_port_and_logs" {
  command = plan

  variables {
    port       = 9000
    log_group  = "/ecs/comments"
    region     = "eu-west-1"
    extra_args = ["--set", "max_duration=1800"]
  }

  assert {
    condition     = output.container_definition.portMappings[0].containerPort == 9000 && contains(output.container_definition.command, "0.0.0.0:9000")
    error_message = "The port is not the one given."
  }
  assert {
    condition     = output.container_definition.logConfiguration.options["awslogs-group"] == "/ecs/comments"
    error_message = "The log group is not the one given."
  }
  assert {
    condition     = element(output.container_definition.command, length(output.container_definition.command) - 1) == "max_duration=1800"
    error_message = "The extra arguments do not come last."
  }
}

run "a_key_that_is_not_a_parameter_is_refused" {
  command = plan

  variables {
    key_parameter_arn = "/live/chaos/agent_key"
  }

  expect_failures = [var.key_parameter_arn]
}
