output "table_name" {
  description = "Connections table name (CONNECTIONS_TABLE_NAME)."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "Connections table ARN."
  value       = aws_dynamodb_table.this.arn
}

output "stream_arn" {
  description = "Connections table stream ARN (INSERT / REMOVE with new and old images)."
  value       = aws_dynamodb_table.this.stream_arn
}

output "ttl_attribute" {
  description = "Name of the TTL attribute (epoch seconds, Number)."
  value       = local.ttl_attribute
}

output "subscriptions_table_name" {
  description = "Subscriptions table name (SUBSCRIPTIONS_TABLE_NAME)."
  value       = aws_dynamodb_table.subscriptions.name
}

output "subscriptions_table_arn" {
  description = "Subscriptions table ARN."
  value       = aws_dynamodb_table.subscriptions.arn
}

output "subscriptions_by_connection_index_arn" {
  description = "ARN of the subscriptions table's by_connection index (a connection's channels)."
  value       = "${aws_dynamodb_table.subscriptions.arn}/index/${local.subscriptions_by_connection_index}"
}

output "history_table_name" {
  description = "Channel history table (issue 18): channel / seq, TTL on delete_at."
  value       = aws_dynamodb_table.history.name
}

output "history_table_arn" {
  description = "Channel history table ARN."
  value       = aws_dynamodb_table.history.arn
}

output "idempotency_table_name" {
  description = "Idempotency table (issue 18): key, TTL on delete_at."
  value       = aws_dynamodb_table.idempotency.name
}

output "idempotency_table_arn" {
  description = "Idempotency table ARN."
  value       = aws_dynamodb_table.idempotency.arn
}
