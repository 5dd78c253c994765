variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "package" {
  description = "Initial code of sumu-pusher (see the function module's `package`)."
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

variable "connections_table" {
  description = "The connections table (database module outputs)."
  type = object({
    name = string
    arn  = string
  })
}

variable "notifications_topic_arn" {
  description = "Topic of notification requests the pusher subscribes to."
  type        = string
}

variable "notifications_queue_arn" {
  description = "Queue of notification requests the pusher polls."
  type        = string
}

variable "notifications_dlq" {
  description = "Dead-letter queue of notification requests: contract-breaking requests go there at once (NOTIFICATIONS_DLQ_URL), and failed SNS-triggered invocations land there too."
  type = object({
    arn = string
    url = string
  })
}

variable "apigw_endpoint" {
  description = "Management API base URL including the stage or custom-domain base path (APIGW_ENDPOINT)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.apigw_endpoint))
    error_message = "The API Gateway endpoint must be an http(s) URL."
  }
}

variable "apigw_execution_arn" {
  description = "Execution ARN of the WebSocket API; scopes execute-api:ManageConnections."
  type        = string
}

variable "stage_name" {
  description = "Stage the connections live on; scopes execute-api:ManageConnections."
  type        = string
}

variable "concurrency" {
  description = "Concurrent management API calls per invocation (PUSHER_CONCURRENCY)."
  type        = number
  default     = 64

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "The pusher concurrency must be between 1 and 1000 (sumu-pusher's bound)."
  }
}

variable "batch_size" {
  description = "Notification requests per invocation from the queue."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "The batch size must be between 1 and 10000."
  }
}

variable "timeout" {
  description = "Function timeout in seconds; keep it under a sixth of the queue's visibility timeout."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Retention of the function's logs, in days."
  type        = number
  default     = 365
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (-1 for none)."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
