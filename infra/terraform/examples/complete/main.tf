# A complete SUMU deployment as a team would run it: the artifacts bucket, a DNS-validated
# certificate for the custom domain, and the sumu module with one release pipeline per package.
#
#   make pipeline PKG=services/authorizer   # and connections, pusher, presence: builds dist/*.zip
#   terraform init && terraform apply -var domain_name=live.example.com -var route53_zone_name=example.com ...
provider "aws" {
  region = var.region

  default_tags {
    tags = local.common_tags
  }
}

# AWS Chatbot's API only exists in us-east-2, us-west-2, ap-southeast-1 and eu-west-1: the Slack
# relay gets a provider of its own in one of them, whatever the stack's region.
provider "aws" {
  alias  = "chatbot"
  region = var.chatbot_region

  default_tags {
    tags = local.common_tags
  }
}

locals {
  prefix = "${var.project}-${var.environment}-sumu"
  common_tags = {
    project     = var.project
    environment = var.environment
    managed-by  = "terraform"
  }
  services = ["authorizer", "connections", "pusher", "presence"]
}

data "aws_route53_zone" "this" {
  name         = var.route53_zone_name
  private_zone = false
}

resource "aws_acm_certificate" "websocket" {
  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = {
    for option in aws_acm_certificate.websocket.domain_validation_options : option.domain_name => option
  }

  zone_id = data.aws_route53_zone.this.zone_id
  name    = each.value.resource_record_name
  type    = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl     = 300
}

resource "aws_acm_certificate_validation" "websocket" {
  certificate_arn         = aws_acm_certificate.websocket.arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

module "sumu" {
  source = "../../modules/sumu"

  prefix      = local.prefix
  common_tags = local.common_tags

  lambda_packages = {
    for service in local.services : service => {
      file = "${var.repository_root}/services/${service}/dist/sumu-${service}-${var.package_version}.zip"
    }
  }

  # Authorizer
  issuer_jwks_uri         = var.issuer_jwks_uri
  authorized_audiences    = var.authorized_audiences
  verify_token_expiration = true

  # CI / CD
  s3_artifacts = {
    arn    = aws_s3_bucket.artifacts.arn
    bucket = aws_s3_bucket.artifacts.bucket
  }
  github = {
    owner          = var.github_owner
    connection_arn = var.github_connection_arn
  }
  github_repository = {
    name   = var.github_repository
    branch = "main"
  }
  ci_notifications_slack_channels = {
    info  = "ci-info"
    alert = "ci-alert"
  }
  pre_release = true
  # The infra/terraform pipeline plans this root module after its checks.
  infra_pipeline = {
    plan_directory   = "infra/terraform/examples/complete"
    plan_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  }

  # WebSocket API
  stage_name = "mvp"
  custom_domain = {
    domain_name     = var.domain_name
    certificate_arn = aws_acm_certificate_validation.websocket.certificate_arn
    route53_zone_id = data.aws_route53_zone.this.zone_id
    base_path       = "push"
  }
  presence_source = "queue"
}

module "chatbot" {
  source = "../../modules/chatbot"
  count  = var.ci_chatbot == null ? 0 : 1

  providers = {
    aws = aws.chatbot
  }

  prefix        = local.prefix
  slack_team_id = var.ci_chatbot.slack_team_id
  slack_channel_ids = {
    info  = var.ci_chatbot.info_slack_channel_id
    alert = var.ci_chatbot.alert_slack_channel_id
  }
  topic_arns = module.sumu.ci_notification_topic_arns
}
