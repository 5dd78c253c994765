# The seed README's block (tests/seed/main.tf, verbatim except `source`) plans against the
# drop-in modules/serverless: services named in github_repository build from their own
# repositories, everything else from the monorepo, and the functions start from the placeholder.
mock_provider "aws" {
  override_during = plan
}

run "seed_readme_block_plans" {
  command = plan

  module {
    source = "../../tests/seed"
  }

  assert {
    condition     = output.seed.ws_api_stage_name == "mvp" && contains(keys(output.seed), "ws_api_id")
    error_message = "The seed's ws_api_id and ws_api_stage_name outputs must be there."
  }

  assert {
    condition     = output.seed.notifications.queue.name == "kodhive-prod-sumu-notifications" && output.seed.notifications.topic.name == "kodhive-prod-sumu-notifications" && output.seed.messages.queue.name == "kodhive-prod-sumu-messages" && output.seed.messages.topic.name == "kodhive-prod-sumu-messages"
    error_message = "The seed's notifications and messages outputs must give the topic and the queue."
  }

  assert {
    condition     = toset(keys(output.seed.notifications.queue)) == toset(["name", "arn", "url"]) && toset(keys(output.seed.connections_table)) == toset(["name", "arn", "stream_arn"]) && output.seed.connections_table.name == "kodhive-prod-sumu-connections"
    error_message = "The outputs must keep the seed's shapes (queue name/arn/url, table name/arn/stream_arn)."
  }

  assert {
    condition     = output.pipelines.authorizer.source == { repository = "obytes/apigw-jwt-authorizer", branch = "main", buildspec = "buildspec.yml" } && length(output.pipelines.authorizer.trigger_paths) == 0
    error_message = "The authorizer, named in github_repository, must build from its own repository and branch (every push)."
  }

  assert {
    condition     = output.pipelines.pusher.source.repository == "obytes/apigw-websocket-pusher" && output.pipelines.pusher.deploy_project != null
    error_message = "The pusher must build from its own repository and still be released by its pipeline."
  }

  assert {
    condition     = output.pipelines.connections.source == { repository = "obytes/sumu", branch = "main", buildspec = "services/connections/buildspec.yml" } && output.pipelines.presence.source.repository == "obytes/sumu"
    error_message = "Services not named in github_repository build from the monorepo (default obytes/sumu, main)."
  }

  assert {
    condition     = toset(keys(output.pipelines)) == toset(["authorizer", "connections", "pusher", "presence", "contracts", "infra", "local"])
    error_message = "Every package gets a pipeline: the four services, contracts, infra/terraform and infra/local."
  }

  assert {
    condition     = output.uses_placeholder_packages
    error_message = "Without lambda_packages the functions start from the placeholder package."
  }
}

run "seed_module_variable_name_and_packages" {
  command = plan

  module {
    source = "../serverless"
  }

  variables {
    prefix                  = "acme-test-sumu"
    issuer_jwks_uri         = "https://www.googleapis.com/service_accounts/v1/metadata/x509/securetoken@system.gserviceaccount.com"
    authorized_audiences    = ["sumu-websocket"]
    verify_token_expiration = true
    s3_artifacts            = { bucket = "acme-artifacts", arn = "arn:aws:s3:::acme-artifacts" }
    github                  = { owner = "acme", webhook_secret = "not-secret", connection_arn = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc" }
    github_repositories     = { pusher = { name = "our-pusher", branch = "release" } }
    monorepo                = { name = "realtime", branch = "trunk" }
    lambda_packages = {
      authorizer  = { s3_bucket = "acme-artifacts", s3_key = "authorizer.zip" }
      connections = { s3_bucket = "acme-artifacts", s3_key = "connections.zip" }
      pusher      = { s3_bucket = "acme-artifacts", s3_key = "pusher.zip" }
      presence    = { s3_bucket = "acme-artifacts", s3_key = "presence.zip" }
    }
  }

  assert {
    condition     = output.pipelines.pusher.source.repository == "acme/our-pusher" && output.pipelines.pusher.source.branch == "release" && output.pipelines.authorizer.source.repository == "acme/realtime" && output.pipelines.authorizer.source.branch == "trunk"
    error_message = "github_repositories (the seed module's own name) keeps the pusher in its repository; the rest builds from the monorepo given."
  }

  assert {
    condition     = !output.uses_placeholder_packages
    error_message = "Given lambda_packages, the functions start from them."
  }
}

run "seed_repository_inputs_are_one_or_the_other" {
  command = plan

  module {
    source = "../serverless"
  }

  variables {
    prefix               = "acme-test-sumu"
    issuer_jwks_uri      = "https://issuer.example.com/.well-known/jwks.json"
    authorized_audiences = ["sumu-websocket"]
    s3_artifacts         = { bucket = "acme-artifacts", arn = "arn:aws:s3:::acme-artifacts" }
    github               = { owner = "acme", connection_arn = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc" }
    github_repositories  = { pusher = { name = "our-pusher", branch = "main" } }
    github_repository    = { pusher = { name = "their-pusher", branch = "main" } }
  }

  expect_failures = [terraform_data.repositories]
}

run "chatbot_in_a_supported_region" {
  command = plan

  module {
    source = "../chatbot"
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-east-2" }
  }

  variables {
    prefix            = "acme-test-sumu"
    slack_team_id     = "T0001"
    slack_channel_ids = { info = "C0001", alert = "C0002" }
    topic_arns = {
      info  = "arn:aws:sns:eu-central-1:123456789012:acme-test-sumu-ci-info"
      alert = "arn:aws:sns:eu-central-1:123456789012:acme-test-sumu-ci-alert"
    }
  }

  assert {
    condition     = aws_chatbot_slack_channel_configuration.this["alert"].sns_topic_arns == toset(["arn:aws:sns:eu-central-1:123456789012:acme-test-sumu-ci-alert"]) && aws_chatbot_slack_channel_configuration.this["alert"].slack_channel_id == "C0002"
    error_message = "Each Slack channel relays its own topic, which may live in another region."
  }
}

run "chatbot_refuses_an_unsupported_region" {
  command = plan

  module {
    source = "../chatbot"
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-east-1" }
  }

  variables {
    prefix            = "acme-test-sumu"
    slack_team_id     = "T0001"
    slack_channel_ids = { info = "C0001", alert = "C0002" }
    topic_arns = {
      info  = "arn:aws:sns:us-east-1:123456789012:acme-test-sumu-ci-info"
      alert = "arn:aws:sns:us-east-1:123456789012:acme-test-sumu-ci-alert"
    }
  }

  expect_failures = [aws_chatbot_slack_channel_configuration.this]
}
