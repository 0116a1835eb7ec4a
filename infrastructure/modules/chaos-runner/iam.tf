# The runner's two roles. The job role is the one experiments act with:
# every statement below names, in its sid and comment, the library
# experiments (or the chaosctl step) that make the call. Nothing is
# granted "just in case"; docs/deploy.md has the same list as a table, and
# tests/infra checks that the two agree.

data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# ---- execution role: what Fargate does to start a job

module "execution_role" {
  source = "../task-execution-role"

  name          = "${var.name}-runner-execution"
  images        = [var.runner_image]
  log_group_arn = aws_cloudwatch_log_group.jobs.arn
  tags          = var.tags
}

# ---- job role: what the experiments do

resource "aws_iam_role" "job" {
  name               = "${var.name}-runner-job"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json

  tags = var.tags
}

locals {
  cluster_condition = {
    test     = "ArnEquals"
    variable = "ecs:cluster"
    values   = [var.cluster_arn]
  }
  services_arn   = "arn:${local.partition}:ecs:${local.region}:${local.account}:service/${var.cluster_name}/*"
  tasks_arn      = "arn:${local.partition}:ecs:${local.region}:${local.account}:task/${var.cluster_name}/*"
  parameters_arn = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/${var.environment}/*"
}

data "aws_iam_policy_document" "job" {
  # chaosctl --key-ssm-parameter, in every experiment that talks to the
  # agents: the agent-key module's reader policy (ssm:GetParameter on the
  # key, kms:Decrypt through SSM for that parameter only).
  source_policy_documents = [var.agent_key_reader_policy_json]


  # chaosctl --cluster (agent discovery): every experiment that injects
  # through the agents (agent/*, ecs-instance-burn-cpu,
  # ecs-instance-kill-docker, ecs-service-fail-az,
  # ecs-service-slow-datasource, ecs-service-slow-dependency,
  # ecs-service-autoscaling, ecs-service-cpu-scaling, ecs-service-scale-out).
  statement {
    sid       = "AgentDiscoveryListsTheClustersHosts"
    actions   = ["ecs:ListContainerInstances"]
    resources = [var.cluster_arn]
  }

  # chaosctl --cluster reads hosts (DescribeContainerInstances) and, with
  # --service, the service's tasks (ListTasks, DescribeTasks);
  # ecs-service-tasks-failure's stop_random_tasks lists tasks too. IAM
  # authorizes ListTasks against "*", so the cluster condition does the
  # scoping.
  statement {
    sid       = "AgentDiscoveryReadsTheClustersHostsAndTasks"
    actions   = ["ecs:DescribeContainerInstances", "ecs:DescribeTasks", "ecs:ListTasks"]
    resources = ["*"]

    condition {
      test     = local.cluster_condition.test
      variable = local.cluster_condition.variable
      values   = local.cluster_condition.values
    }
  }

  # chaosctl --service: the definition of a task with the chaos-agent
  # sidecar (its port and network mode). DescribeTaskDefinition has no
  # resource-level permissions.
  statement {
    sid       = "SidecarDiscoveryReadsTaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition"]
    resources = ["*"]
  }

  # chaosctl --cluster: each host's private address, zone and tags.
  statement {
    sid       = "AgentDiscoveryReadsInstances"
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
  }

  # The names and URLs the infrastructure publishes under /<environment>/
  # (service_url, the ASG, subnets, the queue...), read by the library's
  # live contexts instead of hard-coded values.
  statement {
    sid       = "ExperimentsReadPublishedValues"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [local.parameters_arn]
  }

  # chaosaws.ecs probes and actions: are_all_desired_tasks_running (the
  # steady state of most experiments), and the existence checks that
  # stop_random_tasks and update_desired_count make first.
  statement {
    sid       = "EcsProbesReadTheClusterAndServices"
    actions   = ["ecs:DescribeClusters", "ecs:DescribeServices"]
    resources = [var.cluster_arn, local.services_arn]
  }

  # ecs-service-tasks-failure: chaosaws.ecs.actions.stop_random_tasks.
  statement {
    sid       = "TasksFailureStopsTasks"
    actions   = ["ecs:StopTask"]
    resources = [local.tasks_arn]
  }

  # ecs-service-max-capacity-alarm, ecs-service-scale-in,
  # ecs-service-scale-out (and their rollbacks):
  # chaosaws.ecs.actions.update_desired_count.
  statement {
    sid       = "ScalingExperimentsSetDesiredCounts"
    actions   = ["ecs:UpdateService"]
    resources = [local.services_arn]

    # update_desired_count sends no task definition. Should a request name
    # one, it must be a revision of the application's own families: a job
    # cannot point a service at some other task definition (and its role).
    condition {
      test     = "ArnLikeIfExists"
      variable = "ecs:task-definition"
      values   = [for f in var.task_definition_families : "arn:${local.partition}:ecs:${local.region}:${local.account}:task-definition/${f}:*"]
    }
  }

  # ecs-instance-termination and ecs-instance-asg-fail-az:
  # desired_equals_healthy, wait_desired_equals_healthy, and the group
  # look-ups of terminate_random_instances and change_subnets.
  statement {
    sid       = "AsgExperimentsReadGroups"
    actions   = ["autoscaling:DescribeAutoScalingGroups"]
    resources = ["*"]
  }

  # ecs-instance-asg-fail-az: change_subnets removes the failed zone's
  # subnet from the group, and its rollback restores them.
  statement {
    sid       = "AsgFailAzChangesTheGroupsSubnets"
    actions   = ["autoscaling:UpdateAutoScalingGroup"]
    resources = [var.autoscaling_group_arn]

    # only ever the group's own subnets, never a subnet elsewhere
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "autoscaling:VPCZoneIdentifiers"
      values   = var.autoscaling_group_subnet_ids
    }
  }

  # ecs-instance-termination and ecs-instance-asg-fail-az:
  # terminate_random_instances, only on instances of the cluster's group.
  statement {
    sid       = "AsgExperimentsTerminateTheGroupsInstances"
    actions   = ["ec2:TerminateInstances"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/aws:autoscaling:groupName"
      values   = [var.autoscaling_group_name]
    }
  }

  # The alarm probes of every reliability and agent experiment
  # (chaosaws.cloudwatch.probes.get_alarm_state_value) and
  # chaosctl run --stop-alarm.
  statement {
    sid       = "ExperimentsReadTheApplicationsAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = var.alarm_arns
  }

  # rds-instance-reboot: reboot_db_instance, and instance_status before
  # and after it.
  statement {
    sid       = "RdsRebootRebootsTheDatabase"
    actions   = ["rds:DescribeDBInstances", "rds:RebootDBInstance"]
    resources = [var.db_instance_arn]
  }

  # ecs-service-max-capacity-alarm: the alarm's notification, read (and
  # consumed) from the queue subscribed to the SRE topic.
  statement {
    sid       = "MaxCapacityAlarmReadsTheNotification"
    actions   = ["sqs:DeleteMessage", "sqs:ReceiveMessage"]
    resources = [var.notification_queue_arn]
  }

  statement {
    sid       = "MaxCapacityAlarmDecryptsTheNotification"
    actions   = ["kms:Decrypt"]
    resources = [var.notification_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com"]
    }
  }

  # chaosctl run --journals-bucket (every job): journal.json and
  # chaostoolkit.log after each run.
  statement {
    sid       = "RunnerUploadsJournals"
    actions   = ["s3:PutObject"]
    resources = ["${module.journals.arn}/*"]
  }

  statement {
    sid       = "RunnerEncryptsJournals"
    actions   = ["kms:GenerateDataKey"]
    resources = [module.key.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "job" {
  name   = "library-experiments"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}
