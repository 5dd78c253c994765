output "websocket_url" {
  description = "URL clients connect to."
  value       = module.sumu.websocket_url
}

output "apigw_endpoint" {
  description = "Management API base URL."
  value       = module.sumu.apigw_endpoint
}

output "notifications_topic_arn" {
  description = "Topic backends publish notification requests to."
  value       = module.sumu.notifications_topic_arn
}

output "notifications_queue_url" {
  description = "Queue backends send notification requests to."
  value       = module.sumu.notifications_queue_url
}

output "messages_topic_arn" {
  description = "Topic of user messages."
  value       = module.sumu.messages_topic_arn
}

output "messages_queue_url" {
  description = "Queue of user messages and presence events."
  value       = module.sumu.messages_queue_url
}

output "connections_table_name" {
  description = "Connections table."
  value       = module.sumu.connections_table_name
}

output "connections_table_stream_arn" {
  description = "Connections table stream."
  value       = module.sumu.connections_table_stream_arn
}

output "pipelines" {
  description = "Release pipelines by package."
  value       = module.sumu.pipelines
}

output "versions" {
  description = "Versions of the Terraform modules and of the contracts."
  value       = { terraform = module.sumu.version, contracts = module.sumu.contracts_version }
}
