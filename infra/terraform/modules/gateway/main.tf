# The WebSocket API: route selection on the frame's `action`, a REQUEST authorizer on $connect,
# every route proxied to the connections function's alias, two-way routes returning the
# function's answer (pong, acks, error frames), stage throttling and JSON access logs.
data "aws_region" "current" {}

locals {
  route_keys = toset(["$connect", "$disconnect", "$default", "ping", "send", "publish", "subscribe", "unsubscribe"])
  # Routes whose function answer goes back to the client as a frame:
  # https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html
  two_way_route_keys = toset(["$default", "ping", "send", "publish", "subscribe", "unsubscribe"])

  management_endpoint = var.custom_domain == null ? "https://${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.name}.amazonaws.com/${var.stage_name}" : trimsuffix("https://${var.custom_domain.domain_name}/${var.custom_domain.base_path}", "/")
  websocket_url       = var.custom_domain == null ? "${aws_apigatewayv2_api.this.api_endpoint}/${var.stage_name}" : trimsuffix("wss://${var.custom_domain.domain_name}/${var.custom_domain.base_path}", "/")
}

resource "aws_apigatewayv2_api" "this" {
  name                       = "${var.prefix}-websocket"
  description                = "SUMU realtime WebSocket API"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  tags                       = var.tags
}

resource "aws_apigatewayv2_authorizer" "this" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.prefix}-jwt"
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.authorizer_lambda.alias_invoke_arn
  identity_sources = length(var.identity_sources) > 0 ? var.identity_sources : null
}

resource "aws_apigatewayv2_integration" "connections" {
  api_id                    = aws_apigatewayv2_api.this.id
  integration_type          = "AWS_PROXY"
  integration_method        = "POST"
  integration_uri           = var.connections_lambda.alias_invoke_arn
  content_handling_strategy = "CONVERT_TO_TEXT"
  passthrough_behavior      = "WHEN_NO_MATCH"
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:WebSocket APIs authorize the connection once, on $connect (CUSTOM here); the other routes run on that authorized connection and cannot take an authorizer.
  for_each = local.route_keys

  api_id                              = aws_apigatewayv2_api.this.id
  route_key                           = each.key
  target                              = "integrations/${aws_apigatewayv2_integration.connections.id}"
  authorization_type                  = each.key == "$connect" ? "CUSTOM" : "NONE"
  authorizer_id                       = each.key == "$connect" ? aws_apigatewayv2_authorizer.this.id : null
  route_response_selection_expression = contains(local.two_way_route_keys, each.key) ? "$default" : null
}

resource "aws_apigatewayv2_route_response" "this" {
  for_each = local.two_way_route_keys

  api_id             = aws_apigatewayv2_api.this.id
  route_id           = aws_apigatewayv2_route.this[each.key].id
  route_response_key = "$default"
}

resource "aws_apigatewayv2_deployment" "this" {
  count = var.deploy ? 1 : 0

  api_id      = aws_apigatewayv2_api.this.id
  description = "SUMU routes"

  # Redeploy whenever a route, its integration or the authorizer changes.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_apigatewayv2_integration.connections,
      aws_apigatewayv2_authorizer.this,
      aws_apigatewayv2_route.this,
      aws_apigatewayv2_route_response.this,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.prefix}-websocket/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# Execution logs go to a group API Gateway names itself; declaring it first gives it retention
# and encryption (API Gateway would create it with neither):
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
resource "aws_cloudwatch_log_group" "execution" {
  name              = "API-Gateway-Execution-Logs_${aws_apigatewayv2_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP backends; this API's only integration is Lambda (AWS_PROXY) and its clients authenticate with JWTs on $connect.
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  description   = "SUMU stage"
  deployment_id = var.deploy ? aws_apigatewayv2_deployment.this[0].id : null

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    logging_level            = var.execution_logging_level
    data_trace_enabled       = false
    detailed_metrics_enabled = true
  }

  # API Gateway cannot cache a WebSocket authorizer's answer, nor gate it on "query OR header"
  # (identity sources must all be present), so $connect, the only route that invokes the
  # authorizer, gets its own lower limits: they bound what token-less floods cost.
  route_settings {
    route_key              = "$connect"
    throttling_burst_limit = var.connect_throttling_burst_limit
    throttling_rate_limit  = var.connect_throttling_rate_limit
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html
    format = jsonencode({
      requestId         = "$context.requestId"
      extendedRequestId = "$context.extendedRequestId"
      requestTime       = "$context.requestTimeEpoch"
      connectionId      = "$context.connectionId"
      eventType         = "$context.eventType"
      routeKey          = "$context.routeKey"
      status            = "$context.status"
      principalId       = "$context.authorizer.principalId"
      sourceIp          = "$context.identity.sourceIp"
      userAgent         = "$context.identity.userAgent"
      error             = "$context.error.message"
      integrationError  = "$context.integration.error"
      integrationStatus = "$context.integration.status"
      latency           = "$context.integration.latency"
    })
  }

  tags = var.tags

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.execution]
}

resource "aws_lambda_permission" "connections" {
  statement_id  = "AllowWebSocketRoutes"
  action        = "lambda:InvokeFunction"
  function_name = var.connections_lambda.name
  qualifier     = var.connections_lambda.alias
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowWebSocketAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer_lambda.name
  qualifier     = var.authorizer_lambda.alias
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this.id}"
}
