"""Creates the AWS resources the examples use in the emulator, named after one run, the way the
deployment (terraform/) wires them: an uploads bucket whose ObjectCreated notifications go to a
queue, a dead-letter queue, and the delivery-id table of the registry webhook (the CLI's
`deltaone store init` makes the verdict table). Prints `export NAME=value` lines for the shell.

    python samples/examples/lib/resources.py RUN_ID
"""

import json
import shlex
import sys

import boto3

run = sys.argv[1]
sqs = boto3.client("sqs")
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")

bucket = f"deltaone-examples-{run}".lower()
uploads_url = sqs.create_queue(QueueName=f"deltaone-uploads-{run}")["QueueUrl"]
uploads_arn = sqs.get_queue_attributes(QueueUrl=uploads_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
dlq_url = sqs.create_queue(QueueName=f"deltaone-dlq-{run}")["QueueUrl"]

s3.create_bucket(Bucket=bucket)
s3.put_bucket_notification_configuration(
    Bucket=bucket,
    NotificationConfiguration={
        "QueueConfigurations": [
            {
                "QueueArn": uploads_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "evaluations/"}]}},
            }
        ]
    },
)

deliveries = f"deltaone-deliveries-{run}"
dynamodb.create_table(
    TableName=deliveries,
    BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "delivery_id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "delivery_id", "AttributeType": "S"}],
)

settings = {
    "DELTAONE_EXAMPLES_BUCKET": bucket,
    "DELTAONE_UPLOADS_QUEUE_URL": uploads_url,
    "DELTAONE_DEAD_LETTER_QUEUE_URL": dlq_url,
    "DELTAONE_VERDICT_TABLE": f"deltaone-verdicts-{run}",
    "DELTAONE_DELIVERY_TABLE": deliveries,
}
for name, value in settings.items():
    print(f"export {name}={shlex.quote(value)}")
print(f"# {json.dumps(settings)}", file=sys.stderr)
