# The connections table matches the connection-record contract (plan only, mocked AWS).
mock_provider "aws" {
  override_during = plan
}

variables {
  prefix      = "test"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "table_follows_the_connection_record_contract" {
  command = plan

  module {
    source = "../database"
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "user_id" && aws_dynamodb_table.this.range_key == "connection_id"
    error_message = "The table must be keyed by user_id (hash) and connection_id (range)."
  }

  assert {
    condition     = alltrue([for a in aws_dynamodb_table.this.attribute : a.type == "S"]) && length(aws_dynamodb_table.this.attribute) == 2
    error_message = "Only the two string keys may be declared; delete_at stays a plain Number attribute."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "delete_at"
    error_message = "TTL must be enabled on delete_at."
  }

  assert {
    condition     = !contains([for a in aws_dynamodb_table.this.attribute : a.name], "delete_at")
    error_message = "delete_at must not be declared as a (string) key attribute: TTL needs a Number."
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "The stream must be on with new and old images (presence reads REMOVE images)."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "The table must be encrypted with the stack's key."
  }

  assert {
    condition     = output.ttl_attribute == "delete_at"
    error_message = "The module must report delete_at as its TTL attribute."
  }
}
