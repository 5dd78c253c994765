# One pipeline per package: V2 trigger filtered on the package folder and contracts/, the
# package's buildspec, approval only for pre-releases, a deploy step that moves the alias.
mock_provider "aws" {
  override_during = plan

  # Policy documents must stay valid JSON: the provider still validates the plan.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  github = {
    owner          = "acme"
    connection_arn = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"
  }
  repository   = { name = "sumu", branch = "main" }
  s3_artifacts = { bucket = "acme-artifacts", arn = "arn:aws:s3:::acme-artifacts" }
  kms_key_arn  = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  notifications = {
    info_topic_arn  = "arn:aws:sns:us-east-1:123456789012:ci-info"
    alert_topic_arn = "arn:aws:sns:us-east-1:123456789012:ci-alert"
  }
}

run "authorizer_pipeline_watches_its_paths" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-authorizer-ci"
    package_path = "services/authorizer"
    lambda = {
      name  = "sumu-authorizer"
      arn   = "arn:aws:lambda:us-east-1:123456789012:function:sumu-authorizer"
      alias = "live"
    }
  }

  assert {
    condition     = aws_codepipeline.this.pipeline_type == "V2"
    error_message = "File-path triggers need a V2 pipeline."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths[0].includes == tolist(["services/authorizer/**", "contracts/**"])
    error_message = "The authorizer pipeline must run only for services/authorizer/** and contracts/**."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].branches[0].includes == tolist(["main"]) && aws_codepipeline.this.trigger[0].git_configuration[0].source_action_name == "Source"
    error_message = "The trigger must watch the release branch through the Source action."
  }

  assert {
    condition     = aws_codebuild_project.build.source[0].buildspec == "services/authorizer/buildspec.yml"
    error_message = "The build must run the package's own buildspec.yml."
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Approve", "Deploy"]
    error_message = "A pre-release pipeline is Source, Build, Approve, Deploy."
  }

  assert {
    condition     = strcontains(aws_codebuild_project.deploy.source[0].buildspec, "--publish") && strcontains(aws_codebuild_project.deploy.source[0].buildspec, "update-alias") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "FUNCTION_NAME=sumu-authorizer") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "ALIAS_NAME=live")
    error_message = "The deploy step must publish a version of sumu-authorizer and move its live alias."
  }

  assert {
    condition     = one(aws_codepipeline.this.artifact_store).encryption_key[0].id == var.kms_key_arn && aws_codebuild_project.build.encryption_key == var.kms_key_arn
    error_message = "Artifacts and builds must be encrypted with the stack key."
  }
}

run "connections_pipeline_watches_its_paths" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-connections-ci"
    package_path = "services/connections"
    lambda = {
      name  = "sumu-connections"
      arn   = "arn:aws:lambda:us-east-1:123456789012:function:sumu-connections"
      alias = "live"
    }
  }

  assert {
    condition     = aws_codepipeline.this.pipeline_type == "V2"
    error_message = "File-path triggers need a V2 pipeline."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths[0].includes == tolist(["services/connections/**", "contracts/**"])
    error_message = "The connections pipeline must run only for services/connections/** and contracts/**."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].branches[0].includes == tolist(["main"]) && aws_codepipeline.this.trigger[0].git_configuration[0].source_action_name == "Source"
    error_message = "The trigger must watch the release branch through the Source action."
  }

  assert {
    condition     = aws_codebuild_project.build.source[0].buildspec == "services/connections/buildspec.yml"
    error_message = "The build must run the package's own buildspec.yml."
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Approve", "Deploy"]
    error_message = "A pre-release pipeline is Source, Build, Approve, Deploy."
  }

  assert {
    condition     = strcontains(aws_codebuild_project.deploy.source[0].buildspec, "--publish") && strcontains(aws_codebuild_project.deploy.source[0].buildspec, "update-alias") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "FUNCTION_NAME=sumu-connections") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "ALIAS_NAME=live")
    error_message = "The deploy step must publish a version of sumu-connections and move its live alias."
  }

  assert {
    condition     = one(aws_codepipeline.this.artifact_store).encryption_key[0].id == var.kms_key_arn && aws_codebuild_project.build.encryption_key == var.kms_key_arn
    error_message = "Artifacts and builds must be encrypted with the stack key."
  }
}

