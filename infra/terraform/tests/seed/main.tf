# The seed README's `module "sumu"` block, copied verbatim except `source`, with the three things
# it takes from its caller (local.prefix, local.common_tags, aws_s3_bucket.artifacts). Planned by
# modules/sumu/tests/seed.tftest.hcl with a mock provider: it is never applied.
terraform {
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 6.0.0"
    }
  }
}

locals {
  prefix = "kodhive-prod-sumu"
  common_tags = {
    project = "kodhive"
    env     = "prod"
  }
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "${local.prefix}-artifacts"
}

module "sumu" {
  source      = "../../modules/serverless"
  prefix      = local.prefix
  common_tags = local.common_tags

  # Authorizer
  issuer_jwks_uri         = "https://www.googleapis.com/service_accounts/v1/metadata/x509/securetoken@system.gserviceaccount.com"
  authorized_audiences    = ["sumu-websocket", ]
  verify_token_expiration = true

  s3_artifacts = {
    arn    = aws_s3_bucket.artifacts.arn
    bucket = aws_s3_bucket.artifacts.bucket
  }
  github = {
    owner          = "obytes"
    webhook_secret = "not-secret"
    connection_arn = "arn:aws:codestar-connections:us-east-1:{ACCOUNT_ID}:connection/{CONNECTION_ID}"
  }
  github_repository = {
    authorizer = {
      name   = "apigw-jwt-authorizer"
      branch = "main"
    }
    pusher = {
      name   = "apigw-websocket-pusher"
      branch = "main"
    }
  }
  ci_notifications_slack_channels = {
    info  = "ci-info"
    alert = "ci-alert"
  }

  stage_name      = "mvp"
  apigw_endpoint  = "https://live.kodhive.com/push"
  presence_source = "queue"
}

output "seed" {
  description = "The seed's outputs, as the module gives them."
  value = {
    ws_api_id         = module.sumu.ws_api_id
    ws_api_stage_name = module.sumu.ws_api_stage_name
    notifications     = module.sumu.notifications
    messages          = module.sumu.messages
    connections_table = module.sumu.connections_table
  }
}

output "pipelines" {
  description = "The pipelines the block creates."
  value       = module.sumu.pipelines
}

output "uses_placeholder_packages" {
  description = "Whether the functions start from the placeholder package."
  value       = module.sumu.uses_placeholder_packages
}
