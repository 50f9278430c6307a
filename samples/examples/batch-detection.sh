#!/usr/bin/env bash
# Batch detection: check every model a team owns in one command, at bounded concurrency, with one
# JSON line per model for the next step of a pipeline (`--all` checks every registered model).
#
#   bash samples/examples/run.sh batch-detection
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
run=${EXAMPLE_RUN:-1}
models=$(mktemp)
trap 'rm -f "$models" "$models.out"' EXIT

echo "# the team's models, one per line" >"$models"
for spec in "ranker:0.80:0.83" "churn:0.70:0.705" "fraud:0.90:0.91" "pricing::0.60"; do
  IFS=: read -r name benchmark candidate <<<"$spec"
  model="$name-$run"
  registry model "$model" --tag benchmark_metric=accuracy
  if [ -n "$benchmark" ]; then
    registry version "$model" --metric "accuracy=$benchmark" --tag "benchmark_value=$benchmark"
  fi
  registry version "$model" --metric "accuracy=$candidate"
  echo "$model" >>"$models"
done

deltaone check --models-file "$models" --concurrency 4 --json | tee "$models.out"
summary=$(python - "$models.out" <<'PY'
import collections, json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
counts = collections.Counter(line["outcome"] for line in lines)
print(" ".join(f"{k}={counts[k]}" for k in sorted(counts)))
PY
)
expect "the outcomes" "$summary" "achieved=2 no_baseline=1 not_achieved=1"
