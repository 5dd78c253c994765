# Inputs of the seed's `module "sumu"` block, kept by name, plus what a monorepo and the
# built-in custom domain need.

# General
# -------
variable "prefix" {
  description = "Name prefix of every resource (for example `acme-prod-sumu`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.prefix))
    error_message = "The prefix must start with a lowercase letter and hold 2 to 39 lowercase letters, digits or hyphens."
  }
}

variable "common_tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "lambda_packages" {
  description = "Initial code of the four functions, by service: a zip from `tools/lambda_zip.py build services/<name>` (`file`) or an S3 object (`s3_bucket`, `s3_key`). Later releases come from the pipelines."
  type = map(object({
    file      = optional(string)
    s3_bucket = optional(string)
    s3_key    = optional(string)
  }))

  validation {
    condition     = length(setsubtract(["authorizer", "connections", "pusher", "presence"], keys(var.lambda_packages))) == 0
    error_message = "The lambda_packages map needs the keys authorizer, connections, pusher and presence."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group (functions, access logs, builds), in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log retention must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions per function (-1 for none). Reservations come out of the account's limit, which must keep 100 unreserved: lower them (or use -1) in accounts with a small limit."
  type = object({
    authorizer  = optional(number, 100)
    connections = optional(number, 200)
    pusher      = optional(number, 50)
    presence    = optional(number, 20)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v == -1 || v >= 0])
    error_message = "Reserved concurrency must be -1 (unreserved) or a non-negative number."
  }
}

variable "alarm_actions" {
  description = "Extra ARNs notified by the dead-letter alarms (the CI alert topic is always notified when the pipelines are on)."
  type        = list(string)
  default     = []
}

# Authorizer
# ----------
variable "issuer_jwks_uri" {
  description = "The issuer's JWKS URL, or a Firebase-style x509 certificate map URL."
  type        = string
}

variable "issuer" {
  description = "Expected `iss` claim; empty skips the check."
  type        = string
  default     = ""
}

variable "authorized_audiences" {
  description = "The authorized audiences (app clients); empty allows all."
  type        = list(string)
  default     = []
}

variable "verify_token_expiration" {
  description = "Reject expired tokens; set to false only for testing."
  type        = bool
  default     = true
}

variable "jwt_algorithms" {
  description = "Allowed JWT signing algorithms (asymmetric only); the default is sumu-authorizer's own."
  type        = list(string)
  default     = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
}

variable "jwt_leeway_seconds" {
  description = "Clock skew tolerated on token times, in seconds."
  type        = number
  default     = 60
}

variable "jwt_context_claims" {
  description = "Token claims copied into the authorizer context of every route."
  type        = list(string)
  default     = []
}

# WebSocket API
# -------------
variable "stage_name" {
  description = "The API stage name."
  type        = string
  default     = "mvp"
}

variable "apigw_endpoint" {
  description = "Management API base URL the pusher posts to (the seed's input). Null derives it: the custom domain and base path when set, else the execute-api URL of the stage."
  type        = string
  default     = null

  validation {
    condition     = var.apigw_endpoint == null || can(regex("^https://", var.apigw_endpoint))
    error_message = "The apigw_endpoint must be an https:// URL."
  }
}

variable "custom_domain" {
  description = "Optional custom domain (replaces the seed's helper module): ACM certificate ARN in the API's region, Route 53 zone ID, domain name and base path."
  type = object({
    domain_name     = string
    certificate_arn = string
    route53_zone_id = string
    base_path       = optional(string, "")
  })
  default = null
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady rate limit, requests per second."
  type        = number
  default     = 1000
}

variable "manage_apigw_account_logging_role" {
  description = "Create and set the region's API Gateway CloudWatch Logs role (account-wide). Turn off if the account already has one."
  type        = bool
  default     = true
}

variable "connection_ttl_seconds" {
  description = "Seconds before a stored connection expires through the table's TTL."
  type        = number
  default     = 7200
}

# Pusher and presence
# -------------------
variable "pusher_concurrency" {
  description = "Concurrent management API calls per pusher invocation."
  type        = number
  default     = 64
}

variable "presence_source" {
  description = "From where backends get presence events: `topic` (messages topic), `queue` (messages queue) or `stream` (the connections table stream, read by backends themselves; no presence function is deployed)."
  type        = string
  default     = "topic"

  validation {
    condition     = contains(["topic", "queue", "stream"], var.presence_source)
    error_message = "The presence_source must be one of topic, queue or stream."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to its dead-letter queue."
  type        = number
  default     = 5
}

# CI / CD
# -------
variable "enable_pipelines" {
  description = "Create one release pipeline per service package."
  type        = bool
  default     = true
}

variable "s3_artifacts" {
  description = "Existing bucket for pipeline artifacts."
  type = object({
    bucket = string
    arn    = string
  })
  default = null

  validation {
    condition     = var.s3_artifacts == null || can(regex("^arn:aws[a-z-]*:s3:::", var.s3_artifacts.arn))
    error_message = "The s3_artifacts.arn must be an S3 bucket ARN."
  }
}

variable "github" {
  description = "GitHub owner and CodeStar connection ARN (`webhook_secret` is accepted for the seed's inputs and unused)."
  type = object({
    owner          = string
    connection_arn = string
    webhook_secret = optional(string)
  })
  default = null
}

variable "github_repository" {
  description = "The monorepo and its release branch (the seed had one repository per service; every pipeline now watches its own paths of this one)."
  type = object({
    name   = string
    branch = string
  })
  default = null
}

variable "pre_release" {
  description = "Hold every release at a manual approval."
  type        = bool
  default     = true
}

variable "ci_notifications_slack_channels" {
  description = "Slack channel names for pipeline info and alerts; they name the SNS topics AWS Chatbot relays."
  type = object({
    info  = string
    alert = string
  })
  default = {
    info  = "ci-info"
    alert = "ci-alert"
  }
}

variable "ci_chatbot" {
  description = "Optional AWS Chatbot delivery to Slack: the workspace (team) ID authorized in the Chatbot console and the channel IDs of the info and alert channels. Null keeps the SNS topics only."
  type = object({
    slack_team_id          = string
    info_slack_channel_id  = string
    alert_slack_channel_id = string
  })
  default = null
}

variable "ci_extra_trigger_paths" {
  description = "Paths that trigger every package pipeline on top of the package folder and contracts/ (for example `uv.lock`)."
  type        = list(string)
  default     = []
}
