"""The peer: Evidently 0.7's DataDriftPreset over the same Parquet windows the drift job reads.

    python evidently_drift.py --reference DIR --current DIR --numeric a,b --categorical c,d

Written as an Evidently user writes it: pandas.read_parquet of each window (only the analysed
columns), a DataDefinition naming the numeric and categorical columns, and a Report with
DataDriftPreset(columns=...) run on the two Datasets. Prints one JSON line with the time and CPU of
each phase (import, read, preset), the frames' in-memory size and the preset's verdict (drifted
columns, each column's method and score). bench.py measures the whole process from outside (wall,
user+sys CPU, peak RSS).
"""

import argparse
import json
import resource
import time

started = (time.perf_counter(), time.process_time())


def phase(since):
    """Wall and CPU seconds since `since`, and the new mark."""
    now = (time.perf_counter(), time.process_time())
    return {"wall_s": now[0] - since[0], "cpu_s": now[1] - since[1]}, now


import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

imported, mark = phase(started)


def verdict(snapshot):
    """The preset's drifted-column count and each column's method and score, from the snapshot."""
    result = {"drifted_columns": None, "columns": {}}
    try:
        for metric in snapshot.dict()["metrics"]:
            name, config, value = metric.get("metric_name", ""), metric.get("config", {}), metric.get("value")
            if name.startswith("DriftedColumnsCount"):
                result["drifted_columns"] = {"count": float(value["count"]), "share": float(value["share"])}
            elif name.startswith("ValueDrift") and "column" in config:
                result["columns"][config["column"]] = {
                    "method": config.get("method"),
                    "score": value if isinstance(value, (int, float)) else None,
                    "threshold": config.get("threshold"),
                }
    except Exception as e:  # the verdict is informative only; the timing stands without it
        result["error"] = f"{type(e).__name__}: {e}"
    return result


def main():
    global mark
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="directory of the reference window's Parquet files")
    parser.add_argument("--current", required=True, help="directory of the current window's Parquet files")
    parser.add_argument("--numeric", required=True, help="comma-separated numeric columns")
    parser.add_argument("--categorical", default="", help="comma-separated categorical columns")
    args = parser.parse_args()
    numeric = [c for c in args.numeric.split(",") if c]
    categorical = [c for c in args.categorical.split(",") if c]
    columns = numeric + categorical

    reference = pd.read_parquet(args.reference, columns=columns)
    current = pd.read_parquet(args.current, columns=columns)
    read, mark = phase(mark)
    frame_bytes = int(reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum())

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    report = Report([DataDriftPreset(columns=columns)])
    snapshot = report.run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    preset, mark = phase(mark)

    print(
        json.dumps(
            {
                "rows": [len(reference), len(current)],
                "import": imported,
                "read": read,
                "preset": preset,
                "frame_bytes": frame_bytes,
                "peak_rss_self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "verdict": verdict(snapshot),
            }
        )
    )


if __name__ == "__main__":
    main()
