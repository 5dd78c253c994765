# The seed's outputs first, with the same shapes.
output "ws_api_id" {
  description = "WebSocket API ID."
  value       = module.sumu.ws_api_id
}

output "ws_api_stage_name" {
  description = "WebSocket API stage name."
  value       = module.sumu.ws_api_stage_name
}

output "notifications" {
  description = "Input of the stack: the topic (name, arn) and queue (name, arn, url) backends send notification requests to."
  value       = module.sumu.notifications
}

output "messages" {
  description = "Output of the stack: the topic (name, arn) and queue (name, arn, url) carrying user messages and presence events."
  value       = module.sumu.messages
}

output "connections_table" {
  description = "The connections table: name, arn, stream_arn."
  value       = module.sumu.connections_table
}

# Beyond the seed.
output "websocket_url" {
  description = "URL clients connect to, with `?authorization=<JWT>`."
  value       = module.sumu.websocket_url
}

output "kms_key_arn" {
  description = "Key encrypting the stack; backends publishing to the topics or queues need kms:GenerateDataKey and kms:Decrypt on it."
  value       = module.sumu.kms_key_arn
}

output "pipelines" {
  description = "Release pipelines, by package: name, trigger paths, source and deploy project."
  value       = module.sumu.pipelines
}

output "ci_notification_topic_arns" {
  description = "SNS topics of the pipelines' info and alert notifications (modules/chatbot's topic_arns)."
  value       = module.sumu.ci_notification_topic_arns
}

output "uses_placeholder_packages" {
  description = "True when the functions started from the placeholder package."
  value       = module.sumu.uses_placeholder_packages
}

output "version" {
  description = "Version of these Terraform modules."
  value       = module.sumu.version
}
