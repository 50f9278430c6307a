#!/usr/bin/env bash
# Basic detection: is a model's newest version a DeltaOne, i.e. at least 1 pp better than its
# benchmarked baseline? The CLI decides, records the verdict once and writes it back to MLflow.
#
#   bash samples/examples/run.sh basic-detection
#
# Needs: MLFLOW_TRACKING_URI, DELTAONE_VERDICT_TABLE (and AWS credentials, or an emulator's
# AWS_ENDPOINT_URL); run.sh sets them for the local stack.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
model="fraud-detector-${EXAMPLE_RUN:-1}"

# The registry as training left it: v1 is the benchmark (accuracy 0.90), v2 is new (0.915).
registry model "$model"
registry version "$model" --metric accuracy=0.90 --tag benchmark_value=0.90 --tag benchmark_metric=accuracy
registry version "$model" --metric accuracy=0.915

# 1. Decide for the newest version and change nothing.
deltaone check "$model" --dry-run

# 2. Decide, record the verdict once and write deltaone_achieved / delta_value back to MLflow.
deltaone check "$model"
deltaone check "$model" # a second check finds the verdict already recorded: nothing changes

# 3. What is recorded.
deltaone status "$model"

expect "the verdict" "$(deltaone check "$model" --dry-run --json | json_field outcome)" achieved
expect "the delta" "$(deltaone check "$model" --dry-run --json | json_field delta_pp)" 1.5
expect "v2's deltaone_achieved tag" "$(registry tag "$model" 2 deltaone_achieved)" true
