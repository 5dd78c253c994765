# Optional custom domain: wss://<domain_name>/<base_path>, replacing the seed's helper module.
resource "aws_apigatewayv2_domain_name" "this" {
  count = var.custom_domain == null ? 0 : 1

  domain_name = var.custom_domain.domain_name

  domain_name_configuration {
    certificate_arn = var.custom_domain.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = var.custom_domain == null ? 0 : 1

  api_id          = aws_apigatewayv2_api.this.id
  domain_name     = aws_apigatewayv2_domain_name.this[0].id
  stage           = aws_apigatewayv2_stage.this.id
  api_mapping_key = var.custom_domain.base_path == "" ? null : var.custom_domain.base_path
}

resource "aws_route53_record" "this" {
  count = var.custom_domain == null ? 0 : 1

  zone_id = var.custom_domain.route53_zone_id
  name    = var.custom_domain.domain_name
  type    = "A"

  alias {
    name                   = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = false
  }
}
