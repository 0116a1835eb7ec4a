# The "live" environment: the names the library's [live] contexts use.
# Three values come from the environment of whoever deploys, because they
# depend on what they built and uploaded (empty when unset, so that units
# which do not use them still plan; ecs-cluster and chaos-runner refuse an
# empty one with a message naming it):
#   CHAOS_AGENT_PACKAGE_URL     s3://bucket/chaos-agent-<version>-1.x86_64.rpm
#   CHAOS_AGENT_PACKAGE_SHA256  its SHA-256
#   CHAOS_RUNNER_IMAGE          the runner image in ECR
locals {
  environment = "live"
  region      = get_env("AWS_REGION", "us-east-1")

  # live-chaos-comment-cluster, live-chaos-comment-ondemand-asg, ...
  name     = "${local.environment}-chaos"
  app_name = "${local.environment}-chaos-comment"

  agent_key_parameter = "/${local.environment}/chaos/agent_key"
  agent_port          = 8421

  # Operators' networks that may reach the agents directly (a VPN); empty:
  # only the runner's jobs can.
  operator_cidrs = []

  agent_package_url    = get_env("CHAOS_AGENT_PACKAGE_URL", "")
  agent_package_sha256 = get_env("CHAOS_AGENT_PACKAGE_SHA256", "")
  runner_image         = get_env("CHAOS_RUNNER_IMAGE", "")
}
