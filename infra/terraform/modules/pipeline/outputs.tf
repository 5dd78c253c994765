output "pipeline_name" {
  description = "CodePipeline name."
  value       = aws_codepipeline.this.name
}

output "pipeline_arn" {
  description = "CodePipeline ARN."
  value       = aws_codepipeline.this.arn
}

output "trigger_paths" {
  description = "File paths whose changes start the pipeline."
  value       = local.trigger_paths
}

output "build_project_name" {
  description = "CodeBuild project running the package's buildspec.yml."
  value       = aws_codebuild_project.build.name
}

output "deploy_project_name" {
  description = "CodeBuild project releasing the function (null for packages that release no function)."
  value       = one(aws_codebuild_project.deploy[*].name)
}

output "source" {
  description = "Where the pipeline builds from: owner/repository, branch, buildspec."
  value = {
    repository = "${var.github.owner}/${var.repository.name}"
    branch     = var.repository.branch
    buildspec  = local.buildspec
  }
}
