# sumu-authorizer: the REQUEST authorizer of the $connect route. API Gateway invokes it
# synchronously, so it has no dead-letter queue; its permission is granted by the gateway module,
# which knows the authorizer's ID.
module "function" {
  source = "../function"

  name                 = "${var.prefix}-authorizer"
  description          = "SUMU JWT REQUEST authorizer"
  handler              = "sumu_authorizer.handler.handler"
  package              = var.package
  kms_key_arn          = var.kms_key_arn
  memory_size          = 256
  timeout              = 10
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  tags                 = var.tags

  environment = merge({
    JWT_ISSUER_JWKS_URI      = var.issuer_jwks_uri
    JWT_ISSUER               = var.issuer
    JWT_AUTHORIZED_AUDIENCES = join(",", var.authorized_audiences)
    JWT_VERIFY_EXPIRATION    = tostring(var.verify_token_expiration)
    JWT_ALGORITHMS           = join(",", var.algorithms)
    JWT_LEEWAY_SECONDS       = tostring(var.leeway_seconds)
    JWT_CONTEXT_CLAIMS       = join(",", var.context_claims)
    JWT_CHANNELS_CLAIM       = var.channels_claim
    },
    # The explicit opt-out sumu-authorizer needs to start without an issuer or an audience.
    var.allow_any_issuer_and_audience ? { JWT_ALLOW_ANY_ISSUER_AND_AUDIENCE = "true" } : {},
  )
}
