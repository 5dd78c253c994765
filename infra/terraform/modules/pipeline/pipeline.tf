locals {
  pipeline_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codepipeline.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  pipeline_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadWriteArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"]
        Resource = [local.artifacts_prefix_arn]
      },
      {
        Sid      = "LocateArtifactsBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"]
        Resource = [var.s3_artifacts.arn]
      },
      {
        Sid      = "UseGitHubConnection"
        Effect   = "Allow"
        Action   = ["codestar-connections:UseConnection", "codeconnections:UseConnection"]
        Resource = [var.github.connection_arn]
      },
      {
        Sid      = "RunBuilds"
        Effect   = "Allow"
        Action   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds"]
        Resource = concat([aws_codebuild_project.build.arn], aws_codebuild_project.deploy[*].arn)
      },
      {
        Sid      = "NotifyApprovers"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.notifications.alert_topic_arn]
      },
      {
        Sid      = "UseStackKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}

resource "aws_iam_role" "pipeline" {
  name               = "${var.name}-pipeline"
  assume_role_policy = local.pipeline_assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "${var.name}-pipeline"
  role   = aws_iam_role.pipeline.id
  policy = local.pipeline_policy
}

resource "aws_codepipeline" "this" {
  name           = var.name
  pipeline_type  = "V2"
  execution_mode = "QUEUED"
  role_arn       = aws_iam_role.pipeline.arn

  artifact_store {
    type     = "S3"
    location = var.s3_artifacts.bucket

    encryption_key {
      id   = var.kms_key_arn
      type = "KMS"
    }
  }

  lifecycle {
    # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitFilePathFilterCriteria.html
    precondition {
      condition     = length(local.trigger_paths) <= 8 && alltrue([for p in local.trigger_paths : length(p) <= 255])
      error_message = "CodePipeline accepts at most 8 file path patterns of up to 255 characters in a trigger; this pipeline would have ${length(local.trigger_paths)}. Drop some extra_trigger_paths."
    }
  }

  # In the monorepo only pushes touching this package or what it is built from start a run:
  # https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html
  trigger {
    provider_type = "CodeStarSourceConnection"

    git_configuration {
      source_action_name = "Source"

      push {
        branches {
          includes = [var.repository.branch]
        }

        dynamic "file_paths" {
          for_each = local.in_monorepo ? [local.trigger_paths] : []
          content {
            includes = file_paths.value
          }
        }
      }
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]

      configuration = {
        ConnectionArn    = var.github.connection_arn
        FullRepositoryId = "${var.github.owner}/${var.repository.name}"
        BranchName       = var.repository.branch
        # A full clone keeps the git history (the contracts' compatibility gate diffs against
        # the release branch); a zip of the commit is enough for everything else.
        OutputArtifactFormat = var.full_clone ? "CODEBUILD_CLONE_REF" : "CODE_ZIP"
      }
    }
  }

  stage {
    name = "Build"

    action {
      name             = "Build"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source"]
      output_artifacts = ["package"]

      configuration = {
        ProjectName = aws_codebuild_project.build.name
      }
    }
  }

  dynamic "stage" {
    for_each = var.pre_release && var.lambda != null ? [1] : []

    content {
      name = "Approve"

      action {
        name     = "Approve"
        category = "Approval"
        owner    = "AWS"
        provider = "Manual"
        version  = "1"

        configuration = {
          NotificationArn = var.notifications.alert_topic_arn
          CustomData      = "Release ${local.in_monorepo ? var.package_path : var.repository.name} to ${var.lambda.name}:${var.lambda.alias}?"
        }
      }
    }
  }

  dynamic "stage" {
    for_each = var.lambda == null ? [] : [1]

    content {
      name = "Deploy"

      action {
        name            = "Deploy"
        category        = "Build"
        owner           = "AWS"
        provider        = "CodeBuild"
        version         = "1"
        input_artifacts = ["package"]

        configuration = {
          ProjectName = aws_codebuild_project.deploy[0].name
        }
      }
    }
  }

  tags = var.tags
}

resource "aws_codestarnotifications_notification_rule" "info" {
  name        = "${var.name}-info"
  resource    = aws_codepipeline.this.arn
  detail_type = "BASIC"
  event_type_ids = [
    "codepipeline-pipeline-pipeline-execution-started",
    "codepipeline-pipeline-pipeline-execution-succeeded",
  ]

  target {
    address = var.notifications.info_topic_arn
  }

  tags = var.tags
}

resource "aws_codestarnotifications_notification_rule" "alert" {
  name        = "${var.name}-alert"
  resource    = aws_codepipeline.this.arn
  detail_type = "FULL"
  event_type_ids = [
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-manual-approval-needed",
  ]

  target {
    address = var.notifications.alert_topic_arn
  }

  tags = var.tags
}
