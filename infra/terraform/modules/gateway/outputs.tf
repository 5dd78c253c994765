output "api_id" {
  description = "WebSocket API ID."
  value       = aws_apigatewayv2_api.this.id
}

output "execution_arn" {
  description = "WebSocket API execution ARN (scopes execute-api permissions)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "Stage name."
  value       = aws_apigatewayv2_stage.this.name
}

output "websocket_url" {
  description = "URL clients connect to (custom domain when one is set)."
  value       = local.websocket_url
}

output "management_endpoint" {
  description = "Management API base URL (POST @connections/{id}); the pusher's APIGW_ENDPOINT."
  value       = local.management_endpoint
}

output "route_keys" {
  description = "Route keys of the API."
  value       = sort(keys(aws_apigatewayv2_route.this))
}

output "access_log_group_name" {
  description = "Log group of the stage's JSON access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "authorizer_id" {
  description = "ID of the $connect REQUEST authorizer."
  value       = aws_apigatewayv2_authorizer.this.id
}

output "execution_log_group_name" {
  description = "Log group of the stage's execution logs (API-Gateway-Execution-Logs_{api-id}/{stage})."
  value       = aws_cloudwatch_log_group.execution.name
}
