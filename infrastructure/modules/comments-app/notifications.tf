# The SRE team's topic (the max-capacity alarms publish to it) and a queue
# subscribed to it, from which ecs-service-max-capacity-alarm reads the
# notification to prove it was delivered (the original created that queue
# per run with Terraform from inside the experiment).

resource "aws_sns_topic" "sre" {
  name              = "${var.name}-sre-updates"
  display_name      = "Urgent Infrastructure Notifications for Site Reliability Engineering Team"
  kms_master_key_id = module.key.arn

  tags = var.tags
}

resource "aws_sqs_queue" "notifications" {
  name                              = "${var.name}-sre-notifications"
  kms_master_key_id                 = module.key.arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 86400

  tags = var.tags
}

data "aws_iam_policy_document" "notifications" {
  statement {
    sid       = "TheSreTopicDelivers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.notifications.arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.sre.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "notifications" {
  queue_url = aws_sqs_queue.notifications.id
  policy    = data.aws_iam_policy_document.notifications.json
}

resource "aws_sns_topic_subscription" "notifications" {
  topic_arn = aws_sns_topic.sre.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.notifications.arn
}
