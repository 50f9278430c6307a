#!/usr/bin/env bash
# Runs every test: formatting, clippy, the domain and adapter unit tests, and the system tests
# against real servers on loopback (moto for S3/DynamoDB/SNS/SQS, an MLflow server), which this
# script installs into a cached virtualenv and starts once for the whole run, and always stops.
#
#   bash tests/run.sh                 # everything
#   bash tests/run.sh -E 'test(cli)'  # extra arguments go to cargo nextest (a filter, say)
#
# Environment: DELTAONE_CACHE (default ~/.cache/deltaone) holds the virtualenv and, unless
# CARGO_TARGET_DIR is set, the cargo target directory, so that a fresh clone builds incrementally.
# DELTAONE_SKIP_LINT=1 skips fmt and clippy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

if [ "${DELTAONE_SKIP_LINT:-0}" != 1 ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

# The servers start while the tests compile.
step "building tests; starting the local stack"
source infra/localstack/stack.sh
build_log=$(mktemp)
if command -v cargo-nextest >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace --locked)
else
  runner=(cargo test --workspace --locked)
fi
"${runner[@]}" --no-run >"$build_log" 2>&1 &
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

step "Parquet files from pyarrow, Polars and DuckDB (tests/parquet-writers/generate.sh)"; bash tests/parquet-writers/generate.sh >/dev/null

step "tests (${runner[*]})"
"${runner[@]}" --no-fail-fast "$@"
step "done"
