"""The DeltaOne rule written the way a Python user would, with MlflowClient.

    MLFLOW_TRACKING_URI=http://... python python_check.py MODEL [--threshold PP]

Prints one JSON verdict on stdout. This is the baseline for bench/deltaone-check/run.sh: plain,
idiomatic client code, neither artificially slow nor tuned beyond what a normal user writes.

The rule (the same as `deltaone check`):
  - versions sorted numerically; the candidate is the newest;
  - the baseline is the newest version older than the candidate with a `benchmark_value` tag,
    else the first version;
  - the metric is the baseline's `benchmark_metric` tag, else the registered model's;
  - baseline value: its `benchmark_value` tag (first-version fallback: its run metric, else a tag
    named like the metric); candidate value: its run's metric, else a version tag of that name;
  - values are compared in decimal (from the float's repr); both in [0, 1] is a fraction (x100),
    both in (1, 100] is a percent; achieved when the delta is at least the threshold (1 pp).
"""

import argparse
import json
import sys
from decimal import Decimal

from mlflow.tracking import MlflowClient


def all_versions(client, model):
    versions, token = [], None
    while True:
        page = client.search_model_versions(f"name='{model}'", page_token=token)
        versions.extend(page)
        token = page.token
        if not token:
            return versions


def version_value(client, mv, metric):
    if mv.run_id:
        metrics = client.get_run(mv.run_id).data.metrics
        if metric in metrics:
            return float(metrics[metric])
    if metric in mv.tags:
        return float(mv.tags[metric])
    return None


def dec(x):
    return Decimal(repr(x))


def text(d):
    return format(d.normalize(), "f")


def check(client, model, threshold):
    verdict = {"model": model}
    versions = sorted(all_versions(client, model), key=lambda mv: int(mv.version))
    if not versions:
        return {**verdict, "outcome": "no_candidate"}
    candidate = versions[-1]
    verdict["candidate_version"] = candidate.version
    older = versions[:-1]
    if not older:
        return {**verdict, "outcome": "no_baseline"}
    tagged = [mv for mv in older if "benchmark_value" in mv.tags]
    baseline = tagged[-1] if tagged else older[0]
    verdict["baseline_version"] = baseline.version
    verdict["baseline_source"] = "tagged" if tagged else "first_version"

    metric = baseline.tags.get("benchmark_metric")
    if not metric:
        metric = client.get_registered_model(model).tags.get("benchmark_metric")
    if not metric:
        return {**verdict, "outcome": "metric_missing"}
    verdict["metric"] = metric

    if tagged:
        baseline_value = float(baseline.tags["benchmark_value"])
    else:
        baseline_value = version_value(client, baseline, metric)
    candidate_value = version_value(client, candidate, metric)
    if baseline_value is None or candidate_value is None:
        return {**verdict, "outcome": "metric_missing"}
    b, c = dec(baseline_value), dec(candidate_value)
    verdict["candidate_value"], verdict["baseline_value"] = text(c), text(b)

    if 0 <= b <= 1 and 0 <= c <= 1:
        scale, delta = "fraction", (c - b) * 100
    elif 1 < b <= 100 and 1 < c <= 100:
        scale, delta = "percent", c - b
    else:
        return {**verdict, "outcome": "scale_mismatch"}
    outcome = "achieved" if delta >= threshold else "not_achieved"
    return {**verdict, "outcome": outcome, "delta_pp": text(delta), "threshold_pp": text(threshold), "scale": scale}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--threshold", default="1", help="threshold in percentage points (default 1)")
    args = parser.parse_args()
    verdict = check(MlflowClient(), args.model, Decimal(args.threshold))
    json.dump(verdict, sys.stdout)
    print()


if __name__ == "__main__":
    main()
