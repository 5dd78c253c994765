variable "name" {
  description = "Pipeline name; also names its CodeBuild projects, roles and log groups (for example `sumu-pusher-ci`)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,90}$", var.name))
    error_message = "The pipeline name must be 1 to 90 letters, digits, hyphens or underscores."
  }
}

variable "package_path" {
  description = "The package's folder in the monorepo (for example `services/pusher`); it holds the buildspec.yml and triggers the pipeline. Empty for a repository that is the package itself (a team's own service): every push to the branch triggers it and its root buildspec.yml builds it."
  type        = string

  validation {
    condition     = var.package_path == "" || can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.package_path))
    error_message = "The package path must be empty or a relative folder path without a leading or trailing slash."
  }
}

variable "shared_trigger_paths" {
  description = "Paths outside the package whose changes also trigger it in the monorepo: the contracts every package imports and what builds every package (tools/, the workspace's pyproject.toml and uv.lock, the Makefile, the shared test kit)."
  type        = list(string)
  default     = ["contracts/**", "tools/**", "testing/**", "pyproject.toml", "uv.lock", "Makefile"]
}

variable "extra_trigger_paths" {
  description = "More trigger paths. CodePipeline takes at most 8 patterns in all (checked at plan)."
  type        = list(string)
  default     = []
}

variable "buildspec" {
  description = "Buildspec of the build project: a path in the repository. Null uses `<package_path>/buildspec.yml`, or `buildspec.yml` in a repository of its own."
  type        = string
  default     = null
}

variable "full_clone" {
  description = "Give the build a full git clone (CodeBuild clones through the connection) instead of a zip of the commit: for builds that read the history."
  type        = bool
  default     = false
}

variable "release_branch" {
  description = "The release branch builds compare against (RELEASE_BRANCH in the build); null is the branch the pipeline watches."
  type        = string
  default     = null
}

variable "build_environment" {
  description = "Extra environment variables of the build (plain text, no secrets)."
  type        = map(string)
  default     = {}
}

variable "build_policy_arns" {
  description = "Managed policies attached to the build role (for example read access for a Terraform plan)."
  type        = list(string)
  default     = []
}

variable "github" {
  description = "GitHub access through an AWS CodeStar connection. `webhook_secret` is accepted for the seed's inputs but unused: connections need no webhook."
  type = object({
    owner          = string
    connection_arn = string
    webhook_secret = optional(string)
  })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:(codestar-connections|codeconnections):", var.github.connection_arn))
    error_message = "The GitHub connection_arn must be a CodeStar (codestar-connections or codeconnections) connection ARN."
  }
}

variable "repository" {
  description = "The repository (in github.owner) and the branch releases are built from."
  type = object({
    name   = string
    branch = string
  })
}

variable "s3_artifacts" {
  description = "Existing bucket for pipeline artifacts (the seed's s3_artifacts)."
  type = object({
    bucket = string
    arn    = string
  })
}

variable "lambda" {
  description = "The function the pipeline releases (a service module's `lambda` output); null for a package that releases no function (contracts, the Terraform modules): then the pipeline is Source and Build."
  type = object({
    name  = string
    arn   = string
    alias = string
  })
  default = null
}

variable "pre_release" {
  description = "Hold every release at a manual approval before the alias moves."
  type        = bool
  default     = true
}

variable "notifications" {
  description = "SNS topics for pipeline news (`info`: started / succeeded) and trouble (`alert`: failed, approval needed); AWS Chatbot relays them to Slack."
  type = object({
    info_topic_arn  = string
    alert_topic_arn = string
  })
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for artifacts, build logs and CodeBuild."
  type        = string
}

variable "build_image" {
  description = "CodeBuild image; it must offer the Python runtime the buildspec asks for."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "build_compute_type" {
  description = "CodeBuild compute type of the build project."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "log_retention_days" {
  description = "Retention of the build logs, in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
