variable "prefix" {
  description = "Name prefix of the role and the channel configurations (the sumu module's prefix)."
  type        = string
}

variable "slack_team_id" {
  description = "The Slack workspace (team) ID, authorized once in the AWS Chatbot console."
  type        = string
}

variable "slack_channel_ids" {
  description = "Slack channel IDs by notification channel (`info`, `alert`)."
  type        = map(string)

  validation {
    condition     = length(setsubtract(keys(var.slack_channel_ids), ["info", "alert"])) == 0
    error_message = "The Slack channels must be keyed info and alert, like the sumu module's ci_notification_topic_arns."
  }
}

variable "topic_arns" {
  description = "The SNS topics to relay, by notification channel: the sumu (or serverless) module's `ci_notification_topic_arns` output."
  type        = map(string)
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