run "pusher_pipeline_watches_its_paths" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-pusher-ci"
    package_path = "services/pusher"
    lambda = {
      name  = "sumu-pusher"
      arn   = "arn:aws:lambda:us-east-1:123456789012:function:sumu-pusher"
      alias = "live"
    }
  }

  assert {
    condition     = aws_codepipeline.this.pipeline_type == "V2"
    error_message = "File-path triggers need a V2 pipeline."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths[0].includes == tolist(["services/pusher/**", "contracts/**"])
    error_message = "The pusher pipeline must run only for services/pusher/** and contracts/**."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].branches[0].includes == tolist(["main"]) && aws_codepipeline.this.trigger[0].git_configuration[0].source_action_name == "Source"
    error_message = "The trigger must watch the release branch through the Source action."
  }

  assert {
    condition     = aws_codebuild_project.build.source[0].buildspec == "services/pusher/buildspec.yml"
    error_message = "The build must run the package's own buildspec.yml."
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Approve", "Deploy"]
    error_message = "A pre-release pipeline is Source, Build, Approve, Deploy."
  }

  assert {
    condition     = strcontains(aws_codebuild_project.deploy.source[0].buildspec, "--publish") && strcontains(aws_codebuild_project.deploy.source[0].buildspec, "update-alias") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "FUNCTION_NAME=sumu-pusher") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "ALIAS_NAME=live")
    error_message = "The deploy step must publish a version of sumu-pusher and move its live alias."
  }

  assert {
    condition     = one(aws_codepipeline.this.artifact_store).encryption_key[0].id == var.kms_key_arn && aws_codebuild_project.build.encryption_key == var.kms_key_arn
    error_message = "Artifacts and builds must be encrypted with the stack key."
  }
}

run "presence_pipeline_watches_its_paths" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-presence-ci"
    package_path = "services/presence"
    lambda = {
      name  = "sumu-presence"
      arn   = "arn:aws:lambda:us-east-1:123456789012:function:sumu-presence"
      alias = "live"
    }
  }

  assert {
    condition     = aws_codepipeline.this.pipeline_type == "V2"
    error_message = "File-path triggers need a V2 pipeline."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths[0].includes == tolist(["services/presence/**", "contracts/**"])
    error_message = "The presence pipeline must run only for services/presence/** and contracts/**."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].branches[0].includes == tolist(["main"]) && aws_codepipeline.this.trigger[0].git_configuration[0].source_action_name == "Source"
    error_message = "The trigger must watch the release branch through the Source action."
  }

  assert {
    condition     = aws_codebuild_project.build.source[0].buildspec == "services/presence/buildspec.yml"
    error_message = "The build must run the package's own buildspec.yml."
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Approve", "Deploy"]
    error_message = "A pre-release pipeline is Source, Build, Approve, Deploy."
  }

  assert {
    condition     = strcontains(aws_codebuild_project.deploy.source[0].buildspec, "--publish") && strcontains(aws_codebuild_project.deploy.source[0].buildspec, "update-alias") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "FUNCTION_NAME=sumu-presence") && contains([for v in one(aws_codebuild_project.deploy.environment).environment_variable : "${v.name}=${v.value}"], "ALIAS_NAME=live")
    error_message = "The deploy step must publish a version of sumu-presence and move its live alias."
  }

  assert {
    condition     = one(aws_codepipeline.this.artifact_store).encryption_key[0].id == var.kms_key_arn && aws_codebuild_project.build.encryption_key == var.kms_key_arn
    error_message = "Artifacts and builds must be encrypted with the stack key."
  }
}

run "release_without_approval" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name                = "sumu-pusher-ci"
    package_path        = "services/pusher"
    pre_release         = false
    extra_trigger_paths = ["uv.lock"]
    lambda = {
      name  = "sumu-pusher"
      arn   = "arn:aws:lambda:us-east-1:123456789012:function:sumu-pusher"
      alias = "live"
    }
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Deploy"]
    error_message = "A release pipeline has no approval stage."
  }

  assert {
    condition     = output.trigger_paths == ["services/pusher/**", "contracts/**", "uv.lock"]
    error_message = "Extra trigger paths are appended."
  }
}

run "rejects_a_non_codestar_connection" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-pusher-ci"
    package_path = "services/pusher/"
    github       = { owner = "acme", connection_arn = "arn:aws:iam::123456789012:role/github" }
    lambda       = { name = "sumu-pusher", arn = "arn:aws:lambda:us-east-1:123456789012:function:sumu-pusher", alias = "live" }
  }

  expect_failures = [var.github, var.package_path]
}
