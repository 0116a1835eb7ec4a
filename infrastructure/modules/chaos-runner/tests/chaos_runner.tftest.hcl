# tofu test with a mocked AWS provider (schema from tests/infra/stubprovider):
# what every Batch job gets. make check-infra runs it.

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
  name                         = "live-chaos"
  environment                  = "live"
  vpc_id                       = "vpc-0123"
  subnet_ids                   = ["subnet-p1", "subnet-p2"]
  runner_image                 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/chaos-kit-runner:0.1.0"
  cluster_name                 = "live-chaos-comment-cluster"
  cluster_arn                  = "arn:aws:ecs:us-east-1:123456789012:cluster/live-chaos-comment-cluster"
  autoscaling_group_name       = "live-chaos-comment-ondemand-asg"
  autoscaling_group_arn        = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/live-chaos-comment-ondemand-asg"
  autoscaling_group_subnet_ids = ["subnet-a1", "subnet-a2"]
  task_definition_families     = ["live-chaos-comment-api"]
  db_instance_arn              = "arn:aws:rds:us-east-1:123456789012:db:live-chaos-comments-db"
  alarm_arns                   = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"]
  agent_key_reader_policy_json = "{}"
  notification_queue_arn       = "arn:aws:sqs:us-east-1:123456789012:q"
  notification_kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/2"
}

run "jobs_run_the_runner_image_in_the_live_context" {
  command = plan

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/chaos-kit-runner:0.1.0"
    error_message = "The job definition does not run the runner image."
  }
  assert {
    condition     = contains(jsondecode(aws_batch_job_definition.this.container_properties).environment, { name = "CHAOS_CONTEXT", value = "live" })
    error_message = "Jobs do not run the live context."
  }
  assert {
    condition     = contains([for e in jsondecode(aws_batch_job_definition.this.container_properties).environment : e.name], "CHAOS_JOURNALS_BUCKET")
    error_message = "Jobs do not know the journals bucket."
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).networkConfiguration.assignPublicIp == "ENABLED"
    error_message = "Jobs in public subnets need a public address to reach AWS without a NAT gateway."
  }
  assert {
    condition     = aws_batch_job_queue.this.name == "live-chaos-batch-job-queue" && aws_batch_job_definition.this.name == "live-chaos-batch-job-definition"
    error_message = "Queue and job definition names differ from the original's."
  }
}

run "jobs_are_fargate_with_a_timeout" {
  command = plan

  assert {
    condition     = aws_batch_compute_environment.this.compute_resources[0].type == "FARGATE" && aws_batch_job_definition.this.timeout[0].attempt_duration_seconds == 3600
    error_message = "Jobs are not Fargate jobs with a one-hour timeout."
  }
}

run "an_image_without_a_tag_is_refused" {
  command = plan

  variables {
    runner_image = ""
  }
  expect_failures = [var.runner_image]
}
