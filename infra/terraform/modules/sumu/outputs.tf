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
  description = "Release pipelines, by service: name and trigger paths."
  value       = { for k, p in module.pipeline : k => { name = p.pipeline_name, trigger_paths = p.trigger_paths } }
}

output "ci_notification_topic_arns" {
  description = "SNS topics of the pipelines' info and alert notifications."
  value       = { for k, t in aws_sns_topic.ci : k => t.arn }
}
