"""The Python peer of the Rust Lambda functions: the cold start a Python Lambda doing the same job does.

At module level (Lambda's init phase) it does what such a function wires once: import boto3 and
mlflow's client, create the S3, SNS, SQS and DynamoDB clients and an MlflowClient from the same
environment the Rust functions read. Then it runs a minimal Lambda runtime loop against
AWS_LAMBDA_RUNTIME_API (GET next, POST a response), which is what the benchmark times the first
request of. The handler only acknowledges the event: the benchmark measures init, not the work.
"""

import json
import os
import urllib.request

import boto3
from mlflow.tracking import MlflowClient

# --- init: settings from the environment, failing fast like the Rust functions --------------------
TRACKING_URI = os.environ["MLFLOW_TRACKING_URI"]
VERDICT_TABLE = os.environ["DELTAONE_VERDICT_TABLE"]
DEAD_LETTER_QUEUE_URL = os.environ["DELTAONE_DEAD_LETTER_QUEUE_URL"]
ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL") or None

session = boto3.session.Session()
s3 = session.client("s3", endpoint_url=ENDPOINT_URL)
sns = session.client("sns", endpoint_url=ENDPOINT_URL)
sqs = session.client("sqs", endpoint_url=ENDPOINT_URL)
dynamodb = session.client("dynamodb", endpoint_url=ENDPOINT_URL)
mlflow = MlflowClient(tracking_uri=TRACKING_URI, registry_uri=TRACKING_URI)


def handler(event, context):
    return {"received": True}


# --- the runtime loop (what a Lambda runtime interface client does) --------------------------------
def main():
    api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
    while True:
        with urllib.request.urlopen(f"{api}/next") as answer:
            request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(answer.read() or b"null")
        result = json.dumps(handler(event, None)).encode()
        post = urllib.request.Request(f"{api}/{request_id}/response", data=result, method="POST")
        urllib.request.urlopen(post).close()


if __name__ == "__main__":
    main()
