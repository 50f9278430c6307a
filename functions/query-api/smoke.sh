#!/usr/bin/env bash
# The query API through `cargo lambda watch`: a real Function URL request (HTTP → the Runtime API
# emulator → the function) against a verdict in moto, by a model name that needs percent-decoding.
# Used by tests/run.sh; runnable alone (it starts the local stack when it is not running).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
if [ -z "${DELTAONE_TEST_MOTO_URL:-}" ]; then
  source infra/localstack/stack.sh
  stack_start
fi
DELTAONE_VENV=${DELTAONE_VENV:-$(infra/localstack/ensure-venv.sh)}
py="$DELTAONE_VENV/bin/python"
export PATH="$DELTAONE_VENV/bin:$PATH"
table="query-smoke-$$-$(date +%s)"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# One verdict of the model "smoke model/eu", in the store's item layout.
"$py" - "$DELTAONE_TEST_MOTO_URL" "$table" <<'PY'
import json, sys
import boto3
moto, table = sys.argv[1:3]
db = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
db.create_table(
    TableName=table, BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "model", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "model", "AttributeType": "S"}, {"AttributeName": "version", "AttributeType": "N"}])
record = {"model": "smoke model/eu", "version": 2, "checked_at": "2026-01-01T00:00:00Z", "written_back": True,
          "notified": False, "verdict": {"model": "smoke model/eu", "outcome": "achieved", "reason": "smoke",
          "candidate_version": 2, "baseline_version": 1, "baseline_source": "tagged", "metric": "accuracy",
          "candidate_value": "0.88", "baseline_value": "0.87", "delta_pp": "1.00", "threshold_pp": "1",
          "direction": "higher", "scale": "fraction"}}
db.put_item(TableName=table, Item={"model": {"S": record["model"]}, "version": {"N": "2"},
            "outcome": {"S": "achieved"}, "achieved": {"BOOL": True}, "checked_at": {"S": record["checked_at"]},
            "written_back": {"BOOL": True}, "notified": {"BOOL": False}, "record": {"S": json.dumps(record)}})
PY

log=$(mktemp)
cargo lambda watch -A 127.0.0.1 -P "$port" \
  --env-var "AWS_ENDPOINT_URL=$DELTAONE_TEST_MOTO_URL,DELTAONE_VERDICT_TABLE=$table" \
  --env-var "AWS_ACCESS_KEY_ID=testing,AWS_SECRET_ACCESS_KEY=testing,AWS_REGION=us-east-1" \
  >"$log" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || true; rm -f "$log"' EXIT

url="http://127.0.0.1:$port/lambda-url/deltaone-query-api/models/smoke%20model%2Feu/deltaone?limit=5"
answer=""
for _ in $(seq 1 180); do
  if answer=$(curl -sS --fail-with-body "$url" 2>&1); then
    break
  fi
  kill -0 "$watch_pid" 2>/dev/null || { cat "$log"; echo "cargo lambda watch exited" >&2; exit 1; }
  sleep 2
done
echo "query API answered: $answer"
"$py" - "$answer" <<'PY'
import json, sys
body = json.loads(sys.argv[1])
assert body["model"] == "smoke model/eu", body
assert body["latest"]["version"] == 2 and body["latest"]["delta_pp"] == "1", body
assert body["next_cursor"] is None, body
PY
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/lambda-url/deltaone-query-api/models/x/nothing")
[ "$status" = 404 ] || { echo "query API smoke: expected 404 for an unknown route, got $status" >&2; exit 1; }
echo "query API smoke: ok"
