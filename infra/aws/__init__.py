"""AWS: the app's declarations as S3, SQS, SNS, DynamoDB, API Gateway, Scheduler and Lambda (DESIGN §7)."""
