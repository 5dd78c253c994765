variable "name" {
  description = "Function name; also names its role and log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "The function name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "What the function does, shown in the Lambda console."
  type        = string
  default     = ""
}

variable "handler" {
  description = "Python entry point, module.path.function (DESIGN.md section 3)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "The runtime must be python3.12 or python3.13, the runtimes the services are built for."
  }
}

variable "package" {
  description = "Initial code: a local zip built by tools/lambda_zip.py (`file`) or an object in S3 (`s3_bucket` + `s3_key`). Later releases come from the package pipeline, so Terraform ignores code drift after creation."
  type = object({
    file      = optional(string)
    s3_bucket = optional(string)
    s3_key    = optional(string)
  })

  validation {
    condition     = (var.package.file != null) != (var.package.s3_bucket != null && var.package.s3_key != null)
    error_message = "Give exactly one code source: package.file, or package.s3_bucket with package.s3_key."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "The memory size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "The timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; null (the default) leaves the function unreserved. A reservation fails when it would leave the account fewer than 100 unreserved executions."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 0, false)
    error_message = "The reserved concurrency must be null (unreserved) or a non-negative number."
  }
}

variable "environment" {
  description = "Environment variables (DESIGN.md section 3)."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "Extra IAM statements for the execution role, each with explicit actions and resources (no wildcards in actions)."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : alltrue([for a in s.actions : !strcontains(a, "*")])])
    error_message = "Policy statements must name their actions; wildcards in actions are not allowed."
  }
}

variable "alias_name" {
  description = "Alias every integration points at; the package pipeline moves it to each new version."
  type        = string
  default     = "live"
}

variable "kms_key_arn" {
  description = "Customer managed KMS key encrypting the environment variables and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 365
}

variable "dead_letter_target_arn" {
  description = "SQS queue or SNS topic receiving failed asynchronous invocations (SNS-triggered functions); null for functions only invoked synchronously or by event source mappings."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
