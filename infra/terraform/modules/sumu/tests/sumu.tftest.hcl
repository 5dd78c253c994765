# The root module: the seed's inputs, outputs backends need, one pipeline per package, and the
# inputs it refuses.
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

variables {
  prefix      = "acme-test-sumu"
  common_tags = { team = "platform" }
  lambda_packages = {
    authorizer  = { s3_bucket = "acme-artifacts", s3_key = "authorizer.zip" }
    connections = { s3_bucket = "acme-artifacts", s3_key = "connections.zip" }
    pusher      = { s3_bucket = "acme-artifacts", s3_key = "pusher.zip" }
    presence    = { s3_bucket = "acme-artifacts", s3_key = "presence.zip" }
  }
  issuer_jwks_uri         = "https://www.googleapis.com/service_accounts/v1/metadata/x509/securetoken@system.gserviceaccount.com"
  authorized_audiences    = ["sumu-websocket"]
  verify_token_expiration = true
  s3_artifacts            = { bucket = "acme-artifacts", arn = "arn:aws:s3:::acme-artifacts" }
  github = {
    owner          = "acme"
    webhook_secret = "not-secret"
    connection_arn = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"
  }
  github_repository               = { name = "sumu", branch = "main" }
  ci_notifications_slack_channels = { info = "ci-info", alert = "ci-alert" }
  stage_name                      = "mvp"
  apigw_endpoint                  = "https://live.example.com/push"
  presence_source                 = "queue"
}

run "seed_inputs_plan" {
  command = plan

  assert {
    condition     = output.version == trimspace(file("../../VERSION"))
    error_message = "The module must report infra/terraform/VERSION."
  }

  assert {
    condition     = output.contracts_version == regex("(?m)^version\\s*=\\s*\"([^\"]+)\"", file("../../../../contracts/pyproject.toml"))[0]
    error_message = "The module must report the sumu-contracts version."
  }

  assert {
    condition     = toset(keys(output.pipelines)) == toset(["authorizer", "connections", "pusher", "presence", "contracts", "infra", "local"])
    error_message = "Every package gets its own pipeline: the four services, contracts, infra/terraform (infra) and infra/local (local)."
  }

  assert {
    condition     = alltrue([for name in ["authorizer", "connections", "pusher", "presence"] : jsonencode(output.pipelines[name].trigger_paths) == jsonencode(["services/${name}/**", "contracts/**", "tools/**", "testing/**", "pyproject.toml", "uv.lock", "Makefile"]) && output.pipelines[name].deploy_project != null])
    error_message = "Each service pipeline is triggered by its own folder and what builds every package, and releases its function."
  }

  assert {
    condition     = jsonencode(output.pipelines.infra.trigger_paths) == jsonencode(["infra/terraform/**", "contracts/**", "tools/**", "testing/**", "pyproject.toml", "uv.lock", "Makefile"]) && output.pipelines.local.trigger_paths[1] == "services/**" && output.pipelines.infra.deploy_project == null && output.pipelines.contracts.deploy_project == null
    error_message = "The local-stack pipeline also runs for the services it serves; neither it nor the Terraform one releases a function."
  }

  assert {
    condition     = aws_sns_topic.ci["info"].name == "acme-test-sumu-ci-info" && aws_sns_topic.ci["alert"].name == "acme-test-sumu-ci-alert"
    error_message = "The CI topics are <prefix>-ci-info and <prefix>-ci-alert, not -ci-ci-."
  }

  assert {
    condition     = !contains([for st in jsondecode(aws_kms_key.this.policy).Statement : st.Sid], "OtherAccountsPublishNotificationRequests")
    error_message = "No other account may use the key unless listed."
  }

  assert {
    condition     = output.apigw_endpoint == "https://live.example.com/push" && output.presence_source == "queue"
    error_message = "The seed's apigw_endpoint and presence_source must pass through."
  }

  assert {
    condition     = toset(keys(output.lambdas)) == toset(["authorizer", "connections", "pusher", "presence"])
    error_message = "All four functions are deployed when presence goes to a queue."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "The stack key must rotate."
  }
}

