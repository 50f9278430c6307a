"""Lambda's SQS trigger, locally: long-polls a queue and invokes a function served by
`cargo lambda watch` with each batch as an SQS event, then deletes the messages the function did
not report in `batchItemFailures` (those come back after the visibility timeout, as on AWS).
Runs until it is stopped.

    python samples/examples/lib/sqs_trigger.py QUEUE_URL http://127.0.0.1:PORT FUNCTION
"""

import json
import sys
import time
import urllib.error
import urllib.request

import boto3

queue_url, lambda_url, function = sys.argv[1:4]
sqs = boto3.client("sqs")
arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
invoke_url = f"{lambda_url}/2015-03-31/functions/{function}/invocations"


def invoke(event):
    request = urllib.request.Request(invoke_url, json.dumps(event).encode(), {"Content-Type": "application/json"})
    # The first invocation compiles nothing (the binaries are built) but waits for the function to start.
    for attempt in range(60):
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            # The function failed as a whole: every message of the batch comes back later.
            print(f"sqs trigger: {function} failed: {error.read()[:500]!r}", flush=True)
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
        except (urllib.error.URLError, ConnectionError) as error:
            print(f"sqs trigger: {function} not answering yet ({error}), attempt {attempt + 1}", flush=True)
            time.sleep(1)
    raise SystemExit(f"sqs trigger: {function} never answered at {invoke_url}")


while True:
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=30)
    messages = got.get("Messages", [])
    if not messages:
        continue
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }
    answer = invoke(event) or {}
    failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
    print(f"sqs trigger: {len(messages)} message(s) → {function}: {len(failed)} failed", flush=True)
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
