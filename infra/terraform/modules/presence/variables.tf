variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "package" {
  description = "Initial code of sumu-presence (see the function module's `package`)."
  type = object({
    file      = optional(string)
    s3_bucket = optional(string)
    s3_key    = optional(string)
  })
}

variable "kms_key_arn" {
  description = "Customer managed KMS key of the stack (environment, logs, table, topics, queues)."
  type        = string
}

variable "presence_source" {
  description = "Where backends receive presence events: `topic` (messages topic), `queue` (messages queue) or `stream` (backends read the table stream themselves) (PRESENCE_SOURCE)."
  type        = string

  validation {
    condition     = contains(["topic", "queue", "stream"], var.presence_source)
    error_message = "The presence source must be one of topic, queue or stream."
  }
}

variable "connections_table" {
  description = "The connections table and its stream (database module outputs)."
  type = object({
    name       = string
    arn        = string
    stream_arn = string
  })
}

variable "messages_topic_arn" {
  description = "Topic presence events are published to when presence_source is `topic`."
  type        = string
}

variable "messages_queue" {
  description = "Queue presence events are sent to when presence_source is `queue`."
  type = object({
    arn = string
    url = string
  })
}

variable "batch_size" {
  description = "Stream records per invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "The batch size must be between 1 and 10000."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing stream record before it goes to the failures queue."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10000
    error_message = "The maximum retry attempts must be between 0 and 10000."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when the failures queue holds records."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the function's logs, in days."
  type        = number
  default     = 365
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; null (the default) leaves the function unreserved."
  type        = number
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
