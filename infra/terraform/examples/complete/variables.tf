variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "project" {
  description = "Project name, first part of the prefix."
  type        = string
  default     = "acme"
}

variable "environment" {
  description = "Environment name, second part of the prefix."
  type        = string
  default     = "prod"
}

variable "domain_name" {
  description = "Domain clients connect to (wss://<domain_name>/push)."
  type        = string
  default     = "live.example.com"
}

variable "route53_zone_name" {
  description = "Public Route 53 zone holding domain_name."
  type        = string
  default     = "example.com"
}

variable "issuer_jwks_uri" {
  description = "JWKS URL of the identity provider issuing the users' tokens."
  type        = string
  default     = "https://www.googleapis.com/service_accounts/v1/metadata/x509/securetoken@system.gserviceaccount.com"
}

variable "authorized_audiences" {
  description = "Audiences (app clients) allowed to connect."
  type        = list(string)
  default     = ["sumu-websocket"]
}

variable "github_owner" {
  description = "GitHub organisation or user owning the monorepo."
  type        = string
  default     = "acme"
}

variable "github_repository" {
  description = "Name of the monorepo on GitHub."
  type        = string
  default     = "sumu"
}

variable "github_connection_arn" {
  description = "ARN of an AVAILABLE CodeStar connection to GitHub (created and authorized in the console)."
  type        = string
  default     = "arn:aws:codestar-connections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000"
}

variable "chatbot_region" {
  description = "A region AWS Chatbot's API runs in (us-east-2, us-west-2, ap-southeast-1 or eu-west-1)."
  type        = string
  default     = "us-east-2"
}

variable "ci_chatbot" {
  description = "AWS Chatbot Slack workspace and channel IDs; null keeps the SNS topics only."
  type = object({
    slack_team_id          = string
    info_slack_channel_id  = string
    alert_slack_channel_id = string
  })
  default = null
}

variable "repository_root" {
  description = "Path to the monorepo checkout holding the built zips (services/<name>/dist)."
  type        = string
  default     = "../../../.."
}

variable "package_version" {
  description = "Version in the zip names built by the packages' pipelines."
  type        = string
  default     = "0.1.0"
}
