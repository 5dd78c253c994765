# One release pipeline per package of the monorepo: the four services (build, approve, deploy the
# function), contracts (its compatibility gate needs the git history: a full clone), the
# Terraform modules (their checks and a plan) and sumu-local. A service named in
# service_repositories builds from that repository instead. The two notification topics carry
# what the seed's Slack channels received (modules/chatbot relays them to Slack).
locals {
  repositories = {
    for name in local.services : name => lookup(var.service_repositories, name, null)
  }
  # sumu-local serves the services' handlers: it is also triggered by their code.
  runs_services        = ["services/**", "contracts/**", "tools/**", "pyproject.toml", "uv.lock", "Makefile"]
  builds_every_package = ["contracts/**", "tools/**", "testing/**", "pyproject.toml", "uv.lock", "Makefile"]

  service_lambdas = {
    authorizer  = module.authorizer.lambda
    connections = module.connections.lambda
    pusher      = module.pusher.lambda
    presence    = local.presence_enabled ? module.presence[0].lambda : null
  }

  packages = merge(
    {
      for name, lambda in local.service_lambdas : name => {
        path         = local.repositories[name] == null ? "services/${name}" : ""
        repository   = local.repositories[name] == null ? var.github_repository : { name = local.repositories[name].name, branch = local.repositories[name].branch }
        buildspec    = local.repositories[name] == null ? null : local.repositories[name].buildspec
        lambda       = lambda
        shared_paths = local.builds_every_package
        full_clone   = false
        environment  = tomap({})
        policy_arns  = tolist([])
      } if lambda != null
    },
    {
      contracts = {
        path         = "contracts"
        repository   = var.github_repository
        buildspec    = null
        lambda       = null
        shared_paths = local.builds_every_package
        full_clone   = true
        environment  = tomap({})
        policy_arns  = tolist([])
      }
      infra = {
        path         = "infra/terraform"
        repository   = var.github_repository
        buildspec    = null
        lambda       = null
        shared_paths = local.builds_every_package
        full_clone   = false
        environment  = tomap(var.infra_pipeline.plan_directory == null ? {} : { PLAN_DIRECTORY = var.infra_pipeline.plan_directory })
        policy_arns  = var.infra_pipeline.plan_policy_arns
      }
      local = {
        path         = "infra/local"
        repository   = var.github_repository
        buildspec    = null
        lambda       = null
        shared_paths = local.runs_services
        full_clone   = false
        environment  = tomap({})
        policy_arns  = tolist([])
      }
    },
  )
  pipelines = { for name, p in local.packages : name => p if local.pipelines_enabled }
  # Topics are named <prefix>-ci-<channel>; the seed's channel names already start with "ci-".
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

  name              = "${var.prefix}-ci-${trimprefix(each.value, "ci-")}"
  display_name      = "SUMU pipelines: ${each.key}"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_sns_topic_policy" "ci" {
  for_each = local.ci_channels

  arn = aws_sns_topic.ci[each.key].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      for sid, service in { PipelineNotifications = "codestar-notifications.amazonaws.com", DeadLetterAlarms = "cloudwatch.amazonaws.com" } : {
        Sid                                       = sid
        Effect                                    = "Allow"
        Principal                                 = { Service = service }
        Action                                    = "sns:Publish"
        Resource                                  = aws_sns_topic.ci[each.key].arn
        Condition                                 = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      }
    ]
  })
}

module "pipeline" {
  source   = "../pipeline"
  for_each = local.pipelines

  name                 = "${var.prefix}-${each.key}-ci"
  package_path         = each.value.path
  shared_trigger_paths = each.value.shared_paths
  extra_trigger_paths  = var.ci_extra_trigger_paths
  buildspec            = each.value.buildspec
  full_clone           = each.value.full_clone
  release_branch       = var.github_repository.branch
  build_environment    = each.value.environment
  build_policy_arns    = each.value.policy_arns
  github               = var.github
  repository           = each.value.repository
  s3_artifacts         = var.s3_artifacts
  lambda               = each.value.lambda
  pre_release          = var.pre_release
  kms_key_arn          = aws_kms_key.this.arn
  log_retention_days   = var.log_retention_days
  tags                 = local.tags

  notifications = {
    info_topic_arn  = aws_sns_topic.ci["info"].arn
    alert_topic_arn = aws_sns_topic.ci["alert"].arn
  }

  depends_on = [terraform_data.ci_inputs]
}
