output "function_name" {
  description = "The function's name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The function's ARN."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "The function's execution role."
  value       = aws_iam_role.this.arn
}

output "function_url" {
  description = "The Function URL, or null when the function has none."
  value       = try(aws_lambda_function_url.this[0].function_url, null)
}

output "async_dlq_url" {
  description = "Queue holding asynchronous invocations that failed every retry."
  value       = aws_sqs_queue.async_dlq.url
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.this.name
}
