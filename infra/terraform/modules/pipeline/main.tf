# One package's release pipeline (CodePipeline V2):
#   Source (CodeStar connection; in the monorepo the trigger fires only on the package's paths and
#           what builds it)
#   -> Build (CodeBuild runs the package's buildspec.yml: lint, types, tests, the artifact)
#   -> Approve (only when pre_release and there is something to release)
#   -> Deploy (only for a function: update the code, wait, publish a version, move the alias).
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  in_monorepo   = var.package_path != ""
  trigger_paths = local.in_monorepo ? distinct(concat(["${var.package_path}/**"], var.shared_trigger_paths, var.extra_trigger_paths)) : []
  buildspec     = coalesce(var.buildspec, local.in_monorepo ? "${var.package_path}/buildspec.yml" : "buildspec.yml")
  projects      = var.lambda == null ? toset(["build"]) : toset(["build", "deploy"])
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/codebuild/${var.name}"
  # CodePipeline stores each run's artifacts under <bucket>/<pipeline name (truncated)>/.
  artifacts_prefix_arn = "${var.s3_artifacts.arn}/${substr(var.name, 0, 20)}*"
  release_branch       = coalesce(var.release_branch, var.repository.branch)

  # Update the code, wait until Lambda has finished applying it (publishing earlier fails with
  # ResourceConflictException or publishes the previous code), publish that exact revision, wait
  # for the version, move the alias:
  # https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
  deploy_buildspec = <<-YAML
    version: 0.2
    phases:
      build:
        commands:
          - ZIP=$(ls "$CODEBUILD_SRC_DIR"/*.zip | head -n 1)
          - test -f "$ZIP"
          - REVISION=$(aws lambda update-function-code --function-name "$FUNCTION_NAME" --zip-file "fileb://$ZIP" --query RevisionId --output text)
          - aws lambda wait function-updated --function-name "$FUNCTION_NAME"
          - VERSION=$(aws lambda publish-version --function-name "$FUNCTION_NAME" --revision-id "$(aws lambda get-function-configuration --function-name "$FUNCTION_NAME" --query RevisionId --output text)" --description "$CODEBUILD_RESOLVED_SOURCE_VERSION" --query Version --output text)
          - aws lambda wait published-version-active --function-name "$FUNCTION_NAME" --qualifier "$VERSION"
          - aws lambda update-alias --function-name "$FUNCTION_NAME" --name "$ALIAS_NAME" --function-version "$VERSION"
          - echo "released $FUNCTION_NAME version $VERSION (code revision $REVISION) as $ALIAS_NAME"
  YAML

  codebuild_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  codebuild_policies = {
    for project in local.projects : project => jsonencode({
      Version = "2012-10-17"
      Statement = concat(
        [
          {
            Sid      = "WriteBuildLogs"
            Effect   = "Allow"
            Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
            Resource = ["${local.log_group_arn}-${project}:*"]
          },
          {
            Sid      = "ReadWriteArtifacts"
            Effect   = "Allow"
            Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
            Resource = [local.artifacts_prefix_arn]
          },
          {
            Sid      = "LocateArtifactsBucket"
            Effect   = "Allow"
            Action   = ["s3:GetBucketLocation", "s3:GetBucketAcl"]
            Resource = [var.s3_artifacts.arn]
          },
          {
            Sid      = "UseStackKey"
            Effect   = "Allow"
            Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
            Resource = [var.kms_key_arn]
          },
        ],
        # A full clone is made by CodeBuild itself, through the connection:
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/troubleshooting.html#codebuild-role-connections
        project == "build" && var.full_clone ? [{
          Sid      = "CloneThroughConnection"
          Effect   = "Allow"
          Action   = ["codestar-connections:UseConnection", "codeconnections:UseConnection"]
          Resource = [var.github.connection_arn]
        }] : [],
        project == "deploy" ? [{
          Sid    = "ReleaseFunction"
          Effect = "Allow"
          Action = [
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:UpdateFunctionCode",
            "lambda:PublishVersion",
            "lambda:GetAlias",
            "lambda:UpdateAlias",
          ]
          Resource = [var.lambda.arn, "${var.lambda.arn}:*"]
        }] : [],
      )
    })
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.projects

  name              = "/aws/codebuild/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "codebuild" {
  for_each = local.projects

  name               = "${var.name}-${each.key}"
  assume_role_policy = local.codebuild_assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "codebuild" {
  for_each = local.projects

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.codebuild[each.key].id
  policy = local.codebuild_policies[each.key]
}

# Managed policies the build needs beyond its own (the infra pipeline's plan reads the account).
resource "aws_iam_role_policy_attachment" "build" {
  for_each = toset(var.build_policy_arns)

  role       = aws_iam_role.codebuild["build"].name
  policy_arn = each.value
}

resource "aws_codebuild_project" "build" {
  name           = "${var.name}-build"
  description    = "Pipeline of ${local.in_monorepo ? var.package_path : var.repository.name}: ${local.buildspec}"
  service_role   = aws_iam_role.codebuild["build"].arn
  encryption_key = var.kms_key_arn
  build_timeout  = 30

  source {
    type      = "CODEPIPELINE"
    buildspec = local.buildspec
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    compute_type    = var.build_compute_type
    image           = var.build_image
    type            = "LINUX_CONTAINER"
    privileged_mode = false

    environment_variable {
      name  = "RELEASE_BRANCH"
      value = local.release_branch
    }

    dynamic "environment_variable" {
      for_each = var.build_environment
      content {
        name  = environment_variable.key
        value = environment_variable.value
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this["build"].name
    }
  }

  tags = var.tags
}

resource "aws_codebuild_project" "deploy" {
  count = var.lambda == null ? 0 : 1

  name           = "${var.name}-deploy"
  description    = "Releases ${var.lambda.name}: new code, new version, alias ${var.lambda.alias} moved"
  service_role   = aws_iam_role.codebuild["deploy"].arn
  encryption_key = var.kms_key_arn
  build_timeout  = 10

  source {
    type      = "CODEPIPELINE"
    buildspec = local.deploy_buildspec
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    compute_type    = "BUILD_GENERAL1_SMALL"
    image           = var.build_image
    type            = "LINUX_CONTAINER"
    privileged_mode = false

    environment_variable {
      name  = "FUNCTION_NAME"
      value = var.lambda.name
    }

    environment_variable {
      name  = "ALIAS_NAME"
      value = var.lambda.alias
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this["deploy"].name
    }
  }

  tags = var.tags
}
