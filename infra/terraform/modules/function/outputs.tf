output "function_name" {
  description = "Function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified function ARN."
  value       = aws_lambda_function.this.arn
}

output "alias_name" {
  description = "Alias name."
  value       = aws_lambda_alias.this.name
}

output "alias_arn" {
  description = "Alias ARN: what event sources, subscriptions and permissions target."
  value       = aws_lambda_alias.this.arn
}

output "alias_invoke_arn" {
  description = "Alias invoke ARN, for API Gateway integrations and authorizers."
  value       = aws_lambda_alias.this.invoke_arn
}

output "role_name" {
  description = "Execution role name."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "Execution role ARN."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Log group name."
  value       = aws_cloudwatch_log_group.this.name
}

output "runtime" {
  description = "Runtime."
  value       = aws_lambda_function.this.runtime
}

output "environment" {
  description = "Environment variables of the function (configuration, no secrets)."
  value       = var.environment
}

output "policy_statements" {
  description = "The service-specific IAM statements of the execution role."
  value       = var.policy_statements
}

output "policy" {
  description = "The execution role's policy document (JSON), as IAM receives it."
  value       = local.policy
}
