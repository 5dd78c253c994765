# AWS Chatbot relaying the pipelines' notification topics to Slack. Chatbot's API exists in a few
# regions only (us-east-2, us-west-2, ap-southeast-1, eu-west-1:
# https://docs.aws.amazon.com/chatbot/latest/APIReference/Welcome.html), so this module is
# instantiated with a provider alias in one of them; the topics may live in any region.
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  chatbot_regions = ["us-east-2", "us-west-2", "ap-southeast-1", "eu-west-1"]
}

resource "aws_iam_role" "this" {
  name = "${var.prefix}-ci-chatbot"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "chatbot.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_chatbot_slack_channel_configuration" "this" {
  for_each = var.slack_channel_ids

  configuration_name = "${var.prefix}-ci-${each.key}"
  iam_role_arn       = aws_iam_role.this.arn
  slack_team_id      = var.slack_team_id
  slack_channel_id   = each.value
  sns_topic_arns     = [var.topic_arns[each.key]]
  # The role has no policy: the channels only receive notifications, nobody runs commands.
  guardrail_policy_arns = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"]
  logging_level         = "ERROR"
  tags                  = var.tags

  lifecycle {
    precondition {
      condition     = contains(local.chatbot_regions, data.aws_region.current.name)
      error_message = "AWS Chatbot's API is only in us-east-2, us-west-2, ap-southeast-1 and eu-west-1: pass this module a provider in one of them (providers = { aws = aws.chatbot }), not ${data.aws_region.current.name}."
    }
  }
}
