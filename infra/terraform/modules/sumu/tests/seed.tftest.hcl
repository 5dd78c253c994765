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
