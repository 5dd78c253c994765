output "configuration_arns" {
  description = "Chatbot Slack channel configurations, by notification channel."
  value       = { for k, c in aws_chatbot_slack_channel_configuration.this : k => c.chat_configuration_arn }
}
