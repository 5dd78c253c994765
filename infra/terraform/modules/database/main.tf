# The connections table, shaped by the connection-record contract:
# user_id (hash) + connection_id (range), TTL on the numeric epoch-seconds attribute delete_at,
# and a stream carrying INSERT / REMOVE images for the presence watchdog.
locals {
  ttl_attribute = "delete_at"
  # Fixed by the design the services share (sumu-connections and sumu-pusher query it by name).
  subscriptions_by_connection_index = "by_connection"
}

resource "aws_dynamodb_table" "this" {
  name             = "${var.prefix}-connections"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "user_id"
  range_key        = "connection_id"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "connection_id"
    type = "S"
  }

  # DynamoDB only declares key attributes; TTL needs delete_at to be a Number holding epoch
  # seconds, which the connection-record contract guarantees:
  # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html
  ttl {
    enabled        = true
    attribute_name = local.ttl_attribute
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  tags = var.tags
}

# The subscriptions table, shaped by the subscription-record contract: channel (hash) +
# connection_id (range), so a channel's subscribers are one Query (the pusher); the
# by_connection index finds a connection's channels on $disconnect and on a 410 prune. Items
# carry their connection's delete_at, so TTL removes them when it removes the connection.
# No stream: nothing reacts to a subscription changing.
resource "aws_dynamodb_table" "subscriptions" {
  name         = "${var.prefix}-subscriptions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "channel"
  range_key    = "connection_id"

  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "channel"
    type = "S"
  }

  attribute {
    name = "connection_id"
    type = "S"
  }

  global_secondary_index {
    name            = local.subscriptions_by_connection_index
    hash_key        = "connection_id"
    range_key       = "channel"
    projection_type = "ALL"
  }

  ttl {
    enabled        = true
    attribute_name = local.ttl_attribute
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  tags = var.tags
}

# Channel history (issue 18), written by sumu-pusher, read by sumu-connections: channel (hash) +
# seq (range, a Number). Per channel a head item (seq 0, "head" = the last seq given, no
# delete_at: it lives as long as the table, so seqs never restart) and one item per message
# (seq >= 1, the envelope as posted, delete_at = publish time + HISTORY_TTL_SECONDS).
resource "aws_dynamodb_table" "history" {
  name         = "${var.prefix}-history"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "channel"
  range_key    = "seq"

  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "channel"
    type = "S"
  }

  attribute {
    name = "seq"
    type = "N"
  }

  ttl {
    enabled        = true
    attribute_name = local.ttl_attribute
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  tags = var.tags
}

# Idempotent requests (issue 18), sumu-pusher only: key = "id:<request id>" or
# "message:<input message id>", the input message that claimed it, the seqs it was given, and
# delete_at = IDEMPOTENCY_TTL_SECONDS after the claim.
resource "aws_dynamodb_table" "idempotency" {
  name         = "${var.prefix}-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "key"

  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "key"
    type = "S"
  }

  ttl {
    enabled        = true
    attribute_name = local.ttl_attribute
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  tags = var.tags
}
