# One pipeline per package: V2 trigger filtered on the package folder and what builds every
# package (within CodePipeline's 8 patterns), the package's buildspec, approval only for
# pre-releases, a deploy step that waits for the code update before publishing; build-only
# pipelines for packages without a function (contracts with a full clone); a team's own service
# repository; the roles' real policies.
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
  target          = aws_codebuild_project.build
  override_during = plan
  values          = { arn = "arn:aws:codebuild:us-east-1:123456789012:project/test-build" }
}

override_resource {
  target          = aws_codebuild_project.deploy
  override_during = plan
  values          = { arn = "arn:aws:codebuild:us-east-1:123456789012:project/test-deploy" }
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
  name         = "sumu-pusher-ci"
  package_path = "services/pusher"
  lambda = {
    name  = "sumu-pusher"
    arn   = "arn:aws:lambda:us-east-1:123456789012:function:sumu-pusher"
    alias = "live"
  }
}

run "service_pipeline" {
  command = plan

  module {
    source = "../pipeline"
  }

  assert {
    condition     = aws_codepipeline.this.pipeline_type == "V2"
    error_message = "File-path triggers need a V2 pipeline."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths[0].includes == tolist(["services/pusher/**", "contracts/**", "tools/**", "testing/**", "pyproject.toml", "uv.lock", "Makefile"])
    error_message = "The pusher pipeline runs for its folder and what builds every package: contracts/, tools/, testing/, pyproject.toml, uv.lock and the Makefile."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].branches[0].includes == tolist(["main"]) && aws_codepipeline.this.trigger[0].git_configuration[0].source_action_name == "Source"
    error_message = "The trigger must watch the release branch through the Source action."
  }

  assert {
    condition     = aws_codebuild_project.build.source[0].buildspec == "services/pusher/buildspec.yml" && aws_codepipeline.this.stage[0].action[0].configuration.OutputArtifactFormat == "CODE_ZIP" && aws_codepipeline.this.stage[0].action[0].configuration.FullRepositoryId == "acme/sumu"
    error_message = "The build runs the package's own buildspec.yml on a zip of the monorepo's commit."
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Approve", "Deploy"]
    error_message = "A pre-release pipeline is Source, Build, Approve, Deploy."
  }

  assert {
    condition = (
      strcontains(aws_codebuild_project.deploy[0].source[0].buildspec, "aws lambda wait function-updated") &&
      !strcontains(aws_codebuild_project.deploy[0].source[0].buildspec, "--publish") &&
      length(split("aws lambda wait function-updated", aws_codebuild_project.deploy[0].source[0].buildspec)[0]) < length(split("aws lambda publish-version", aws_codebuild_project.deploy[0].source[0].buildspec)[0]) &&
      length(split("aws lambda publish-version", aws_codebuild_project.deploy[0].source[0].buildspec)[0]) < length(split("aws lambda update-alias", aws_codebuild_project.deploy[0].source[0].buildspec)[0])
    )
    error_message = "The deploy updates the code, waits for the update to finish (function-updated), then publishes, then moves the alias."
  }

  assert {
    condition     = contains([for v in one(aws_codebuild_project.deploy[0].environment).environment_variable : "${v.name}=${v.value}"], "FUNCTION_NAME=sumu-pusher") && contains([for v in one(aws_codebuild_project.deploy[0].environment).environment_variable : "${v.name}=${v.value}"], "ALIAS_NAME=live")
    error_message = "The deploy step releases sumu-pusher's live alias."
  }

  assert {
    condition     = one(aws_codepipeline.this.artifact_store).encryption_key[0].id == var.kms_key_arn && aws_codebuild_project.build.encryption_key == var.kms_key_arn
    error_message = "Artifacts and builds must be encrypted with the stack key."
  }

  assert {
    condition     = jsonencode([for st in jsondecode(aws_iam_role_policy.codebuild["deploy"].policy).Statement : st if st.Sid == "ReleaseFunction"][0].Resource) == jsonencode([var.lambda.arn, "${var.lambda.arn}:*"])
    error_message = "The deploy role may release only this function (and its versions and alias)."
  }

  assert {
    condition     = !contains([for st in jsondecode(aws_iam_role_policy.codebuild["build"].policy).Statement : st.Sid], "CloneThroughConnection") && !contains([for st in jsondecode(aws_iam_role_policy.codebuild["build"].policy).Statement : st.Sid], "ReleaseFunction")
    error_message = "The build role neither clones through the connection (a zip is enough) nor touches the function."
  }

  assert {
    condition     = jsonencode([for st in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : st if st.Sid == "RunBuilds"][0].Resource) == jsonencode(["arn:aws:codebuild:us-east-1:123456789012:project/test-build", "arn:aws:codebuild:us-east-1:123456789012:project/test-deploy"])
    error_message = "The pipeline may start only its own two builds."
  }

  assert {
    condition = alltrue([
      for policy in concat([aws_iam_role_policy.pipeline.policy], [for p in aws_iam_role_policy.codebuild : p.policy]) :
      alltrue([for st in jsondecode(policy).Statement : alltrue([for a in st.Action : !strcontains(a, "*")]) && !contains(st.Resource, "*")])
    ])
    error_message = "The pipeline and build roles name every action and resource."
  }
}

