"""AWS: the app's declarations as S3, SQS, SNS, DynamoDB, API Gateway, Scheduler and Lambda
(docs/architecture.md, "Mapping to each cloud")."""
