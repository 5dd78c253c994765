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

variable "subscriptions_table" {
  description = "The subscriptions table (database module outputs): its ARN and its by_connection index's."
  type = object({
    name                    = string
    arn                     = string
    by_connection_index_arn = string
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

variable "notifications_queue_url" {
  description = "URL of the notifications queue (NOTIFICATIONS_QUEUE_URL): the pusher enqueues a split broadcast's fan-out jobs, and narrowed jobs for the connections a job could not reach, on the queue it polls (issue 19)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.notifications_queue_url))
    error_message = "The notifications queue URL must be an http(s) URL."
  }
}

variable "broadcast_segments" {
  description = "Fan-out jobs per broadcast (PUSHER_BROADCAST_SEGMENTS): \"auto\" (one job per 20,000 connections of the table's item count, so a small table stays in one invocation) or a number from 1 to 1000 (1 never splits). The jobs run side by side up to maximum_concurrency."
  type        = string
  default     = "auto"

  validation {
    condition     = var.broadcast_segments == "auto" || try(tonumber(var.broadcast_segments) >= 1 && tonumber(var.broadcast_segments) <= 1000 && floor(tonumber(var.broadcast_segments)) == tonumber(var.broadcast_segments), false)
    error_message = "broadcast_segments must be \"auto\" or a whole number from 1 to 1000 (sumu-pusher's bound)."
  }
}

variable "channel_split_subscribers" {
  description = "A channel delivery with more subscribers than this goes out as fan-out jobs on the notifications queue (PUSHER_CHANNEL_SPLIT_SUBSCRIBERS): \"auto\" (20,000, one job's worth, so smaller channels stay in one invocation) or a whole number from 0 to 10000000 (0 splits every channel delivery)."
  type        = string
  default     = "auto"

  validation {
    condition     = var.channel_split_subscribers == "auto" || try(tonumber(var.channel_split_subscribers) >= 0 && tonumber(var.channel_split_subscribers) <= 10000000 && floor(tonumber(var.channel_split_subscribers)) == tonumber(var.channel_split_subscribers), false)
    error_message = "channel_split_subscribers must be \"auto\" or a whole number from 0 to 10000000 (sumu-pusher's bound)."
  }
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

variable "history_table" {
  description = "The channel history table (database module outputs; issue 18): seqs and history items."
  type = object({
    name = string
    arn  = string
  })
}

variable "idempotency_table" {
  description = "The idempotency table (database module outputs; issue 18): request ids and the seqs per input message."
  type = object({
    name = string
    arn  = string
  })
}

variable "history_ttl_seconds" {
  description = "How long a channel message stays in history (HISTORY_TTL_SECONDS)."
  type        = number
  default     = 300

  validation {
    condition     = var.history_ttl_seconds >= 1 && var.history_ttl_seconds <= 31622400 && floor(var.history_ttl_seconds) == var.history_ttl_seconds
    error_message = "The history TTL must be a whole number of seconds between 1 and 366 days."
  }
}

variable "idempotency_ttl_seconds" {
  description = "How long an accepted request id is remembered (IDEMPOTENCY_TTL_SECONDS)."
  type        = number
  default     = 3600

  validation {
    condition     = var.idempotency_ttl_seconds >= 1 && var.idempotency_ttl_seconds <= 31622400 && floor(var.idempotency_ttl_seconds) == var.idempotency_ttl_seconds
    error_message = "The idempotency TTL must be a whole number of seconds between 1 and 366 days."
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
  description = "Notification requests per invocation from the queue (above 10 needs `maximum_batching_window_in_seconds` of at least 1)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "The batch size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "Seconds Lambda may wait to fill a batch from the queue; 0 delivers at once. Lambda requires at least 1 when batch_size is above 10."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "The batching window must be between 0 and 300 seconds."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent pusher invocations the notifications queue starts (the event source's scaling_config, 2 to 1000); null leaves it to Lambda's SQS scaling."
  type        = number
  default     = 50

  validation {
    condition     = var.maximum_concurrency == null || try(var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000, false)
    error_message = "The maximum concurrency must be null or between 2 and 1000, the range Lambda accepts for SQS event sources."
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
  description = "Reserved concurrent executions; null (the default) leaves the function unreserved."
  type        = number
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
