#!/usr/bin/env bash
# Runs every test: formatting, clippy, the domain and adapter unit tests, the system tests against
# real servers on loopback (moto for S3/DynamoDB/SNS/SQS, an MLflow server), the Lambda and
# deployment smoke checks and the runnable examples. It installs what it needs (pinned, into cached
# virtualenvs), builds everything its tests run, starts the servers once and always stops them.
#
#   bash tests/run.sh                 # everything
#   bash tests/run.sh -E 'test(cli)'  # extra arguments go to cargo nextest (a filter, say)
#   bash tests/fresh-machine.sh       # the same, as a brand-new machine runs it (fresh clone, empty cache)
#
# Environment: the build goes to the workspace's target/ (where `cargo demo` builds too, so the two
# commands share one build) unless CARGO_TARGET_DIR is set. DELTAONE_CACHE (default ~/.cache/deltaone)
# holds the virtualenvs and the record of earlier runs' times. DELTAONE_SKIP_LINT=1 skips fmt and clippy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
started=$(date +%s)
# Cold: the tests were never built in this target directory (`cargo demo` before it builds only
# the CLI, so a run after it is still cold).
if compgen -G "$CARGO_TARGET_DIR/debug/.fingerprint/deltaone-system-tests-*" >/dev/null; then
  temperature=warm
else
  temperature=cold
fi
steps=()
last_step=""
last_start=$started
step() {
  local now
  now=$(date +%s)
  [ -z "$last_step" ] || steps+=("$(printf '%5ss  %s' "$((now - last_start))" "$last_step")")
  last_step="$*"
  last_start=$now
  printf '\n== %s (%ss)\n' "$*" "$((now - started))"
}
# At the end, however the run ends: the time of each step, of the run, and of the last cold and warm
# runs on this machine (the record lives in the cache, so an empty cache starts a new one).
summary() {
  local status=$? now
  now=$(date +%s)
  [ -z "$last_step" ] || steps+=("$(printf '%5ss  %s' "$((now - last_start))" "$last_step")")
  printf '\n== times (%s run, exit %s)\n' "$temperature" "$status"
  printf '%s\n' "${steps[@]}"
  printf '%5ss  in all\n' "$((now - started))"
  if [ "$status" = 0 ]; then
    mkdir -p "$cache"
    printf '%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$temperature" "$((now - started))" >>"$cache/run-times.tsv"
  fi
  if [ -f "$cache/run-times.tsv" ]; then
    local kind line
    for kind in cold warm; do
      line=$(grep -P "\t$kind\t" "$cache/run-times.tsv" | tail -n 1 || true)
      [ -z "$line" ] || printf 'last passing %s run here: %ss (%s)\n' "$kind" "$(cut -f3 <<<"$line")" "$(cut -f1 <<<"$line")"
    done
  fi
}
# stack_stop (infra/localstack/stack.sh) keeps the servers' logs when the run failed; both see its status.
set_status() { return "$1"; }
on_exit() {
  local status=$?
  set +e
  if declare -F stack_stop >/dev/null; then
    set_status "$status"
    stack_stop
  fi
  set_status "$status"
  summary
}
trap on_exit EXIT
trap 'exit 130' INT TERM

if [ "${DELTAONE_SKIP_LINT:-0}" != 1 ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

# Everything the tests run is built here, the servers starting meanwhile. Two builds, because the
# tests' dev-dependencies switch features on in a few shared crates: (1) every binary as `cargo demo`,
# `cargo lambda watch` and the examples build it (the demo's work is reused whole, and the smoke checks
# compile nothing); (2) every target with the tests' features (the test binaries, and the `deltaone`
# CLI the system tests run), which `cargo nextest run` then finds built.
step "building binaries and tests; starting the local stack"
source infra/localstack/stack.sh
DELTAONE_STACK_TRAPS=0 # this script stops the stack in its own exit trap
build_log=$(mktemp)
if command -v cargo-nextest >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace --locked)
else
  runner=(cargo test --workspace --locked)
fi
{
  cargo build --workspace --bins --locked &&
    cargo build --workspace --all-targets --locked &&
    "${runner[@]}" --no-run
} >"$build_log" 2>&1 &
build_pid=$!
stack_start
if ! wait "$build_pid"; then
  cat "$build_log" >&2
  exit 1
fi
rm -f "$build_log"

step "cargo lambda watch + invoke (infra/localstack/lambda-smoke.sh)"
bash infra/localstack/lambda-smoke.sh

step "query API through cargo lambda watch (functions/query-api/smoke.sh)"
bash functions/query-api/smoke.sh

step "deployment checks: terraform fmt/validate, checkov (infra/deploy-checks.sh)"
bash infra/deploy-checks.sh

step "drift job image: built offline (FROM scratch) and run with Docker (infra/drift-image.sh)"
bash infra/drift-image.sh

step "deploy: terraform apply -> use -> destroy against a fresh moto (infra/deploy-apply.sh)"
bash infra/deploy-apply.sh

step "examples (samples/examples/run.sh)"
bash samples/examples/run.sh

step "Parquet files from pyarrow, Polars and DuckDB for the reading tests (tests/parquet-writers/generate.sh)"
bash tests/parquet-writers/generate.sh >/dev/null

step "tests (${runner[*]})"
"${runner[@]}" --no-fail-fast "$@"
