output "lambda" {
  description = "The function: name, ARN, alias, alias ARN and invoke ARN, runtime."
  value = {
    name             = module.function.function_name
    arn              = module.function.function_arn
    alias            = module.function.alias_name
    alias_arn        = module.function.alias_arn
    alias_invoke_arn = module.function.alias_invoke_arn
    runtime          = module.function.runtime
    role_name        = module.function.role_name
  }
}

output "failures_queue_url" {
  description = "Queue keeping stream records that failed every retry."
  value       = aws_sqs_queue.failures.id
}

output "connections_stream_mapping_uuid" {
  description = "UUID of the table stream event source mapping."
  value       = aws_lambda_event_source_mapping.connections_stream.uuid
}

output "environment" {
  description = "Environment variables of the function (DESIGN.md section 3)."
  value       = module.function.environment
}

output "policy_statements" {
  description = "Service-specific IAM statements of the execution role."
  value       = module.function.policy_statements
}

output "policy" {
  description = "The execution role's whole policy document (JSON)."
  value       = module.function.policy
}
