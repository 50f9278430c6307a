# shellcheck shell=bash
# The local stack: moto server (S3, DynamoDB, SNS, SQS) and an MLflow server (sqlite backend) on free
# loopback ports. Source this file, then:
#
#   stack_start            # starts both in the background, waits until healthy, exports the endpoints
#   stack_stop             # stops them (also registered on EXIT by stack_start, unless DELTAONE_STACK_TRAPS=0)
#
# Exports for the tests and tools:
#   DELTAONE_TEST_MOTO_URL    http://127.0.0.1:PORT   (AWS_ENDPOINT_URL for the SDK clients)
#   DELTAONE_TEST_MLFLOW_URL  http://127.0.0.1:PORT   (MLFLOW_TRACKING_URI)
#   DELTAONE_TEST_WEBHOOK_SECRET_KEY                  (the server's fixed Fernet key)
#   DELTAONE_VENV                                     (the virtualenv with moto, mlflow, cargo-lambda)
# Logs go to $DELTAONE_STACK_DIR (a fresh temporary directory unless set).

_stack_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_stack_pids=()

_stack_free_port() {
  "$DELTAONE_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# _stack_wait NAME URL SECONDS PID LOG
_stack_wait() {
  local name=$1 url=$2 limit=$3 pid=$4 log=$5 waited=0
  until "$DELTAONE_VENV/bin/python" - "$url" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
PY
  do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "local stack: $name exited before it became healthy; its log ($log) ends with:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    if [ "$waited" -ge "$limit" ]; then
      echo "local stack: $name not healthy at $url after ${limit}s; its log ($log) ends with:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "local stack: $name healthy at ${url%/*} after ~${waited}s" >&2
}

stack_start() {
  DELTAONE_VENV=$("$_stack_here/ensure-venv.sh") || return 1
  export DELTAONE_VENV
  if [ -z "${DELTAONE_STACK_DIR:-}" ]; then
    DELTAONE_STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/deltaone-stack.XXXXXX")
    _stack_made_dir=1
  fi
  export DELTAONE_STACK_DIR
  mkdir -p "$DELTAONE_STACK_DIR/mlflow-artifacts"
  # A caller with exit traps of its own sets DELTAONE_STACK_TRAPS=0 and calls stack_stop from them.
  if [ "${DELTAONE_STACK_TRAPS:-1}" = 1 ]; then
    trap stack_stop EXIT
    trap 'exit 130' INT TERM
  fi

  local moto_port mlflow_port
  moto_port=$(_stack_free_port)
  # moto's server, with DynamoDB requests serialised (see moto_server.py: DynamoDB's conditions are atomic).
  "$DELTAONE_VENV/bin/python" "$_stack_here/moto_server.py" 127.0.0.1 "$moto_port" >"$DELTAONE_STACK_DIR/moto.log" 2>&1 &
  local moto_pid=$!
  _stack_pids+=("$moto_pid")

  mlflow_port=$(_stack_free_port)
  # MLflow's usage telemetry off, for the server and every Python client of the tests and examples: it
  # reaches out to the internet, and its thread sets and unsets _MLFLOW_TELEMETRY_SESSION_ID while
  # requests iterates os.environ, which failed a log_metric with KeyError (seen in an example run).
  export MLFLOW_DISABLE_TELEMETRY=true
  # A fixed Fernet key keeps webhooks working across server restarts; this one is for tests only.
  export DELTAONE_TEST_WEBHOOK_SECRET_KEY=${DELTAONE_TEST_WEBHOOK_SECRET_KEY:-ZGVsdGFvbmUtbG9jYWwtc3RhY2stdGVzdHMtb25seSE=}
  MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https \
  MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true \
  MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY=$DELTAONE_TEST_WEBHOOK_SECRET_KEY \
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
  MLFLOW_WEBHOOK_CACHE_TTL=${MLFLOW_WEBHOOK_CACHE_TTL:-1} \
  setsid "$DELTAONE_VENV/bin/mlflow" server \
      --backend-store-uri "sqlite:///$DELTAONE_STACK_DIR/mlflow.db" \
      --default-artifact-root "$DELTAONE_STACK_DIR/mlflow-artifacts" \
      --host 127.0.0.1 --port "$mlflow_port" --workers "${DELTAONE_MLFLOW_WORKERS:-2}" \
      >"$DELTAONE_STACK_DIR/mlflow.log" 2>&1 &
  local mlflow_pid=$!
  _stack_pids+=("$mlflow_pid")

  # Each MLflow worker caches the webhook list (60 s by default); tests create webhooks and expect them.
  export MLFLOW_WEBHOOK_CACHE_TTL=${MLFLOW_WEBHOOK_CACHE_TTL:-1}
  export DELTAONE_TEST_MOTO_URL="http://127.0.0.1:$moto_port"
  export DELTAONE_TEST_MLFLOW_URL="http://127.0.0.1:$mlflow_port"
  _stack_wait moto "$DELTAONE_TEST_MOTO_URL/moto-api/data.json" 60 "$moto_pid" "$DELTAONE_STACK_DIR/moto.log" || return 1
  _stack_wait mlflow "$DELTAONE_TEST_MLFLOW_URL/health" 180 "$mlflow_pid" "$DELTAONE_STACK_DIR/mlflow.log" || return 1
}

stack_stop() {
  local status=$? pid
  for pid in "${_stack_pids[@]}"; do
    # MLflow runs in its own session (setsid) so that its worker processes stop with it.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${_stack_pids[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  _stack_pids=()
  # The directory holds the servers' logs and MLflow's database: kept when the run failed.
  if [ "${_stack_made_dir:-0}" = 1 ] && [ -d "$DELTAONE_STACK_DIR" ]; then
    if [ "$status" = 0 ]; then
      rm -rf "$DELTAONE_STACK_DIR"
    else
      echo "local stack: logs kept in $DELTAONE_STACK_DIR (moto.log, mlflow.log)" >&2
    fi
  fi
}
