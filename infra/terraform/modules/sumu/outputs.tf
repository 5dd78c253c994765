output "version" {
  description = "Version of these Terraform modules (infra/terraform/VERSION)."
  value       = local.version
}

output "contracts_version" {
  description = "Version of sumu-contracts backends must speak (null when the contracts package is not beside the modules)."
  value       = local.contracts_version
}

output "websocket_url" {
  description = "URL clients connect to, with `?authorization=<JWT>`."
  value       = module.gateway.websocket_url
}

output "apigw_endpoint" {
  description = "Management API base URL the pusher posts to."
  value       = coalesce(var.apigw_endpoint, module.gateway.management_endpoint)
}

output "ws_api_id" {
  description = "WebSocket API ID."
  value       = module.gateway.api_id
}

output "ws_api_stage_name" {
  description = "WebSocket API stage name."
  value       = module.gateway.stage_name
}

output "connections_table_name" {
  description = "Connections table name."
  value       = module.database.table_name
}

output "connections_table_stream_arn" {
  description = "Connections table stream ARN (read it directly with presence_source = stream)."
  value       = module.database.stream_arn
}

output "subscriptions_table_name" {
  description = "Subscriptions table name (one item per channel and connection)."
  value       = module.database.subscriptions_table_name
}

output "notifications_topic_arn" {
  description = "SNS topic backends publish notification requests to."
  value       = module.integration.notifications_topic_arn
}

output "notifications_queue_url" {
  description = "SQS queue URL backends send notification requests to."
  value       = module.integration.notifications_queue_url
}

output "notifications_queue_arn" {
  description = "SQS queue ARN backends send notification requests to."
  value       = module.integration.notifications_queue_arn
}

output "notifications_dlq_url" {
  description = "Dead-letter queue of notification requests."
  value       = module.integration.notifications_dlq_url
}

output "messages_topic_arn" {
  description = "SNS topic of user messages (and presence events when presence_source = topic)."
  value       = module.integration.messages_topic_arn
}

output "messages_queue_url" {
  description = "SQS queue URL of user messages (and presence events when presence_source = queue)."
  value       = module.integration.messages_queue_url
}

output "messages_queue_arn" {
  description = "SQS queue ARN of user messages (and presence events when presence_source = queue)."
  value       = module.integration.messages_queue_arn
}

output "messages_dlq_url" {
  description = "Dead-letter queue of backend messages."
  value       = module.integration.messages_dlq_url
}

output "presence_source" {
  description = "Where presence events are delivered."
  value       = var.presence_source
}

output "kms_key_arn" {
  description = "Key encrypting the stack; backends publishing to the topics or queues need kms:GenerateDataKey and kms:Decrypt on it."
  value       = aws_kms_key.this.arn
}

output "lambdas" {
  description = "The functions, by service: name, ARN, alias and alias ARN."
  value = merge(
    {
      authorizer  = module.authorizer.lambda
      connections = module.connections.lambda
      pusher      = module.pusher.lambda
    },
    local.presence_enabled ? { presence = module.presence[0].lambda } : {},
  )
}

output "pipelines" {
  description = "Release pipelines, by package: name, trigger paths, source (repository, branch, buildspec) and deploy project (null when no function is released)."
  value = { for k, p in module.pipeline : k => {
    name           = p.pipeline_name
    trigger_paths  = p.trigger_paths
    source         = p.source
    deploy_project = p.deploy_project_name
  } }
}

output "ci_notification_topic_arns" {
  description = "SNS topics of the pipelines' info and alert notifications."
  value       = { for k, t in aws_sns_topic.ci : k => t.arn }
}

output "uses_placeholder_packages" {
  description = "True when the functions started from the placeholder package (no lambda_packages): they refuse every request until each pipeline's first release."
  value       = local.uses_placeholders
}

output "policies" {
  description = "The execution role policy of each function (JSON), by service."
  value = merge(
    {
      authorizer  = module.authorizer.policy
      connections = module.connections.policy
      pusher      = module.pusher.policy
    },
    local.presence_enabled ? { presence = module.presence[0].policy } : {},
  )
}

output "connections_table" {
  description = "The connections table: name, ARN and stream ARN."
  value = {
    name       = module.database.table_name
    arn        = module.database.table_arn
    stream_arn = module.database.stream_arn
  }
}

output "notifications" {
  description = "Where backends send notification requests: the topic (name, ARN) and the queue (name, ARN, URL)."
  value       = module.integration.channels["notifications"]
}

output "messages" {
  description = "Where backends receive user messages (and presence events): the topic (name, ARN) and the queue (name, ARN, URL)."
  value       = module.integration.channels["messages"]
}
