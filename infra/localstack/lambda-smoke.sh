#!/usr/bin/env bash
# The local-development path, end to end: `cargo lambda watch` runs the evaluation function against
# moto and MLflow on loopback, and `cargo lambda invoke --data-file samples/events/s3-put-via-sqs.json`
# drives it. Checks that the verdict lands in DynamoDB. Used by tests/run.sh; runnable alone.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
if [ -z "${DELTAONE_TEST_MOTO_URL:-}" ] || [ -z "${DELTAONE_TEST_MLFLOW_URL:-}" ]; then
  source infra/localstack/stack.sh
  stack_start
fi
DELTAONE_VENV=${DELTAONE_VENV:-$(infra/localstack/ensure-venv.sh)}
py="$DELTAONE_VENV/bin/python"
export PATH="$DELTAONE_VENV/bin:$PATH"
suffix="smoke-$$-$(date +%s)"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The world the sample event talks about: bucket, object, model versions, table, dead-letter queue.
dlq_url=$("$py" - "$DELTAONE_TEST_MOTO_URL" "$DELTAONE_TEST_MLFLOW_URL" "$suffix" <<'PY'
import json, sys, urllib.request
import boto3
moto, mlflow, suffix = sys.argv[1:4]
kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3 = boto3.client("s3", **kw)
try:
    s3.create_bucket(Bucket="deltaone-evaluations")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
event = json.load(open("samples/events/s3-put.json"))
key = event["Records"][0]["s3"]["object"]["key"].replace("+", " ")
s3.put_object(Bucket="deltaone-evaluations", Key=key, Body=open("samples/events/metrics.json", "rb").read())
boto3.client("dynamodb", **kw).create_table(
    TableName=f"verdicts-{suffix}", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "model", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "model", "AttributeType": "S"}, {"AttributeName": "version", "AttributeType": "N"}])
print(boto3.client("sqs", **kw).create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"])

def post(endpoint, body):
    request = urllib.request.Request(f"{mlflow}/api/2.0/mlflow/{endpoint}", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))
model = "fraud-detector"
try:
    post("registered-models/create", {"name": model})
except urllib.error.HTTPError:
    pass  # exists from an earlier smoke run against the same server
for version in range(1, 5):
    tags = [{"key": "benchmark_value", "value": "0.9"}, {"key": "benchmark_metric", "value": "accuracy"}] if version == 3 else []
    post("model-versions/create", {"name": model, "source": "s3://models/fraud", "tags": tags})
PY
)
# An earlier run against the same server leaves versions 1–4; this run checks the newest 4th.
table="verdicts-$suffix"
log=$(mktemp)
cargo lambda watch -A 127.0.0.1 -P "$port" \
  --env-var "AWS_ENDPOINT_URL=$DELTAONE_TEST_MOTO_URL,MLFLOW_TRACKING_URI=$DELTAONE_TEST_MLFLOW_URL" \
  --env-var "DELTAONE_VERDICT_TABLE=$table,DELTAONE_DEAD_LETTER_QUEUE_URL=$dlq_url" \
  --env-var "AWS_ACCESS_KEY_ID=testing,AWS_SECRET_ACCESS_KEY=testing,AWS_REGION=us-east-1" \
  >"$log" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || true; rm -f "$log"' EXIT

answer=""
for _ in $(seq 1 120); do
  if answer=$(cargo lambda invoke deltaone-evaluation -A 127.0.0.1 -P "$port" \
                --data-file samples/events/s3-put-via-sqs.json 2>&1); then
    break
  fi
  kill -0 "$watch_pid" 2>/dev/null || { cat "$log"; echo "cargo lambda watch exited" >&2; exit 1; }
  sleep 2
done
echo "cargo lambda invoke answered: $answer"
case "$answer" in
  *'"batchItemFailures":[]'*) ;;
  *) echo "lambda smoke: unexpected answer" >&2; tail -n 40 "$log" >&2; exit 1 ;;
esac
"$py" - "$DELTAONE_TEST_MOTO_URL" "$table" <<'PY'
import sys, boto3
moto, table = sys.argv[1:3]
db = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
items = db.scan(TableName=table)["Items"]
assert len(items) == 1, items
print("lambda smoke: verdict", items[0]["outcome"]["S"], "for", items[0]["model"]["S"], "v" + items[0]["version"]["N"])
PY
echo "lambda-smoke: 1 passed, 0 failed"