run "other_accounts_may_encrypt_through_sns_and_sqs" {
  command = plan

  variables {
    publisher_account_ids = ["210987654321"]
  }

  assert {
    condition = jsonencode([for st in jsondecode(aws_kms_key.this.policy).Statement : st if st.Sid == "OtherAccountsPublishNotificationRequests"]) == jsonencode([{
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Condition = { StringEquals = { "kms:ViaService" = ["sns.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"] } }
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::210987654321:root"] }
      Resource  = "*"
      Sid       = "OtherAccountsPublishNotificationRequests"
    }])
    error_message = "A listed account may use the key for SNS and SQS only, to publish notification requests."
  }
}

run "placeholder_package_without_lambda_packages" {
  command = plan

  variables {
    lambda_packages = null
  }

  assert {
    condition     = output.uses_placeholder_packages
    error_message = "Without lambda_packages the functions start from the placeholder package."
  }
}

run "rejects_a_ttl_below_two_hours_and_bad_channels" {
  command = plan

  variables {
    connection_ttl_seconds          = 600
    ci_notifications_slack_channels = { info = "#ci", alert = "#ci" }
    service_repositories            = { contracts = { name = "contracts", branch = "main" } }
  }

  expect_failures = [var.connection_ttl_seconds, var.ci_notifications_slack_channels, var.service_repositories]
}

run "stream_presence_needs_no_function" {
  command = plan

  variables {
    presence_source  = "stream"
    enable_pipelines = false
    github           = null
  }

  assert {
    condition     = !contains(keys(output.lambdas), "presence") && length(output.pipelines) == 0 && !contains(keys(output.policies), "presence")
    error_message = "With presence_source = stream backends read the table stream; no presence function, and no pipelines when disabled."
  }
}

run "rejects_carrier_pigeon_presence" {
  command = plan

  variables {
    presence_source = "carrier-pigeon"
  }

  expect_failures = [var.presence_source]
}

run "rejects_bad_names_and_urls" {
  command = plan

  variables {
    prefix                = "Acme_Prod"
    apigw_endpoint        = "http://live.example.com"
    log_retention_days    = 42
    reserved_concurrency  = { pusher = -5 }
    publisher_account_ids = ["12345"]
  }

  expect_failures = [var.prefix, var.apigw_endpoint, var.log_retention_days, var.reserved_concurrency, var.publisher_account_ids]
}

run "rejects_missing_packages" {
  command = plan

  variables {
    lambda_packages = {
      authorizer = { file = "authorizer.zip" }
    }
  }

  expect_failures = [var.lambda_packages]
}

run "pipelines_need_github" {
  command = plan

  variables {
    github = null
  }

  expect_failures = [terraform_data.ci_inputs]
}

run "channels_reach_the_functions" {
  command = plan

  variables {
    channels_claim          = "rooms"
    public_channels         = ["public:*", "lobby"]
    channels_per_connection = 20
  }

  assert {
    condition     = output.subscriptions_table_name == "acme-test-sumu-subscriptions" && module.database.subscriptions_table_name == module.connections.environment.SUBSCRIPTIONS_TABLE_NAME && module.database.subscriptions_table_name == module.pusher.environment.SUBSCRIPTIONS_TABLE_NAME
    error_message = "The connections and pusher functions must both get the subscriptions table."
  }

  assert {
    # The queue's URL is known only after apply (tests/moto checks it there); its wiring is the
    # pusher module's (functions.tftest.hcl asserts the whole environment).
    condition     = module.pusher.environment.PUSHER_BROADCAST_SEGMENTS == "auto" && module.pusher.environment.PUSHER_CHANNEL_SPLIT_SUBSCRIBERS == "auto"
    error_message = "The pusher's broadcasts and large channels are split automatically by default (issue 19)."
  }

  assert {
    condition     = module.authorizer.environment.JWT_CHANNELS_CLAIM == "rooms" && module.connections.environment.SUMU_PUBLIC_CHANNELS == "public:*,lobby" && module.connections.environment.CHANNELS_PER_CONNECTION == "20"
    error_message = "channels_claim goes to the authorizer; public_channels and channels_per_connection to connections."
  }

  assert {
    condition     = contains(module.gateway.route_keys, "subscribe") && contains(module.gateway.route_keys, "unsubscribe")
    error_message = "The WebSocket API must route subscribe and unsubscribe (to the connections function)."
  }
}
