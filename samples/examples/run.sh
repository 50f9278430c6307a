#!/usr/bin/env bash
# Runs DeltaOne's examples against the local stack, one command each:
#
#   bash samples/examples/run.sh                      every example (the test command runs this)
#   bash samples/examples/run.sh basic-detection      one example, by name (several names: several)
#   bash samples/examples/run.sh --list               the examples and what each shows
#
# What it starts (and always stops): moto (S3, DynamoDB, SNS, SQS) and an MLflow server on loopback,
# unless DELTAONE_TEST_MOTO_URL and DELTAONE_TEST_MLFLOW_URL already point at running ones (the test
# command's); the resources the examples use, made the way the deployment makes them (an uploads
# bucket whose notifications go to a queue, the verdict and delivery tables, a dead-letter queue);
# and, for the examples that need a Lambda function, `cargo lambda watch` serving the functions with
# a relay that feeds the uploads queue to the evaluation function as Lambda's SQS trigger would.
#
# Each example checks its own result and exits non-zero when DeltaOne did not do what it shows.
# Exit status: 0 when every example that ran passed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

# name<TAB>language<TAB>what it shows; the file is the name with .sh or, for Python, _ and .py.
catalogue=$'basic-detection\tshell\tthe CLI decides, records and reports one model\'s DeltaOne
custom-metric\tshell\ta lower-is-better error rate on a percent scale, set by registry tags
batch-detection\tshell\tevery model of a list checked at bounded concurrency, JSON lines out
training-pipeline\tpython\ta pipeline step logs its run, registers the version, uploads the evaluation artifact and waits for the verdict
webhook-integration\tpython\tMLflow\'s registry webhook wired to DeltaOne: a new version gets its verdict without anyone calling DeltaOne'

case "${1:-}" in
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --list) printf '%s\n' "$catalogue" | awk -F'\t' '{ printf "%-20s %-7s %s\n", $1, $2, $3 }'; exit 0 ;;
esac
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(printf '%s\n' "$catalogue" | cut -f1)
fi
for name in "${names[@]}"; do
  if ! printf '%s\n' "$catalogue" | cut -f1 | grep -qx -- "$name"; then
    echo "examples: no example called '$name' (bash samples/examples/run.sh --list)" >&2
    exit 2
  fi
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
needs_lambda=0
for name in "${names[@]}"; do
  case "$name" in training-pipeline | webhook-integration) needs_lambda=1 ;; esac
done

# The deltaone CLI, and the functions' binaries when an example needs them: already built by the
# test command, so these are no-ops there.
say() { printf 'examples: %s\n' "$*" >&2; }
bins=(--bin deltaone)
if [ "$needs_lambda" = 1 ]; then
  bins+=(--bin deltaone-evaluation --bin deltaone-registry-webhook)
fi
say "building the binaries the examples run"
cargo build --quiet --locked "${bins[@]}"
export PATH="$CARGO_TARGET_DIR/debug:$PATH"

stack_started=0
if [ -z "${DELTAONE_TEST_MOTO_URL:-}" ] || [ -z "${DELTAONE_TEST_MLFLOW_URL:-}" ]; then
  source infra/localstack/stack.sh
  DELTAONE_STACK_TRAPS=0 # stopped by this script's own exit trap, below
  trap 'exit 130' INT TERM
  stack_started=1
  stack_start
fi
DELTAONE_VENV=${DELTAONE_VENV:-$(bash infra/localstack/ensure-venv.sh)}
export PATH="$DELTAONE_VENV/bin:$PATH"

# What every example sees: the endpoints, dummy credentials, and a suffix that keeps one run's
# models and resources apart from an earlier run's against the same servers.
export MLFLOW_TRACKING_URI=$DELTAONE_TEST_MLFLOW_URL
export AWS_ENDPOINT_URL=$DELTAONE_TEST_MOTO_URL
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export EXAMPLE_RUN=${EXAMPLE_RUN:-$(date +%s)-$$}
work=$(mktemp -d "${TMPDIR:-/tmp}/deltaone-examples.XXXXXX")
pids=()
cleanup() {
  local status=$? pid
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  if [ "$stack_started" = 1 ]; then
    set_status "$status" # stack_stop keeps the servers' logs when the run failed
    stack_stop
  fi
}
set_status() { return "$1"; }
trap cleanup EXIT

# The resources, named after this run; exported as the functions' and the CLI's settings.
eval "$(python "$here/lib/resources.py" "$EXAMPLE_RUN")"
deltaone store init >/dev/null

if [ "$needs_lambda" = 1 ]; then
  port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export DELTAONE_MLFLOW_WEBHOOK_SECRET=${DELTAONE_MLFLOW_WEBHOOK_SECRET:-examples-webhook-secret}
  export DELTAONE_LAMBDA_URL="http://127.0.0.1:$port"
  # Every function gets the same settings, as Terraform gives them theirs.
  env_vars="MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI,AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  env_vars+=",AWS_ACCESS_KEY_ID=testing,AWS_SECRET_ACCESS_KEY=testing,AWS_REGION=us-east-1"
  env_vars+=",DELTAONE_VERDICT_TABLE=$DELTAONE_VERDICT_TABLE,DELTAONE_DELIVERY_TABLE=$DELTAONE_DELIVERY_TABLE"
  env_vars+=",DELTAONE_DEAD_LETTER_QUEUE_URL=$DELTAONE_DEAD_LETTER_QUEUE_URL"
  env_vars+=",DELTAONE_MLFLOW_WEBHOOK_SECRET=$DELTAONE_MLFLOW_WEBHOOK_SECRET"
  cargo lambda watch -A 127.0.0.1 -P "$port" --env-var "$env_vars" >"$work/lambda.log" 2>&1 &
  pids+=($!)
  # Lambda's SQS trigger, locally: uploads queue → the evaluation function, batch by batch.
  python "$here/lib/sqs_trigger.py" "$DELTAONE_UPLOADS_QUEUE_URL" "$DELTAONE_LAMBDA_URL" deltaone-evaluation \
    >"$work/trigger.log" 2>&1 &
  pids+=($!)
  say "cargo lambda watch on port $port (functions' log: $work/lambda.log)"
fi

passed=0
failed=0
failures=()
for name in "${names[@]}"; do
  lang=$(printf '%s\n' "$catalogue" | awk -F'\t' -v n="$name" '$1 == n { print $2 }')
  if [ "$lang" = python ]; then
    cmd=(python "$here/${name//-/_}.py")
  else
    cmd=(bash "$here/$name.sh")
  fi
  printf '\n== example %s (%s)\n' "$name" "${cmd[*]#"$root/"}"
  start=$(date +%s)
  if "${cmd[@]}"; then
    passed=$((passed + 1))
    printf -- '-- %s: ok (%ss)\n' "$name" "$(($(date +%s) - start))"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf -- '-- %s: FAILED (%ss)\n' "$name" "$(($(date +%s) - start))"
    if [ "$needs_lambda" = 1 ]; then
      say "last lines of the functions' log:"
      tail -n 30 "$work/lambda.log" >&2 || true
      tail -n 10 "$work/trigger.log" >&2 || true
    fi
  fi
done
echo
echo "examples: $passed passed, $failed failed"
[ "$failed" = 0 ] || { say "failed: ${failures[*]}"; exit 1; }
