#!/usr/bin/env bash
# Benchmark: `deltaone check` against a plain Python MlflowClient check of the same rule, end to
# end (process start to verdict), on one local MLflow server, at 10 and 5,000 model versions.
#
#   bash bench/deltaone-check/run.sh
#
# Environment:
#   DELTAONE_BIN      use this deltaone binary instead of building it (cargo build --release)
#   CARGO_TARGET_DIR  respected by the build
#   BENCH_RUNS        timed runs per command and size (default 5)
#   BENCH_RUN_EVERY   in the bulk of the versions, one in N is registered from a run (default 10)
# Prints a table and writes bench/out/deltaone-check.json. See README.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
started=$SECONDS

if [ -n "${DELTAONE_BIN:-}" ]; then
  bin=$DELTAONE_BIN
else
  echo "bench: building deltaone (release; several minutes when cold)" >&2
  cargo build --release -p deltaone-cli --bin deltaone
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin=$target_dir/release/deltaone
fi
[ -x "$bin" ] || { echo "bench: no deltaone binary at $bin" >&2; exit 1; }

# shellcheck source=../../infra/localstack/stack.sh
source "$root/infra/localstack/stack.sh"
stack_start
export MLFLOW_TRACKING_URI=$DELTAONE_TEST_MLFLOW_URL
python=$DELTAONE_VENV/bin/python

# NAME:VERSIONS:BASELINE — the baseline is the newest version tagged benchmark_value older than the
# newest version (the candidate); populate.py sets that up and bench.py checks both verdicts say so.
models=(bench_10:10:8 bench_5000:5000:4990)

populate_start=$SECONDS
"$python" "$here/populate.py" "${models[@]}"
echo "bench: populated the registry in $((SECONDS - populate_start))s" >&2

"$python" "$here/bench.py" --rust "$bin" --python "$python" --out "$root/bench/out/deltaone-check.json" "${models[@]}"
echo "bench: done in $((SECONDS - started))s" >&2
