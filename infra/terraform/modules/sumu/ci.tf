# One release pipeline per service package, watching its own folder and contracts/ in the
# monorepo, and the two notification topics the seed's Slack channels received.
locals {
  packages = {
    authorizer  = { path = "services/authorizer", lambda = module.authorizer.lambda }
    connections = { path = "services/connections", lambda = module.connections.lambda }
    pusher      = { path = "services/pusher", lambda = module.pusher.lambda }
    presence    = { path = "services/presence", lambda = local.presence_enabled ? module.presence[0].lambda : null }
  }
  pipelines = local.pipelines_enabled ? { for name, p in local.packages : name => p if p.lambda != null } : {}
  ci_channels = local.pipelines_enabled ? {
    info  = var.ci_notifications_slack_channels.info
    alert = var.ci_notifications_slack_channels.alert
  } : {}
}

resource "terraform_data" "ci_inputs" {
  count = local.pipelines_enabled ? 1 : 0

  lifecycle {
    precondition {
      condition     = var.github != null && var.github_repository != null && var.s3_artifacts != null
      error_message = "The pipelines need github, github_repository and s3_artifacts; set them or turn enable_pipelines off."
    }
  }
}

resource "aws_sns_topic" "ci" {
  for_each = local.ci_channels

  name              = "${var.prefix}-ci-${each.value}"
  display_name      = "SUMU pipelines: ${each.key}"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = local.tags
}

data "aws_iam_policy_document" "ci_topic" {
  for_each = local.ci_channels

  statement {
    sid       = "PipelineNotifications"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.ci[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["codestar-notifications.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "DeadLetterAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.ci[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "ci" {
  for_each = local.ci_channels

  arn    = aws_sns_topic.ci[each.key].arn
  policy = data.aws_iam_policy_document.ci_topic[each.key].json
}

module "pipeline" {
  source   = "../pipeline"
  for_each = local.pipelines

  name                = "${var.prefix}-${each.key}-ci"
  package_path        = each.value.path
  extra_trigger_paths = var.ci_extra_trigger_paths
  github              = var.github
  repository          = var.github_repository
  s3_artifacts        = var.s3_artifacts
  lambda              = each.value.lambda
  pre_release         = var.pre_release
  kms_key_arn         = aws_kms_key.this.arn
  log_retention_days  = var.log_retention_days
  tags                = local.tags

  notifications = {
    info_topic_arn  = aws_sns_topic.ci["info"].arn
    alert_topic_arn = aws_sns_topic.ci["alert"].arn
  }

  depends_on = [terraform_data.ci_inputs]
}

# Slack delivery through AWS Chatbot, when the workspace is authorized (a console step).
data "aws_iam_policy_document" "chatbot_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["chatbot.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "chatbot" {
  count = local.pipelines_enabled && var.ci_chatbot != null ? 1 : 0

  name               = "${var.prefix}-ci-chatbot"
  assume_role_policy = data.aws_iam_policy_document.chatbot_assume.json
  tags               = local.tags
}

resource "aws_chatbot_slack_channel_configuration" "ci" {
  for_each = local.pipelines_enabled && var.ci_chatbot != null ? local.ci_channels : {}

  configuration_name = "${var.prefix}-ci-${each.key}"
  iam_role_arn       = aws_iam_role.chatbot[0].arn
  slack_team_id      = var.ci_chatbot.slack_team_id
  slack_channel_id   = each.key == "info" ? var.ci_chatbot.info_slack_channel_id : var.ci_chatbot.alert_slack_channel_id
  sns_topic_arns     = [aws_sns_topic.ci[each.key].arn]
  # The role has no policy: the channels only receive notifications, nobody runs commands.
  guardrail_policy_arns = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"]
  logging_level         = "ERROR"
  tags                  = local.tags
}
