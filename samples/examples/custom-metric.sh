#!/usr/bin/env bash
# A custom metric: an error rate in percent, where lower is better. Three registry tags on the
# model say so: benchmark_metric, benchmark_direction=lower and benchmark_scale=percent (0-100, so
# 1 pp is 1.0 on the metric's own scale). DELTAONE_THRESHOLD_PP moves the bar for every model.
#
#   bash samples/examples/run.sh custom-metric
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
model="checkout-errors-${EXAMPLE_RUN:-1}"

registry model "$model" --tag benchmark_metric=error_rate --tag benchmark_direction=lower \
  --tag benchmark_scale=percent
registry version "$model" --metric error_rate=7.5 --tag benchmark_value=7.5 # the benchmark
registry version "$model" --metric error_rate=6.9                            # 0.6 pp fewer errors
registry version "$model" --metric error_rate=6.2                            # 1.3 pp fewer errors

deltaone check "$model" --version 2 --dry-run
deltaone check "$model" --version 3 --dry-run
expect "v2's verdict (0.6 pp better)" "$(deltaone check "$model" --version 2 --dry-run --json | json_field outcome)" \
  not_achieved
expect "v3's verdict (1.3 pp better)" "$(deltaone check "$model" --version 3 --dry-run --json | json_field outcome)" \
  achieved
expect "v3's delta" "$(deltaone check "$model" --version 3 --dry-run --json | json_field delta_pp)" 1.3

# A stricter bar for this run only: 1.5 pp.
expect "v3's verdict at a 1.5 pp threshold" \
  "$(DELTAONE_THRESHOLD_PP=1.5 deltaone check "$model" --version 3 --dry-run --json | json_field outcome)" not_achieved
