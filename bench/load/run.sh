#!/usr/bin/env bash
# Load bench: exactly-once under 1,000 concurrent duplicates per entry (S3 direct, SNS, SQS, registry
# webhook), 10,000 distinct artifacts through SQS batches at the evaluation function's reserved
# concurrency, and the registry webhook's answer time (p50/p99) while MLflow is slow, queued against
# inline. Against the local stack (moto and MLflow on loopback), started here.
#
#   bash bench/load/run.sh                       every scenario at its default size
#   bash bench/load/run.sh --artifacts 1000      a smaller distinct run
#   bash bench/load/run.sh --help                the options
#
# Environment: BENCH_PROFILE (release by default; dev for a quick look), CARGO_TARGET_DIR respected.
# Each scenario prints a count-in = count-out line; the exit status is 1 when one does not match.
# Figures and how to read them: bench/load/README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
for arg in "$@"; do
  if [ "$arg" = "-h" ] || [ "$arg" = "--help" ]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    echo
    cargo run -q -p deltaone-system-tests --example load -- --help
    exit 0
  fi
done
profile=${BENCH_PROFILE:-release}
echo "bench/load: building the load example ($profile profile; minutes when cold)" >&2
cargo build -q --profile "$profile" -p deltaone-system-tests --example load
source infra/localstack/stack.sh
stack_start >/dev/null
started=$SECONDS
echo "bench/load: $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), git $(git rev-parse --short HEAD)"
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
dir=$profile
[ "$profile" = dev ] && dir=debug
"$target_dir/$dir/examples/load" "$@"
echo "bench/load: done in $((SECONDS - started))s (load average $(cut -d' ' -f1 /proc/loadavg))"
