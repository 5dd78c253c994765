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
