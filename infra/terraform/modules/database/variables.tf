variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for server-side encryption of the table and its stream."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Keep continuous backups of the connections and subscriptions tables."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the table (turn off to destroy the stack)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
