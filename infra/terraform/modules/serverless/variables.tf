# The seed's interface (terraform-aws-sumu's modules/serverless), kept by name and type so that a
# team changes only `source`; the few inputs after "Beyond the seed" are optional.

# General
# -------
variable "prefix" {
  description = "Name prefix of every resource (for example `acme-prod-sumu`)."
  type        = string
}

variable "common_tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "stage_name" {
  description = "The API stage name."
  type        = string
  default     = "mvp"
}

variable "apigw_endpoint" {
  description = "Management API base URL the pusher posts to: the API's custom domain and base path, or its invoke URL. Null derives it (custom_domain, else the execute-api stage URL)."
  type        = string
  default     = null
}

variable "s3_artifacts" {
  description = "Existing bucket for pipeline artifacts."
  type = object({
    bucket = string
    arn    = string
  })
}

# CI
# --
variable "ci_notifications_slack_channels" {
  description = "Slack channel names for pipeline info and alerts; they name the two SNS topics (`<prefix>-ci-info`, `<prefix>-ci-alert` for the seed's names) that modules/chatbot relays."
  type = object({
    info  = string
    alert = string
  })
  default = {
    info  = "ci-info"
    alert = "ci-alert"
  }
}

variable "github" {
  description = "GitHub owner and CodeStar connection ARN (`webhook_secret` is accepted and unused: connections need no webhook)."
  type = object({
    owner          = string
    connection_arn = string
    webhook_secret = optional(string)
  })
}

variable "pre_release" {
  description = "Hold every release at a manual approval."
  type        = bool
  default     = true
}

variable "github_repositories" {
  description = "Services that keep a repository of their own, by service (authorizer, connections, pusher, presence): the repository in github.owner and its branch; `buildspec` (default `buildspec.yml` at its root) must output the Lambda zip. Their pipelines build from there; every other package builds from `monorepo`. The seed's module name for this input."
  type = map(object({
    name      = string
    branch    = string
    buildspec = optional(string, "buildspec.yml")
  }))
  default = null
}

variable "github_repository" {
  description = "Same as github_repositories: the name the seed's README used. Set one of the two."
  type = map(object({
    name      = string
    branch    = string
    buildspec = optional(string, "buildspec.yml")
  }))
  default = null
}

# Authorizer
# ----------
variable "issuer_jwks_uri" {
  description = "The issuer's JWKS URL, or a Firebase-style x509 certificate map URL."
  type        = string
}

variable "authorized_audiences" {
  description = "The authorized audiences (app clients). With no issuer either, the plan fails: the authorizer would accept any token the keys sign (allow_any_issuer_and_audience opts out)."
  type        = list(string)
  default     = []
}

variable "verify_token_expiration" {
  description = "Reject expired tokens; set to false only for testing."
  type        = bool
  default     = true
}

# --
variable "presence_source" {
  description = "From where backends get presence events: `topic`, `queue` or `stream` (the table stream, read by backends themselves)."
  type        = string
  default     = "topic"
}

# Beyond the seed (optional)
# --------------------------
variable "monorepo" {
  description = "The SUMU monorepo (in github.owner) and its release branch: the packages not named in github_repositories build from it, each pipeline on its own paths."
  type = object({
    name   = string
    branch = string
  })
  default = {
    name   = "sumu"
    branch = "main"
  }
}

variable "lambda_packages" {
  description = "Initial code of the four functions (see the sumu module). Null starts them from the placeholder package; the pipelines deliver the real code."
  type = map(object({
    file      = optional(string)
    s3_bucket = optional(string)
    s3_key    = optional(string)
  }))
  default = null
}

variable "issuer" {
  description = "Expected `iss` claim; empty skips the check (then authorized_audiences is required)."
  type        = string
  default     = ""
}

variable "allow_any_issuer_and_audience" {
  description = "Accept tokens of any issuer and audience the JWKS keys sign (explicit opt-out of the fail-closed check)."
  type        = bool
  default     = false
}

variable "custom_domain" {
  description = "Optional custom domain, replacing the seed's helper module (see the sumu module)."
  type = object({
    domain_name     = string
    certificate_arn = string
    route53_zone_id = string
    base_path       = optional(string, "")
  })
  default = null
}

variable "manage_apigw_account_logging_role" {
  description = "Create and set the region's API Gateway CloudWatch Logs role (account-wide; off by default: the account must already have one, as the seed assumed)."
  type        = bool
  default     = false
}

variable "publisher_account_ids" {
  description = "Other AWS accounts whose backends publish notification requests to the topic and queue."
  type        = list(string)
  default     = []
}
