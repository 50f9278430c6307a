"""The peer: Evidently 0.7's DataDriftPreset, defaults unchanged, over one set's windows.

    python evidently_decide.py --reference DIR --current DIR --numeric a,b --categorical c,d

Written as an Evidently user writes it (pandas.read_parquet of each window, a DataDefinition, a
Report with DataDriftPreset). Prints one JSON line: each column's method, score, threshold and
whether Evidently calls it drifted (p-value tests: score below the threshold, KS at or below;
distances: at or above), the preset's dataset verdict, and the wall and CPU seconds.
"""

import argparse
import json
import time

started = (time.perf_counter(), time.process_time())

import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402


def drifted(method, score, threshold):
    """Evidently's rule for its column tests (read from its stattests: p-values drift below the
    threshold, KS at or below it; distances at or above it)."""
    if score is None or threshold is None:
        return None
    name = method.lower()
    if "p_value" in name or "p-value" in name or name.startswith(("k-s", "chi-square", "z-test")):
        return score <= threshold if name.startswith("k-s") else score < threshold
    return score >= threshold


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--numeric", required=True)
    parser.add_argument("--categorical", default="")
    args = parser.parse_args()
    numeric = [c for c in args.numeric.split(",") if c]
    categorical = [c for c in args.categorical.split(",") if c]
    columns = numeric + categorical
    reference = pd.read_parquet(args.reference, columns=columns)
    current = pd.read_parquet(args.current, columns=columns)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset(columns=columns)]).run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    result = {"columns": {}, "dataset": None}
    for metric in snapshot.dict()["metrics"]:
        name, config, value = metric.get("metric_name", ""), metric.get("config", {}), metric.get("value")
        if name.startswith("DriftedColumnsCount"):
            result["dataset"] = {
                "count": float(value["count"]),
                "share": float(value["share"]),
                "drifted": float(value["share"]) >= float(config.get("drift_share", 0.5)),
            }
        elif name.startswith("ValueDrift") and "column" in config:
            score = float(value) if isinstance(value, (int, float)) else None
            method, threshold = config.get("method", ""), config.get("threshold")
            result["columns"][config["column"]] = {
                "method": method,
                "score": score,
                "threshold": threshold,
                "drifted": drifted(method, score, threshold),
            }
    result["wall_s"] = time.perf_counter() - started[0]
    result["cpu_s"] = time.process_time() - started[1]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
