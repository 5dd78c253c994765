variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "stage_name" {
  description = "Stage name; part of the WebSocket URL (`wss://.../<stage>`)."
  type        = string
  default     = "mvp"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "The stage name must be 1 to 128 letters, digits, hyphens or underscores."
  }
}

variable "connections_lambda" {
  description = "The connections function (connections module `lambda` output): every route integrates with its alias."
  type = object({
    name             = string
    alias            = string
    alias_invoke_arn = string
  })
}

variable "authorizer_lambda" {
  description = "The authorizer function (authorizer module `lambda` output): the $connect REQUEST authorizer."
  type = object({
    name             = string
    alias            = string
    alias_invoke_arn = string
  })
}

variable "identity_sources" {
  description = "Request parameters API Gateway requires before it calls the authorizer (all must be present, else 401). Empty by default: the authorizer reads the token from the `authorization` query parameter (browsers, the seed's clients) or the `Authorization` header, and answers 401 itself when neither is there; a gate could only demand one of them, or both."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.identity_sources : can(regex("^route\\.request\\.(querystring|header)\\.", s))])
    error_message = "Identity sources must be route.request.querystring.* or route.request.header.* expressions."
  }
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit (requests)."
  type        = number
  default     = 500

  validation {
    condition     = var.throttling_burst_limit >= 0
    error_message = "The burst limit cannot be negative."
  }
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady rate limit (requests per second)."
  type        = number
  default     = 1000

  validation {
    condition     = var.throttling_rate_limit >= 0
    error_message = "The rate limit cannot be negative."
  }
}

variable "connect_throttling_burst_limit" {
  description = "Burst limit of the $connect route, the only one that invokes the authorizer (requests)."
  type        = number
  default     = 200

  validation {
    condition     = var.connect_throttling_burst_limit >= 0
    error_message = "The $connect burst limit cannot be negative."
  }
}

variable "connect_throttling_rate_limit" {
  description = "Steady rate limit of the $connect route, requests per second: the most authorizer invocations per second."
  type        = number
  default     = 100

  validation {
    condition     = var.connect_throttling_rate_limit >= 0
    error_message = "The $connect rate limit cannot be negative."
  }
}

variable "execution_logging_level" {
  description = "Execution logging of the stage's routes: OFF, ERROR or INFO."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "The execution logging level must be OFF, ERROR or INFO."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key encrypting the access log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the JSON access logs, in days."
  type        = number
  default     = 365
}

variable "manage_account_logging_role" {
  description = "Create the region's API Gateway CloudWatch Logs role and set it on the account. Off by default: it is one setting per account and region, so a second stack would take it over and a destroy would unset it for every API. When off, the account must already have one (AWS refuses a logging stage without it)."
  type        = bool
  default     = false
}

variable "deploy" {
  description = "Create a deployment and attach it to the stage. The moto data-plane test turns it off because moto cannot hold API Gateway deployments."
  type        = bool
  default     = true
}

variable "custom_domain" {
  description = "Optional custom domain for the WebSocket API (replaces the seed's helper module): an ACM certificate in the API's region, the Route 53 zone, the domain name and the base path (`push` gives wss://<domain>/push)."
  type = object({
    domain_name     = string
    certificate_arn = string
    route53_zone_id = string
    base_path       = optional(string, "")
  })
  default = null

  validation {
    condition     = var.custom_domain == null || can(regex("^arn:aws[a-z-]*:acm:", var.custom_domain.certificate_arn))
    error_message = "The custom domain's certificate_arn must be an ACM certificate ARN."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
