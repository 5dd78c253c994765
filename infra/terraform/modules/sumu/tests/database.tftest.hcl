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

run "subscriptions_table_follows_the_subscription_record_contract" {
  command = plan

  module {
    source = "../database"
  }

  assert {
    condition     = aws_dynamodb_table.subscriptions.hash_key == "channel" && aws_dynamodb_table.subscriptions.range_key == "connection_id"
    error_message = "A channel's subscribers must be one Query: channel (hash), connection_id (range)."
  }

  assert {
    condition     = toset([for a in aws_dynamodb_table.subscriptions.attribute : "${a.name}:${a.type}"]) == toset(["channel:S", "connection_id:S"])
    error_message = "Only the two string keys may be declared; delete_at stays a plain Number attribute."
  }

  assert {
    condition = jsonencode([for i in aws_dynamodb_table.subscriptions.global_secondary_index : [i.name, i.hash_key, i.range_key, i.projection_type]]) == jsonencode([
      ["by_connection", "connection_id", "channel", "ALL"],
    ])
    error_message = "The by_connection index (connection_id, channel, all attributes) must find a connection's channels."
  }

  assert {
    condition     = aws_dynamodb_table.subscriptions.ttl[0].enabled && aws_dynamodb_table.subscriptions.ttl[0].attribute_name == "delete_at"
    error_message = "TTL must be enabled on delete_at, the connection's own expiry."
  }

  assert {
    condition     = aws_dynamodb_table.subscriptions.stream_enabled != true && aws_dynamodb_table.subscriptions.billing_mode == "PAY_PER_REQUEST"
    error_message = "The subscriptions table is on demand and has no stream (nothing reads one)."
  }

  assert {
    condition     = aws_dynamodb_table.subscriptions.server_side_encryption[0].enabled && aws_dynamodb_table.subscriptions.server_side_encryption[0].kms_key_arn == var.kms_key_arn && aws_dynamodb_table.subscriptions.point_in_time_recovery[0].enabled
    error_message = "The subscriptions table must be encrypted with the stack's key and backed up like the connections table."
  }
}

run "history_and_idempotency_tables_follow_issue_18" {
  command = plan

  module {
    source = "../database"
  }

  assert {
    condition     = aws_dynamodb_table.history.hash_key == "channel" && aws_dynamodb_table.history.range_key == "seq" && { for a in aws_dynamodb_table.history.attribute : a.name => a.type } == { channel = "S", seq = "N" }
    error_message = "The history table must be keyed by channel (S, hash) and seq (N, range): a channel's history after a seq is one Query."
  }

  assert {
    condition     = aws_dynamodb_table.idempotency.hash_key == "key" && aws_dynamodb_table.idempotency.range_key == null && length(aws_dynamodb_table.idempotency.attribute) == 1
    error_message = "The idempotency table must be keyed by key (S, hash) only."
  }

  assert {
    condition = alltrue([for t in [aws_dynamodb_table.history, aws_dynamodb_table.idempotency] :
      t.ttl[0].enabled && t.ttl[0].attribute_name == "delete_at"
      && t.server_side_encryption[0].enabled && t.server_side_encryption[0].kms_key_arn == var.kms_key_arn
      && t.point_in_time_recovery[0].enabled && t.billing_mode == "PAY_PER_REQUEST"
    ])
    error_message = "Both tables: TTL on delete_at, encrypted with the stack's key, point-in-time recovery, on demand, like the others."
  }
}
