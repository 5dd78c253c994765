# Data-plane apply against moto in server mode (run by infra/terraform/tools/check):
# the table, topics, queues, IAM roles, the four Lambda functions from the placeholder package with
# their aliases, event source mappings and SNS subscription, the WebSocket API with its routes,
# route responses, authorizer, integration and stage, all through the component modules.
#
# Left out, and why:
# - modules/pipeline (aws_codepipeline, aws_codebuild_project, notification rules): moto returns
#   a CodePipeline timestamp the provider cannot read; the pipelines are proven by the
#   mock-provider tests in modules/sumu/tests/pipeline.tftest.hcl.
# - aws_apigatewayv2_deployment (gateway `deploy = false`): moto cannot hold API Gateway
#   deployments; the stage is created without one.
# - nothing of the API Gateway account setting is left out: moto starts with no CloudWatch role,
#   so the gateway opts in (manage_account_logging_role = true) and the apply proves that path.
# - the custom domain (ACM, Route 53 alias) and AWS Chatbot: they need a real certificate and a
#   Slack workspace; the gateway tests plan them.
# - the root module's KMS key policy: a plain key stands in (moto does not evaluate key policies).
terraform {
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 6.0.0"
    }
  }
}

variable "endpoint" {
  description = "moto server URL, for example http://127.0.0.1:5000."
  type        = string
}

variable "package_files" {
  description = "Lambda zips by service (for example built by tools/lambda_zip.py); null applies the placeholder package every function starts from without lambda_packages, which is what the check does: moto never runs the code, and the services' own pipelines build and verify their zips."
  type        = map(string)
  default     = null
}

locals {
  placeholder = "${path.module}/../../modules/function/placeholder/placeholder.zip"
  package_files = var.package_files != null ? var.package_files : {
    for service in ["authorizer", "connections", "pusher", "presence"] : service => local.placeholder
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true

  endpoints {
    apigateway   = var.endpoint
    apigatewayv2 = var.endpoint
    cloudwatch   = var.endpoint
    dynamodb     = var.endpoint
    iam          = var.endpoint
    kms          = var.endpoint
    lambda       = var.endpoint
    logs         = var.endpoint
    sns          = var.endpoint
    sqs          = var.endpoint
    sts          = var.endpoint
  }
}

locals {
  prefix = "moto-sumu"
  tags   = { purpose = "sumu-terraform-moto-test" }
}

resource "aws_kms_key" "this" {
  #checkov:skip=CKV2_AWS_64:A stand-in key on moto, which does not evaluate key policies; the sumu module's key carries the real policy.
  description         = "SUMU moto test key"
  enable_key_rotation = true
}

module "database" {
  source = "../../modules/database"

  prefix      = local.prefix
  kms_key_arn = aws_kms_key.this.arn
  tags        = local.tags
}

module "integration" {
  source = "../../modules/integration"

  prefix      = local.prefix
  kms_key_arn = aws_kms_key.this.arn
  tags        = local.tags
}

module "authorizer" {
  source = "../../modules/authorizer"

  prefix               = local.prefix
  package              = { file = local.package_files["authorizer"] }
  kms_key_arn          = aws_kms_key.this.arn
  issuer_jwks_uri      = "http://127.0.0.1:3001/.well-known/jwks.json"
  authorized_audiences = ["sumu-websocket"]
  tags                 = local.tags
}

module "connections" {
  source = "../../modules/connections"

  prefix            = local.prefix
  package           = { file = local.package_files["connections"] }
  kms_key_arn       = aws_kms_key.this.arn
  connections_table = { name = module.database.table_name, arn = module.database.table_arn }
  subscriptions_table = {
    name                    = module.database.subscriptions_table_name
    arn                     = module.database.subscriptions_table_arn
    by_connection_index_arn = module.database.subscriptions_by_connection_index_arn
  }
  messages_topic_arn  = module.integration.messages_topic_arn
  messages_queue      = { arn = module.integration.messages_queue_arn, url = module.integration.messages_queue_url }
  history_table       = { name = module.database.history_table_name, arn = module.database.history_table_arn }
  apigw_endpoint      = "http://127.0.0.1:3001/mvp"
  apigw_execution_arn = "arn:aws:execute-api:us-east-1:123456789012:moto"
  stage_name          = "mvp"
  tags                = local.tags
}

module "gateway" {
  source = "../../modules/gateway"

  prefix                      = local.prefix
  stage_name                  = "mvp"
  connections_lambda          = module.connections.lambda
  authorizer_lambda           = module.authorizer.lambda
  kms_key_arn                 = aws_kms_key.this.arn
  manage_account_logging_role = true
  deploy                      = false
  tags                        = local.tags
}

module "pusher" {
  source = "../../modules/pusher"

  prefix            = local.prefix
  package           = { file = local.package_files["pusher"] }
  kms_key_arn       = aws_kms_key.this.arn
  connections_table = { name = module.database.table_name, arn = module.database.table_arn }
  subscriptions_table = {
    name                    = module.database.subscriptions_table_name
    arn                     = module.database.subscriptions_table_arn
    by_connection_index_arn = module.database.subscriptions_by_connection_index_arn
  }
  notifications_topic_arn = module.integration.notifications_topic_arn
  notifications_queue_arn = module.integration.notifications_queue_arn
  notifications_queue_url = module.integration.notifications_queue_url
  notifications_dlq       = { arn = module.integration.notifications_dlq_arn, url = module.integration.notifications_dlq_url }
  apigw_endpoint          = module.gateway.management_endpoint
  apigw_execution_arn     = module.gateway.execution_arn
  stage_name              = module.gateway.stage_name
  history_table           = { name = module.database.history_table_name, arn = module.database.history_table_arn }
  idempotency_table       = { name = module.database.idempotency_table_name, arn = module.database.idempotency_table_arn }
  tags                    = local.tags
}

module "presence" {
  source = "../../modules/presence"

  prefix          = local.prefix
  package         = { file = local.package_files["presence"] }
  kms_key_arn     = aws_kms_key.this.arn
  presence_source = "topic"
  connections_table = {
    name       = module.database.table_name
    arn        = module.database.table_arn
    stream_arn = module.database.stream_arn
  }
  messages_topic_arn = module.integration.messages_topic_arn
  messages_queue     = { arn = module.integration.messages_queue_arn, url = module.integration.messages_queue_url }
  tags               = local.tags
}

output "summary" {
  description = "What the check script verifies after apply."
  value = {
    table_name        = module.database.table_name
    stream_arn        = module.database.stream_arn
    ttl_attribute     = module.database.ttl_attribute
    websocket_url     = module.gateway.websocket_url
    route_keys        = module.gateway.route_keys
    notifications_url = module.integration.notifications_queue_url
    lambdas           = [module.authorizer.lambda.alias_arn, module.connections.lambda.alias_arn, module.pusher.lambda.alias_arn, module.presence.lambda.alias_arn]
  }
}
