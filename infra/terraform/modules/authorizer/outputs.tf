output "lambda" {
  description = "The function: name, ARN, alias, alias ARN and invoke ARN, runtime."

  # Fail closed: a JWKS URL alone (Firebase's above all) signs tokens of other applications.
  precondition {
    condition     = var.issuer != "" || length(var.authorized_audiences) > 0 || var.allow_any_issuer_and_audience
    error_message = "The authorizer needs an issuer or authorized audiences: without either it accepts any token the JWKS keys sign (every Firebase project's, with Firebase's URL). Set issuer or authorized_audiences, or allow_any_issuer_and_audience = true if that is really wanted."
  }

  value = {
    name             = module.function.function_name
    arn              = module.function.function_arn
    alias            = module.function.alias_name
    alias_arn        = module.function.alias_arn
    alias_invoke_arn = module.function.alias_invoke_arn
    runtime          = module.function.runtime
    role_name        = module.function.role_name
  }
}

output "environment" {
  description = "Environment variables of the function (DESIGN.md section 3)."
  value       = module.function.environment
}

output "policy_statements" {
  description = "Service-specific IAM statements of the execution role."
  value       = module.function.policy_statements
}

output "policy" {
  description = "The execution role's whole policy document (JSON)."
  value       = module.function.policy
}
