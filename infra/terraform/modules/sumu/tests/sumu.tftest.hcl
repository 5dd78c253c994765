# The root module: the seed's inputs, outputs backends need, one pipeline per package, and the
# inputs it refuses.
mock_provider "aws" {
  override_during = plan

  # Policy documents must stay valid JSON: the provider still validates the plan.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
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
    condition     = toset(keys(output.pipelines)) == toset(["authorizer", "connections", "pusher", "presence"])
    error_message = "Every service package gets its own pipeline."
  }

  assert {
    condition     = alltrue([for name, p in output.pipelines : p.trigger_paths == ["services/${name}/**", "contracts/**"]])
    error_message = "Each pipeline is triggered by its own package folder and contracts/ only."
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

run "stream_presence_needs_no_function" {
  command = plan

  variables {
    presence_source  = "stream"
    enable_pipelines = false
    github           = null
  }

  assert {
    condition     = !contains(keys(output.lambdas), "presence") && length(output.pipelines) == 0
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
    prefix               = "Acme_Prod"
    apigw_endpoint       = "http://live.example.com"
    log_retention_days   = 42
    reserved_concurrency = { pusher = -5 }
  }

  expect_failures = [var.prefix, var.apigw_endpoint, var.log_retention_days, var.reserved_concurrency]
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
