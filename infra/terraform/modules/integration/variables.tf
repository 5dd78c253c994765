variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for server-side encryption of the topics and queues."
  type        = string
}

variable "max_receive_count" {
  description = "Receives before a message moves to its dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "The max receive count must be between 1 and 1000."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the work queues; AWS wants at least six times the consumer's timeout when Lambda polls it."
  type        = number
  default     = 180

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "The visibility timeout must be between 0 and 43200 seconds."
  }
}

variable "dlq_retention_seconds" {
  description = "How long dead letters are kept (the maximum, 14 days, by default)."
  type        = number
  default     = 1209600
}

variable "alarm_actions" {
  description = "ARNs notified when a dead-letter queue holds messages (for example an SNS topic routed to on-call)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "publisher_account_ids" {
  description = "Other AWS accounts allowed to publish to the notifications topic and send to the notifications queue (their backends also need kms:GenerateDataKey on the key, which the sumu module's key policy grants)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.publisher_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Publisher accounts must be 12-digit AWS account IDs."
  }
}
