variable "prefix" {
  description = "Name prefix of every resource."
  type        = string
}

variable "package" {
  description = "Initial code of sumu-authorizer (see the function module's `package`)."
  type = object({
    file      = optional(string)
    s3_bucket = optional(string)
    s3_key    = optional(string)
  })
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for environment variables and logs."
  type        = string
}

variable "issuer_jwks_uri" {
  description = "JWKS URL of the token issuer, or a Firebase-style x509 certificate map URL (JWT_ISSUER_JWKS_URI)."
  type        = string

  validation {
    condition     = startswith(var.issuer_jwks_uri, "https://") || startswith(var.issuer_jwks_uri, "http://127.0.0.1")
    error_message = "The issuer JWKS URI must be an https:// URL (http://127.0.0.1 is allowed for the local stack)."
  }
}

variable "issuer" {
  description = "Expected `iss` claim (JWT_ISSUER); empty skips the check."
  type        = string
  default     = ""
}

variable "authorized_audiences" {
  description = "Accepted `aud` values (JWT_AUTHORIZED_AUDIENCES); empty accepts any audience."
  type        = list(string)
  default     = []
}

variable "allow_any_issuer_and_audience" {
  description = "Accept tokens of any issuer and audience the JWKS keys sign (JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE). Off by default: with Firebase's shared x509 URL that is every Firebase project's users. Without it, `issuer` or `authorized_audiences` is required."
  type        = bool
  default     = false
}

variable "verify_token_expiration" {
  description = "Reject expired tokens (JWT_VERIFY_EXPIRATION); turn off only for testing."
  type        = bool
  default     = true
}

variable "algorithms" {
  description = "Allowed signing algorithms (JWT_ALGORITHMS); asymmetric only, so a leaked public key cannot forge tokens. The default is sumu-authorizer's own."
  type        = list(string)
  default     = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]

  validation {
    condition     = length(var.algorithms) > 0 && alltrue([for a in var.algorithms : contains(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"], a)])
    error_message = "Algorithms must be a non-empty list of asymmetric JWS algorithms (RS*, PS*, ES*, EdDSA)."
  }
}

variable "leeway_seconds" {
  description = "Clock skew tolerated on exp / nbf / iat (JWT_LEEWAY_SECONDS)."
  type        = number
  default     = 60

  validation {
    condition     = var.leeway_seconds >= 0 && var.leeway_seconds <= 3600
    error_message = "The leeway must be between 0 and 3600 seconds."
  }
}

variable "context_claims" {
  description = "Token claims copied into the authorizer context of every route (JWT_CONTEXT_CLAIMS)."
  type        = list(string)
  default     = []
}

variable "channels_claim" {
  description = "Token claim listing the channel patterns a connection may subscribe to (JWT_CHANNELS_CLAIM): a list of strings or one space-separated string, passed to the connections function JSON-encoded in the authorizer context."
  type        = string
  default     = "channels"

  validation {
    condition     = length(var.channels_claim) > 0
    error_message = "The channels claim must name a claim."
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
