# The WebSocket API: routes, route selection, authorizer, two-way routes, stage settings, domain.
mock_provider "aws" {
  override_during = plan

  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

override_resource {
  target          = aws_apigatewayv2_api.this
  override_during = plan
  values          = { id = "abc123", api_endpoint = "wss://abc123.execute-api.us-east-1.amazonaws.com", execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123" }
}

override_resource {
  target          = aws_apigatewayv2_authorizer.this
  override_during = plan
  values          = { id = "auth42" }
}

override_resource {
  target          = aws_apigatewayv2_integration.connections
  override_during = plan
  values          = { id = "int7" }
}

variables {
  prefix      = "test"
  stage_name  = "mvp"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  connections_lambda = {
    name             = "test-connections"
    alias            = "live"
    alias_invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:test-connections:live/invocations"
  }
  authorizer_lambda = {
    name             = "test-authorizer"
    alias            = "live"
    alias_invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:test-authorizer:live/invocations"
  }
}

run "routes_and_selection" {
  command = plan

  module {
    source = "../gateway"
  }

  assert {
    condition     = aws_apigatewayv2_api.this.protocol_type == "WEBSOCKET" && aws_apigatewayv2_api.this.route_selection_expression == "$request.body.action"
    error_message = "A WebSocket API selecting routes on the frame's action is required."
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.this)) == toset(["$connect", "$disconnect", "$default", "ping", "send", "publish", "subscribe", "unsubscribe"])
    error_message = "The routes must be exactly $connect, $disconnect, $default, ping, send, publish, subscribe and unsubscribe."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.target == "integrations/int7"])
    error_message = "Every route must target the connections integration."
  }

  assert {
    condition     = aws_apigatewayv2_route.this["$connect"].authorization_type == "CUSTOM" && aws_apigatewayv2_route.this["$connect"].authorizer_id == "auth42"
    error_message = "$connect must run the REQUEST authorizer."
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route_response.this)) == toset(["$default", "ping", "send", "publish", "subscribe", "unsubscribe"]) && alltrue([for k in ["$default", "ping", "send", "publish", "subscribe", "unsubscribe"] : aws_apigatewayv2_route.this[k].route_response_selection_expression == "$default"])
    error_message = "ping, send, publish, subscribe, unsubscribe and $default must be two-way routes (acks and error frames are route responses)."
  }

  assert {
    condition     = aws_apigatewayv2_route.this["$disconnect"].route_response_selection_expression == null
    error_message = "$disconnect cannot answer the client."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this.authorizer_type == "REQUEST" && aws_apigatewayv2_authorizer.this.identity_sources == null && aws_apigatewayv2_authorizer.this.authorizer_uri == var.authorizer_lambda.alias_invoke_arn
    error_message = "The authorizer must be a REQUEST authorizer with no identity-source gate (it reads ?authorization= or the Authorization header itself) invoking the authorizer alias."
  }

  assert {
    condition     = aws_apigatewayv2_integration.connections.integration_type == "AWS_PROXY" && aws_apigatewayv2_integration.connections.integration_uri == var.connections_lambda.alias_invoke_arn
    error_message = "Routes must proxy to the connections alias."
  }

  assert {
    condition     = aws_lambda_permission.connections.qualifier == "live" && aws_lambda_permission.authorizer.qualifier == "live" && aws_lambda_permission.authorizer.source_arn == "arn:aws:execute-api:us-east-1:123456789012:abc123/authorizers/auth42"
    error_message = "API Gateway must be allowed to invoke the aliases, the authorizer only from its authorizer."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 500 && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 1000
    error_message = "The stage must be throttled."
  }

  assert {
    condition     = can(jsondecode(aws_apigatewayv2_stage.this.access_log_settings[0].format).connectionId) && aws_cloudwatch_log_group.access.retention_in_days == 365 && aws_cloudwatch_log_group.access.kms_key_id == var.kms_key_arn
    error_message = "Access logs must be JSON, kept 365 days by default and encrypted."
  }

  assert {
    condition     = output.websocket_url == "wss://abc123.execute-api.us-east-1.amazonaws.com/mvp" && output.management_endpoint == "https://abc123.execute-api.us-east-1.amazonaws.com/mvp"
    error_message = "Without a custom domain the URLs are the execute-api ones with the stage."
  }

  assert {
    condition     = length(aws_apigatewayv2_domain_name.this) == 0 && length(aws_apigatewayv2_deployment.this) == 1
    error_message = "No domain without custom_domain; a deployment by default."
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution.name == "API-Gateway-Execution-Logs_abc123/mvp" && aws_cloudwatch_log_group.execution.retention_in_days == 365 && aws_cloudwatch_log_group.execution.kms_key_id == var.kms_key_arn
    error_message = "Execution logs get their group declared up front (API Gateway's own name for it) with retention and encryption."
  }

  assert {
    condition     = one([for r in aws_apigatewayv2_stage.this.route_settings : r if r.route_key == "$connect"]).throttling_rate_limit == 100 && one([for r in aws_apigatewayv2_stage.this.route_settings : r if r.route_key == "$connect"]).throttling_burst_limit == 200
    error_message = "$connect, the only route invoking the authorizer, is throttled below the stage (authorizer results cannot be cached and identity sources cannot say query OR header)."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.apigw_logs) == 0
    error_message = "The region's API Gateway account logging role is one per account: opt-in, off by default."
  }
}

run "account_logging_role_opt_in" {
  command = plan

  module {
    source = "../gateway"
  }

  variables {
    manage_account_logging_role = true
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 1 && jsondecode(aws_iam_role.apigw_logs[0].assume_role_policy).Statement[0].Principal.Service == "apigateway.amazonaws.com"
    error_message = "Opting in creates the role API Gateway assumes and sets it on the account."
  }

  assert {
    condition     = jsonencode(jsondecode(aws_iam_role_policy.apigw_logs[0].policy).Statement[0].Resource) == jsonencode(["arn:aws:logs:us-east-1:123456789012:log-group:*"]) && alltrue([for a in jsondecode(aws_iam_role_policy.apigw_logs[0].policy).Statement[0].Action : startswith(a, "logs:") && !strcontains(a, "*")])
    error_message = "The account role names its CloudWatch Logs actions, on this account and region's log groups."
  }
}

run "custom_domain" {
  command = plan

  module {
    source = "../gateway"
  }

  variables {
    custom_domain = {
      domain_name     = "live.example.com"
      certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
      route53_zone_id = "Z123"
      base_path       = "push"
    }
  }

  assert {
    condition     = output.websocket_url == "wss://live.example.com/push" && output.management_endpoint == "https://live.example.com/push"
    error_message = "With a custom domain the URLs use the domain and base path."
  }

  assert {
    condition     = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].security_policy == "TLS_1_2" && aws_apigatewayv2_api_mapping.this[0].api_mapping_key == "push" && aws_route53_record.this[0].name == "live.example.com"
    error_message = "The custom domain needs TLS 1.2, the base path mapping and an alias record."
  }
}

run "rejects_a_certificate_that_is_not_acm" {
  command = plan

  module {
    source = "../gateway"
  }

  variables {
    custom_domain = {
      domain_name     = "live.example.com"
      certificate_arn = "not-an-arn"
      route53_zone_id = "Z123"
    }
  }

  expect_failures = [var.custom_domain]
}

run "rejects_a_header_free_identity_source" {
  command = plan

  module {
    source = "../gateway"
  }

  variables {
    identity_sources = ["$request.querystring.token"]
  }

  expect_failures = [var.identity_sources]
}
