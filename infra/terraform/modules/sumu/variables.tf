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
  description = "Initial code of the four functions, by service: a zip from `tools/lambda_zip.py build services/<name>` (`file`) or an S3 object (`s3_bucket`, `s3_key`). Later releases come from the pipelines. Null starts every function from the small placeholder package shipped with the modules (modules/function/placeholder.zip), which refuses every request until the first release."
  type = map(object({
    file      = optional(string)
    s3_bucket = optional(string)
    s3_key    = optional(string)
  }))
  default = null

  validation {
    condition     = var.lambda_packages == null || try(length(setsubtract(["authorizer", "connections", "pusher", "presence"], keys(var.lambda_packages))) == 0, false)
    error_message = "The lambda_packages map needs the keys authorizer, connections, pusher and presence (or leave it null for the placeholder package)."
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
  description = "Reserved concurrent executions per function; unset (the default) leaves a function unreserved. A reservation fails when it would leave the account fewer than 100 unreserved executions, as on new accounts: the pusher is capped by `pusher_maximum_concurrency` instead."
  type = object({
    authorizer  = optional(number)
    connections = optional(number)
    pusher      = optional(number)
    presence    = optional(number)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v == null || try(v >= 0, false)])
    error_message = "Reserved concurrency must be unset or a non-negative number."
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

variable "allow_any_issuer_and_audience" {
  description = "Accept tokens of any issuer and audience the JWKS keys sign. Off by default: the authorizer fails closed, so `issuer` or `authorized_audiences` is required (with Firebase's shared x509 URL, any Firebase project's users could connect)."
  type        = bool
  default     = false
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

variable "channels_claim" {
  description = "Token claim listing the channel patterns a connection may subscribe to (JWT_CHANNELS_CLAIM)."
  type        = string
  default     = "channels"
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
  description = "Create the region's API Gateway CloudWatch Logs role and set it on the account. Off by default: it is one setting per account and region (a second stack takes it over, a destroy unsets it for every API); when off, the account must already have one, as the seed assumed."
  type        = bool
  default     = false
}

variable "connect_throttling_burst_limit" {
  description = "Burst limit of the $connect route, the only route that invokes the authorizer."
  type        = number
  default     = 200
}

variable "connect_throttling_rate_limit" {
  description = "Steady rate limit of the $connect route, requests per second: the most authorizer invocations per second."
  type        = number
  default     = 100
}

variable "connection_ttl_seconds" {
  description = "Seconds before a stored connection expires through the table's TTL; at least 7200, API Gateway's maximum connection duration (sumu-connections refuses less)."
  type        = number
  default     = 7200

  validation {
    condition     = var.connection_ttl_seconds >= 7200 && var.connection_ttl_seconds <= 86400
    error_message = "The connection TTL must be between 7200 seconds (API Gateway's two-hour maximum connection duration) and one day."
  }
}

variable "public_channels" {
  description = "Channel patterns any connection may subscribe to, whatever its token says (SUMU_PUBLIC_CHANNELS; `*` matches any run of characters)."
  type        = list(string)
  default     = ["public:*"]
}

variable "channels_per_connection" {
  description = "Most channels one connection may subscribe to (CHANNELS_PER_CONNECTION)."
  type        = number
  default     = 100
}

# Pusher and presence
# -------------------
variable "pusher_concurrency" {
  description = "Concurrent management API calls per pusher invocation."
  type        = number
  default     = 64
}

variable "pusher_batch_size" {
  description = "Notification requests per pusher invocation from the queue; above 10 needs `pusher_batching_window_seconds`."
  type        = number
  default     = 10
}

variable "pusher_batching_window_seconds" {
  description = "Seconds Lambda may wait to fill a pusher batch; 0 delivers at once. At least 1 when pusher_batch_size is above 10."
  type        = number
  default     = 0
}

variable "pusher_maximum_concurrency" {
  description = "Most concurrent pusher invocations the notifications queue starts (its event source's maximum concurrency, 2 to 1000); null leaves it to Lambda."
  type        = number
  default     = 50
}

variable "pusher_broadcast_segments" {
  description = "Fan-out jobs per broadcast (PUSHER_BROADCAST_SEGMENTS): \"auto\" (one per 20,000 connections, a small table stays in one invocation) or 1 to 1000. At most pusher_maximum_concurrency jobs run at once: keep it near ceil(L / r), the account's API Gateway throttle over one invocation's post rate (services/pusher/README.md)."
  type        = string
  default     = "auto"

  validation {
    condition     = var.pusher_broadcast_segments == "auto" || try(tonumber(var.pusher_broadcast_segments) >= 1 && tonumber(var.pusher_broadcast_segments) <= 1000 && floor(tonumber(var.pusher_broadcast_segments)) == tonumber(var.pusher_broadcast_segments), false)
    error_message = "pusher_broadcast_segments must be \"auto\" or a whole number from 1 to 1000."
  }
}

variable "pusher_channel_split_subscribers" {
  description = "A channel delivery with more subscribers than this goes out as fan-out jobs (PUSHER_CHANNEL_SPLIT_SUBSCRIBERS): \"auto\" (20,000) or 0 to 10000000."
  type        = string
  default     = "auto"

  validation {
    condition     = var.pusher_channel_split_subscribers == "auto" || try(tonumber(var.pusher_channel_split_subscribers) >= 0 && tonumber(var.pusher_channel_split_subscribers) <= 10000000 && floor(tonumber(var.pusher_channel_split_subscribers)) == tonumber(var.pusher_channel_split_subscribers), false)
    error_message = "pusher_channel_split_subscribers must be \"auto\" or a whole number from 0 to 10000000."
  }
}

variable "publisher_account_ids" {
  description = "Other AWS accounts whose backends publish notification requests to the notifications topic and queue: the topic and queue policies and the KMS key policy let them in."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.publisher_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Publisher accounts must be 12-digit AWS account IDs."
  }
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
  description = "Create one release pipeline per package (the four services, contracts, infra/terraform, infra/local)."
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
  description = "The monorepo and its release branch: every package's pipeline watches its own paths of it, except the services named in service_repositories."
  type = object({
    name   = string
    branch = string
  })
  default = null
}

variable "service_repositories" {
  description = "Services that keep a repository of their own (a team's replacement service), by service: the repository in github.owner, its branch and the buildspec at its root that outputs the Lambda zip. Their pipelines build from there; the other packages build from github_repository."
  type = map(object({
    name      = string
    branch    = string
    buildspec = optional(string, "buildspec.yml")
  }))
  default = {}

  validation {
    condition     = length(setsubtract(keys(var.service_repositories), ["authorizer", "connections", "pusher", "presence"])) == 0
    error_message = "Only the services authorizer, connections, pusher and presence can keep a repository of their own."
  }
}

variable "infra_pipeline" {
  description = "The infra/terraform pipeline's plan: the root module it plans after the checks (a folder of the monorepo holding the team's backend and module block) and the managed policies its build role needs to read the account and the state. Without plan_directory the pipeline runs the checks only."
  type = object({
    plan_directory   = optional(string)
    plan_policy_arns = optional(list(string), [])
  })
  default = {}
}

variable "pre_release" {
  description = "Hold every release at a manual approval."
  type        = bool
  default     = true
}

variable "ci_notifications_slack_channels" {
  description = "Slack channel names for pipeline info and alerts; they name the SNS topics (`<prefix>-ci-<channel>`, without a repeated `ci-`) that modules/chatbot relays."
  type = object({
    info  = string
    alert = string
  })
  default = {
    info  = "ci-info"
    alert = "ci-alert"
  }

  validation {
    condition     = alltrue([for c in values(var.ci_notifications_slack_channels) : can(regex("^[A-Za-z0-9_-]{1,80}$", c))]) && var.ci_notifications_slack_channels.info != var.ci_notifications_slack_channels.alert
    error_message = "The Slack channel names must be two different names of letters, digits, hyphens or underscores (no leading #)."
  }
}

variable "ci_extra_trigger_paths" {
  description = "Paths that trigger every monorepo pipeline on top of its package folder and what builds every package (contracts/, tools/, testing/, pyproject.toml, uv.lock, Makefile). CodePipeline takes 8 patterns per trigger and every pipeline already uses 7, so one extra path fits (more fail the plan)."
  type        = list(string)
  default     = []
}

variable "history_size" {
  description = "Channel history kept for recovery, in messages per channel (HISTORY_SIZE of the connections function; issue 18)."
  type        = number
  default     = 100
}

variable "history_ttl_seconds" {
  description = "How long a channel message stays in history (HISTORY_TTL_SECONDS of the pusher; issue 18)."
  type        = number
  default     = 300
}

variable "idempotency_ttl_seconds" {
  description = "How long an accepted notification request id is remembered (IDEMPOTENCY_TTL_SECONDS of the pusher; issue 18)."
  type        = number
  default     = 3600
}