run "contracts_pipeline_builds_from_a_full_clone" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-contracts-ci"
    package_path = "contracts"
    lambda       = null
    full_clone   = true
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build"] && length(aws_codebuild_project.deploy) == 0
    error_message = "A package without a function is built and checked only: no approval, no deploy."
  }

  assert {
    condition     = aws_codepipeline.this.stage[0].action[0].configuration.OutputArtifactFormat == "CODEBUILD_CLONE_REF" && aws_codebuild_project.build.source[0].buildspec == "contracts/buildspec.yml"
    error_message = "check-compat diffs against the release branch: the contracts build needs a full clone."
  }

  assert {
    condition     = jsonencode([for st in jsondecode(aws_iam_role_policy.codebuild["build"].policy).Statement : st if st.Sid == "CloneThroughConnection"][0]) == jsonencode({ Action = ["codestar-connections:UseConnection", "codeconnections:UseConnection"], Effect = "Allow", Resource = [var.github.connection_arn], Sid = "CloneThroughConnection" })
    error_message = "A full clone is made by CodeBuild through the connection: the build role may use that connection only."
  }

  assert {
    condition     = contains([for v in one(aws_codebuild_project.build.environment).environment_variable : "${v.name}=${v.value}"], "RELEASE_BRANCH=main")
    error_message = "The build is told the release branch it compares against."
  }

  assert {
    condition     = aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths[0].includes == tolist(["contracts/**", "tools/**", "testing/**", "pyproject.toml", "uv.lock", "Makefile"])
    error_message = "The contracts folder is not listed twice."
  }
}

run "infra_pipeline_checks_then_plans" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name              = "sumu-infra-ci"
    package_path      = "infra/terraform"
    lambda            = null
    build_environment = { PLAN_DIRECTORY = "deploy/prod" }
    build_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build"] && aws_codebuild_project.build.source[0].buildspec == "infra/terraform/buildspec.yml"
    error_message = "The infra pipeline runs infra/terraform/buildspec.yml (the checks, then a plan) and deploys nothing."
  }

  assert {
    condition     = contains([for v in one(aws_codebuild_project.build.environment).environment_variable : "${v.name}=${v.value}"], "PLAN_DIRECTORY=deploy/prod") && aws_iam_role_policy_attachment.build["arn:aws:iam::aws:policy/ReadOnlyAccess"].role == "sumu-infra-ci-build"
    error_message = "The build is told what to plan, and its role gets the read access the plan needs."
  }
}

run "own_repository_pipeline" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    name         = "sumu-authorizer-ci"
    package_path = ""
    repository   = { name = "apigw-jwt-authorizer", branch = "release" }
  }

  assert {
    condition     = aws_codepipeline.this.stage[0].action[0].configuration.FullRepositoryId == "acme/apigw-jwt-authorizer" && aws_codepipeline.this.stage[0].action[0].configuration.BranchName == "release" && aws_codebuild_project.build.source[0].buildspec == "buildspec.yml"
    error_message = "A team's own service repository is built from its branch with the buildspec at its root."
  }

  assert {
    condition     = length(aws_codepipeline.this.trigger[0].git_configuration[0].push[0].file_paths) == 0 && length(output.trigger_paths) == 0
    error_message = "Every push to a repository of its own triggers its pipeline."
  }
}

run "release_without_approval" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    pre_release         = false
    extra_trigger_paths = ["bench/**"]
  }

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Deploy"]
    error_message = "A release pipeline has no approval stage."
  }

  assert {
    condition     = length(output.trigger_paths) == 8 && output.trigger_paths[7] == "bench/**"
    error_message = "One extra trigger path fits within CodePipeline's eight."
  }
}

run "rejects_more_than_eight_trigger_paths" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    extra_trigger_paths = ["bench/**", "clients/**"]
  }

  expect_failures = [aws_codepipeline.this]
}

run "rejects_a_non_codestar_connection" {
  command = plan

  module {
    source = "../pipeline"
  }

  variables {
    package_path = "services/pusher/"
    github       = { owner = "acme", connection_arn = "arn:aws:iam::123456789012:role/github" }
  }

  expect_failures = [var.github, var.package_path]
}
