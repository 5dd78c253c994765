# SUMU: everything a realtime WebSocket stack needs, composed from the component modules.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  tags = merge(var.common_tags, { "sumu:terraform-version" = local.version })

  # infra/terraform is versioned on its own; the contracts version is what backends must speak.
  version                = trimspace(file("${path.module}/../../VERSION"))
  contracts_pyproject    = "${path.module}/../../../../contracts/pyproject.toml"
  contracts_version      = fileexists(local.contracts_pyproject) ? regex("(?m)^version\\s*=\\s*\"([^\"]+)\"", file(local.contracts_pyproject))[0] : null
  pipelines_enabled      = var.enable_pipelines
  presence_enabled       = var.presence_source != "stream"
  dead_letter_alarm_arns = concat(local.pipelines_enabled ? [aws_sns_topic.ci["alert"].arn] : [], var.alarm_actions)

  # Without packages every function starts from the placeholder, which refuses every request
  # (the authorizer denies, the others fail so nothing is consumed) until its pipeline releases.
  services          = ["authorizer", "connections", "pusher", "presence"]
  placeholder_zip   = "${path.module}/../function/placeholder/placeholder.zip"
  lambda_packages   = var.lambda_packages != null ? var.lambda_packages : { for s in local.services : s => { file = local.placeholder_zip } }
  uses_placeholders = var.lambda_packages == null

  subscriptions_table = {
    name                    = module.database.subscriptions_table_name
    arn                     = module.database.subscriptions_table_arn
    by_connection_index_arn = module.database.subscriptions_by_connection_index_arn
  }
}

module "database" {
  source = "../database"

  prefix      = var.prefix
  kms_key_arn = aws_kms_key.this.arn
  tags        = local.tags
}

module "integration" {
  source = "../integration"

  prefix                = var.prefix
  kms_key_arn           = aws_kms_key.this.arn
  max_receive_count     = var.max_receive_count
  publisher_account_ids = var.publisher_account_ids
  alarm_actions         = local.dead_letter_alarm_arns
  tags                  = local.tags
}

module "authorizer" {
  source = "../authorizer"

  prefix                        = var.prefix
  package                       = local.lambda_packages["authorizer"]
  kms_key_arn                   = aws_kms_key.this.arn
  issuer_jwks_uri               = var.issuer_jwks_uri
  issuer                        = var.issuer
  authorized_audiences          = var.authorized_audiences
  verify_token_expiration       = var.verify_token_expiration
  allow_any_issuer_and_audience = var.allow_any_issuer_and_audience
  algorithms                    = var.jwt_algorithms
  leeway_seconds                = var.jwt_leeway_seconds
  context_claims                = var.jwt_context_claims
  channels_claim                = var.channels_claim
  reserved_concurrency          = var.reserved_concurrency.authorizer
  log_retention_days            = var.log_retention_days
  tags                          = local.tags
}

module "connections" {
  source = "../connections"

  prefix                  = var.prefix
  package                 = local.lambda_packages["connections"]
  kms_key_arn             = aws_kms_key.this.arn
  connections_table       = { name = module.database.table_name, arn = module.database.table_arn }
  messages_topic_arn      = module.integration.messages_topic_arn
  messages_queue          = { arn = module.integration.messages_queue_arn, url = module.integration.messages_queue_url }
  connection_ttl_seconds  = var.connection_ttl_seconds
  subscriptions_table     = local.subscriptions_table
  history_table           = { name = module.database.history_table_name, arn = module.database.history_table_arn }
  history_size            = var.history_size
  apigw_endpoint          = coalesce(var.apigw_endpoint, module.gateway.management_endpoint)
  apigw_execution_arn     = module.gateway.execution_arn
  stage_name              = var.stage_name
  public_channels         = var.public_channels
  channels_per_connection = var.channels_per_connection
  reserved_concurrency    = var.reserved_concurrency.connections
  log_retention_days      = var.log_retention_days
  tags                    = local.tags
}

module "gateway" {
  source = "../gateway"

  prefix                         = var.prefix
  stage_name                     = var.stage_name
  connections_lambda             = module.connections.lambda
  authorizer_lambda              = module.authorizer.lambda
  throttling_burst_limit         = var.throttling_burst_limit
  throttling_rate_limit          = var.throttling_rate_limit
  kms_key_arn                    = aws_kms_key.this.arn
  log_retention_days             = var.log_retention_days
  manage_account_logging_role    = var.manage_apigw_account_logging_role
  connect_throttling_burst_limit = var.connect_throttling_burst_limit
  connect_throttling_rate_limit  = var.connect_throttling_rate_limit
  custom_domain                  = var.custom_domain
  tags                           = local.tags
}

module "pusher" {
  source = "../pusher"

  prefix                             = var.prefix
  package                            = local.lambda_packages["pusher"]
  kms_key_arn                        = aws_kms_key.this.arn
  connections_table                  = { name = module.database.table_name, arn = module.database.table_arn }
  subscriptions_table                = local.subscriptions_table
  history_table                      = { name = module.database.history_table_name, arn = module.database.history_table_arn }
  idempotency_table                  = { name = module.database.idempotency_table_name, arn = module.database.idempotency_table_arn }
  history_ttl_seconds                = var.history_ttl_seconds
  idempotency_ttl_seconds            = var.idempotency_ttl_seconds
  notifications_topic_arn            = module.integration.notifications_topic_arn
  notifications_queue_arn            = module.integration.notifications_queue_arn
  notifications_queue_url            = module.integration.notifications_queue_url
  broadcast_segments                 = var.pusher_broadcast_segments
  channel_split_subscribers          = var.pusher_channel_split_subscribers
  notifications_dlq                  = { arn = module.integration.notifications_dlq_arn, url = module.integration.notifications_dlq_url }
  apigw_endpoint                     = coalesce(var.apigw_endpoint, module.gateway.management_endpoint)
  apigw_execution_arn                = module.gateway.execution_arn
  stage_name                         = module.gateway.stage_name
  concurrency                        = var.pusher_concurrency
  batch_size                         = var.pusher_batch_size
  maximum_batching_window_in_seconds = var.pusher_batching_window_seconds
  maximum_concurrency                = var.pusher_maximum_concurrency
  reserved_concurrency               = var.reserved_concurrency.pusher
  log_retention_days                 = var.log_retention_days
  tags                               = local.tags
}

module "presence" {
  source = "../presence"
  count  = local.presence_enabled ? 1 : 0

  prefix          = var.prefix
  package         = local.lambda_packages["presence"]
  kms_key_arn     = aws_kms_key.this.arn
  presence_source = var.presence_source
  connections_table = {
    name       = module.database.table_name
    arn        = module.database.table_arn
    stream_arn = module.database.stream_arn
  }
  messages_topic_arn   = module.integration.messages_topic_arn
  messages_queue       = { arn = module.integration.messages_queue_arn, url = module.integration.messages_queue_url }
  alarm_actions        = local.dead_letter_alarm_arns
  log_retention_days   = var.log_retention_days
  reserved_concurrency = var.reserved_concurrency.presence
  tags                 = local.tags
}
