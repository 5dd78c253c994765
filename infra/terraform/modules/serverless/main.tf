# The seed's `module "sumu"` (terraform-aws-sumu//modules/serverless) on top of the sumu module:
# the same inputs and outputs, so a team migrates by changing `source`. Services the team keeps
# in repositories of their own (github_repository / github_repositories) are built from there;
# everything else from the monorepo.
locals {
  own_repositories = coalesce(var.github_repositories, var.github_repository, {})
}

resource "terraform_data" "repositories" {
  lifecycle {
    precondition {
      condition     = var.github_repositories == null || var.github_repository == null
      error_message = "Set github_repositories or github_repository (the seed's README name), not both."
    }
  }
}

module "sumu" {
  source = "../sumu"

  prefix          = var.prefix
  common_tags     = var.common_tags
  lambda_packages = var.lambda_packages

  issuer_jwks_uri               = var.issuer_jwks_uri
  issuer                        = var.issuer
  authorized_audiences          = var.authorized_audiences
  verify_token_expiration       = var.verify_token_expiration
  allow_any_issuer_and_audience = var.allow_any_issuer_and_audience

  stage_name                        = var.stage_name
  apigw_endpoint                    = var.apigw_endpoint
  custom_domain                     = var.custom_domain
  manage_apigw_account_logging_role = var.manage_apigw_account_logging_role
  presence_source                   = var.presence_source
  publisher_account_ids             = var.publisher_account_ids

  s3_artifacts                    = var.s3_artifacts
  github                          = var.github
  github_repository               = var.monorepo
  service_repositories            = local.own_repositories
  pre_release                     = var.pre_release
  ci_notifications_slack_channels = var.ci_notifications_slack_channels
}
