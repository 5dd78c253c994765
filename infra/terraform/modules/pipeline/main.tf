# One package's release pipeline (CodePipeline V2):
#   Source (CodeStar connection; the trigger fires only on the package's paths and contracts/)
#   -> Build (CodeBuild runs the package's buildspec.yml: lint, types, tests, Lambda zip)
#   -> Approve (only when pre_release)
#   -> Deploy (CodeBuild: update code, publish a version, move the alias).
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  trigger_paths = concat(["${var.package_path}/**"], var.shared_trigger_paths, var.extra_trigger_paths)
  buildspec     = "${var.package_path}/buildspec.yml"
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/codebuild/${var.name}"
  # CodePipeline stores each run's artifacts under <bucket>/<pipeline name (truncated)>/.
  artifacts_prefix_arn = "${var.s3_artifacts.arn}/${substr(var.name, 0, 20)}*"

  deploy_buildspec = <<-YAML
    version: 0.2
    phases:
      build:
        commands:
          - ZIP=$(ls "$CODEBUILD_SRC_DIR"/*.zip | head -n 1)
          - test -f "$ZIP"
          - VERSION=$(aws lambda update-function-code --function-name "$FUNCTION_NAME" --zip-file "fileb://$ZIP" --publish --query Version --output text)
          - aws lambda wait published-version-active --function-name "$FUNCTION_NAME" --qualifier "$VERSION"
          - aws lambda update-alias --function-name "$FUNCTION_NAME" --name "$ALIAS_NAME" --function-version "$VERSION"
          - echo "released $FUNCTION_NAME version $VERSION as $ALIAS_NAME"
  YAML
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["build", "deploy"])

  name              = "/aws/codebuild/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "codebuild_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "codebuild" {
  for_each = toset(["build", "deploy"])

  statement {
    sid       = "WriteBuildLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}-${each.key}:*"]
  }

  statement {
    sid       = "ReadWriteArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = [local.artifacts_prefix_arn]
  }

  statement {
    sid       = "LocateArtifactsBucket"
    actions   = ["s3:GetBucketLocation", "s3:GetBucketAcl"]
    resources = [var.s3_artifacts.arn]
  }

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = each.key == "deploy" ? [1] : []
    content {
      sid = "ReleaseFunction"
      actions = [
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionCode",
        "lambda:PublishVersion",
        "lambda:GetAlias",
        "lambda:UpdateAlias",
      ]
      resources = [var.lambda.arn, "${var.lambda.arn}:*"]
    }
  }
}

resource "aws_iam_role" "codebuild" {
  for_each = toset(["build", "deploy"])

  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.codebuild_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "codebuild" {
  for_each = toset(["build", "deploy"])

  name   = "${var.name}-${each.key}"
  role   = aws_iam_role.codebuild[each.key].id
  policy = data.aws_iam_policy_document.codebuild[each.key].json
}

resource "aws_codebuild_project" "build" {
  name           = "${var.name}-build"
  description    = "Pipeline of ${var.package_path}: ${local.buildspec}"
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
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this["build"].name
    }
  }

  tags = var.tags
}

resource "aws_codebuild_project" "deploy" {
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
