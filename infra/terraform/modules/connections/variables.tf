variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "package" {
  description = "Initial code of sumu-connections (see the function module's `package`)."
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

variable "history_table" {
  description = "The channel history table (database module outputs; issue 18): subscribe with since reads it."
  type = object({
    name = string
    arn  = string
  })
}

variable "history_size" {
  description = "How far back a subscribe's since may reach, in messages (HISTORY_SIZE); keep it equal to the pusher's."
  type        = number
  default     = 100

  validation {
    condition     = var.history_size >= 1 && var.history_size <= 1000 && floor(var.history_size) == var.history_size
    error_message = "The history size must be a whole number between 1 and 1000."
  }
}

variable "apigw_endpoint" {
  description = "Management API base URL including the stage (APIGW_ENDPOINT): recovery posts the replayed history through it."
  type        = string
}

variable "apigw_execution_arn" {
  description = "Execution ARN of the WebSocket API; scopes execute-api:ManageConnections (the replay)."
  type        = string
}

variable "stage_name" {
  description = "Stage the connections live on; scopes execute-api:ManageConnections (the replay)."
  type        = string
}

variable "public_channels" {
  description = "Channel patterns any connection may subscribe to (SUMU_PUBLIC_CHANNELS; `*` matches any run of characters)."
  type        = list(string)
  default     = ["public:*"]

  validation {
    condition     = alltrue([for p in var.public_channels : can(regex("^[A-Za-z0-9_\\-:.@=*]{1,128}$", p))])
    error_message = "Each public channel pattern must be 1 to 128 letters, digits, `_-:.@=` or `*`, without commas."
  }
}

variable "channels_per_connection" {
  description = "Most channels one connection may subscribe to (CHANNELS_PER_CONNECTION); one more is answered with the `limit` error frame."
  type        = number
  default     = 100

  validation {
    condition     = var.channels_per_connection >= 1 && var.channels_per_connection <= 10000 && floor(var.channels_per_connection) == var.channels_per_connection
    error_message = "The channels per connection must be a whole number between 1 and 10000."
  }
}

variable "messages_topic_arn" {
  description = "Topic the `publish` route sends user messages to."
  type        = string
}

variable "messages_queue" {
  description = "Queue the `send` route sends user messages to."
  type = object({
    arn = string
    url = string
  })
}

variable "connection_ttl_seconds" {
  description = "Seconds after which a stored connection expires through the table's TTL (CONNECTION_TTL_SECONDS); API Gateway closes connections after 2 hours."
  type        = number
  default     = 7200

  # sumu-connections refuses less than 7200: TTL would delete connections API Gateway still holds.
  validation {
    condition     = var.connection_ttl_seconds >= 7200 && var.connection_ttl_seconds <= 86400
    error_message = "The connection TTL must be between 7200 seconds (API Gateway's two-hour maximum connection duration) and one day."
  }
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
