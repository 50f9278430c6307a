#!/usr/bin/env bash
# The deployment, applied and used: `terraform apply` of the production module (through the test
# environment tests/deploy/) against a fresh moto server, then the stack used as AWS would run it,
# then `terraform destroy`, which must leave nothing behind. Run by tests/run.sh; runnable alone
# (`bash infra/deploy-apply.sh`; it starts the local stack's MLflow when DELTAONE_TEST_MLFLOW_URL is
# not set).
#
#   1. zips for this machine's architecture (infra/package.sh --host: the dev-profile binaries)
#   2. terraform init (the AWS provider from a local plugin directory when there is one, see
#      infra/terraform-env.sh) + apply against a fresh moto server of its own
#   3. tests/deploy/use_stack.py: each function's bootstrap run with the environment read back from
#      the emulated Lambda API, against the resources Terraform made: an evaluation artifact
#      uploaded to the artifacts bucket -> verdict in the verdicts table -> notice on the alerts
#      topic's SQS subscription; the query API and the registry webhook (its secret read through an
#      emulated Parameters and Secrets extension); the drift-scheduler -> Batch job -> the drift job
#      with the job definition's environment -> report, drift table, notice
#   4. terraform destroy, then every service of the moto server is checked empty
#
# Every step's time is printed. Any failure fails the script (a broken Terraform change breaks the
# run); only a machine without a terraform binary prints SKIP. Logs and state of a failed run are
# kept in the directory it names.
#
# Environment: DELTAONE_TF_PLUGIN_DIR (see infra/terraform-env.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$SECONDS
say() { printf '%s\n' "deploy-apply: $*"; }
lap=$SECONDS
timed() { say "$1 took $(( SECONDS - lap ))s"; lap=$SECONDS; }

if ! command -v terraform >/dev/null 2>&1; then
  say "SKIP: no terraform binary on PATH (install Terraform >= 1.6 to apply the deployment to moto)"
  exit 0
fi
source infra/terraform-env.sh
stack_started=0
if [ -z "${DELTAONE_TEST_MLFLOW_URL:-}" ]; then
  source infra/localstack/stack.sh
  stack_start
  stack_started=1
fi
DELTAONE_VENV=${DELTAONE_VENV:-$(infra/localstack/ensure-venv.sh)}
py="$DELTAONE_VENV/bin/python"

work=$(mktemp -d "${TMPDIR:-/tmp}/deltaone-deploy-apply.XXXXXX")
moto_pid=""
cleanup() {
  local status=$?
  if [ -n "$moto_pid" ]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  if [ "$status" = 0 ]; then
    rm -rf "$work"
  else
    say "FAILED; logs, Terraform state and moto's log kept in $work"
  fi
  # This trap replaced the one stack_start set.
  if [ "$stack_started" = 1 ]; then set +e; (exit "$status"); stack_stop; fi
}
trap cleanup EXIT

# 1. The zips, and the drift job's binary as the test build made it.
DELTAONE_PACKAGE_DIR="$work/package" bash infra/package.sh --host
drift=$(bash infra/drift-binary.sh)
[ -x "$drift" ] || { say "no deltaone-drift binary from the test build"; exit 1; }
"$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("extensions/README", "stands in for the AWS Parameters and Secrets extension layer\n")' "$work/layer.zip"
timed "packaging"

# 2. A fresh moto server: Terraform state and moto's must start empty together.
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto="http://127.0.0.1:$port"
# Without a Docker engine moto's Lambda cannot run functions; keep it from finding the test's one.
env -u DOCKER_HOST "$py" tests/deploy/moto_server.py 127.0.0.1 "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 60); do
  "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$moto/moto-api/data.json" 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { tail -n 20 "$work/moto.log"; exit 1; }
  sleep 1
done

mkdir -p "$work/tree/tests"
cp -R terraform "$work/tree/"
cp -R tests/deploy "$work/tree/tests/"
env_dir="$work/tree/tests/deploy"
tf_init "$env_dir" >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
vars=(-var "moto_url=$moto" -var "package_dir=$work/package" -var "mlflow_tracking_uri=$DELTAONE_TEST_MLFLOW_URL"
      -var "layer_zip=$work/layer.zip")
timed "moto start + terraform init"
if ! (cd "$env_dir" && terraform apply -auto-approve -input=false -no-color "${vars[@]}") >"$work/apply.log" 2>&1; then
  grep -E -A12 '^Error|│ Error' "$work/apply.log" | head -80 >&2 || tail -n 40 "$work/apply.log" >&2
  say "FAIL terraform apply"
  exit 1
fi
say "$(grep -E '^Apply complete' "$work/apply.log")"
timed "terraform apply"
(cd "$env_dir" && terraform output -json stack) >"$work/stack.json"

# 3. Use it.
"$py" tests/deploy/use_stack.py --outputs "$work/stack.json" --package-dir "$work/package" --moto "$moto" \
  --mlflow "$DELTAONE_TEST_MLFLOW_URL" --root "$root" --drift-binary "$drift"
timed "using the stack"

# 4. Destroy, and nothing may be left.
if ! (cd "$env_dir" && terraform destroy -auto-approve -input=false -no-color "${vars[@]}") >"$work/destroy.log" 2>&1; then
  grep -E -A12 '^Error|│ Error' "$work/destroy.log" | head -80 >&2 || tail -n 40 "$work/destroy.log" >&2
  say "FAIL terraform destroy"
  exit 1
fi
say "$(grep -E '^Destroy complete' "$work/destroy.log")"
left=$(cd "$env_dir" && terraform state list)
[ -z "$left" ] || { say "FAIL: still in the state after destroy: $left"; exit 1; }
"$py" tests/deploy/use_stack.py --leftovers --moto "$moto"
timed "terraform destroy"
say "ok in $(( SECONDS - started ))s"
