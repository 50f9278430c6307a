"""Generates the drift benchmark's prediction logs: a reference and a current window of N rows each.

    python gen.py --rows N --out DIR

Writes DIR/reference/part-*.parquet and DIR/current/part-*.parquet (snappy, several row groups per
file, at most ROWS_PER_FILE rows per file) and DIR/manifest.json, last, as the mark of a complete set.
Deterministic: the same N gives the same bytes of data (seeded per window and per row group).

Columns (the drift job analyses all but event_time and label):
  event_time         timestamp[ms]  skipped by the job (a time column)
  num_0 … num_9      10 numeric features, mixed distributions (see NUMERIC below), some drifted
  cat_0 … cat_4      5 categorical features: plain strings and dictionaries of strings
  prediction         float64 probability from a logistic model of some features
  label              int8 0/1, drawn from the prediction
Needs numpy and pyarrow only.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_FILE = 2_500_000
ROW_GROUP_ROWS = 250_000
# Bump when the data changes, so that cached sets are regenerated.
GENERATOR_VERSION = 1

# What each column is, and how it drifts in the current window ("-" where it does not).
NUMERIC = {
    "num_0": "normal(0, 1); current mean +0.05",
    "num_1": "lognormal(0, 1): heavy right tail",
    "num_2": "Student t, 2 degrees of freedom: heavy tails both ways; current scale x1.1",
    "num_3": "Poisson(4) as int64: many ties",
    "num_4": "uniform(0, 100) rounded to 0.01: ties",
    "num_5": "exponential(2) with 5% nulls",
    "num_6": "normal(10, 3) with 1% NaN and 0.01% +inf / -inf",
    "num_7": "Pareto(1.5) + 1: very heavy tail; current shape 1.4",
    "num_8": "bimodal mixture of normals (30% at -2, 70% at +3)",
    "num_9": "gamma(2, 1.5) as float32",
}
CATEGORICAL = {
    "cat_0": "5 categories, uniform, dictionary-encoded strings",
    "cat_1": "50 categories, Zipf-like, plain strings",
    "cat_2": "3 categories, dictionary; current shares shift (0.5/0.3/0.2 -> 0.45/0.33/0.22)",
    "cat_3": "10 categories with 2% nulls, plain strings",
    "cat_4": "8 categories, dictionary; current has an unseen category 'new_segment' (1%)",
}


def numeric(rng, n, current):
    cols = {}
    cols["num_0"] = rng.normal(0.05 if current else 0.0, 1.0, n)
    cols["num_1"] = rng.lognormal(0.0, 1.0, n)
    cols["num_2"] = rng.standard_t(2, n) * (1.1 if current else 1.0)
    cols["num_3"] = rng.poisson(4.0, n).astype(np.int64)
    cols["num_4"] = np.round(rng.uniform(0.0, 100.0, n), 2)
    cols["num_5"] = rng.exponential(2.0, n)
    num_6 = rng.normal(10.0, 3.0, n)
    special = rng.random(n)
    num_6[special < 0.01] = np.nan
    num_6[(special >= 0.01) & (special < 0.01005)] = np.inf
    num_6[(special >= 0.01005) & (special < 0.0101)] = -np.inf
    cols["num_6"] = num_6
    cols["num_7"] = rng.pareto(1.4 if current else 1.5, n) + 1.0
    mode = rng.random(n) < 0.3
    cols["num_8"] = np.where(mode, rng.normal(-2.0, 0.7, n), rng.normal(3.0, 1.2, n))
    cols["num_9"] = rng.gamma(2.0, 1.5, n).astype(np.float32)
    arrays = {}
    for name, values in cols.items():
        if name == "num_5":
            arrays[name] = pa.array(values, mask=rng.random(n) < 0.05)
        else:
            arrays[name] = pa.array(values)
    return cols, arrays


def categorical(rng, n, current):
    def choice(labels, p, dictionary, null_share=0.0):
        idx = rng.choice(len(labels), size=n, p=p).astype(np.int32)
        mask = rng.random(n) < null_share if null_share else None
        dictionary_array = pa.array(labels, type=pa.string())
        encoded = pa.DictionaryArray.from_arrays(pa.array(idx, mask=mask), dictionary_array)
        return encoded if dictionary else encoded.cast(pa.string())

    zipf = 1.0 / np.arange(1, 51) ** 1.1
    cat_4_labels = [f"segment_{i}" for i in range(8)]
    cat_4_p = np.full(8, 1 / 8)
    if current:
        cat_4_labels = cat_4_labels + ["new_segment"]
        cat_4_p = np.append(cat_4_p * 0.99, 0.01)
    return {
        "cat_0": choice(["red", "green", "blue", "black", "white"], np.full(5, 0.2), True),
        "cat_1": choice([f"city_{i:02d}" for i in range(50)], zipf / zipf.sum(), False),
        "cat_2": choice(["web", "mobile", "store"], [0.45, 0.33, 0.22] if current else [0.5, 0.3, 0.2], True),
        "cat_3": choice([f"tier_{c}" for c in "abcdefghij"], np.full(10, 0.1), False, null_share=0.02),
        "cat_4": choice(cat_4_labels, cat_4_p, True),
    }


def chunk(seed, start, n, current, start_ms):
    rng = np.random.default_rng(seed)
    cols, arrays = numeric(rng, n, current)
    arrays.update(categorical(rng, n, current))
    logit = 0.8 * cols["num_0"] - 0.3 * np.clip(cols["num_2"], -5, 5) + 0.02 * (cols["num_4"] - 50) - 0.5
    prediction = 1.0 / (1.0 + np.exp(-logit))
    label = (rng.random(n) < prediction).astype(np.int8)
    times = start_ms + (np.arange(start, start + n, dtype=np.int64) * 50)
    table = {"event_time": pa.array(times, type=pa.timestamp("ms"))}
    table.update({name: arrays[name] for name in list(NUMERIC) + list(CATEGORICAL)})
    table["prediction"] = pa.array(prediction)
    table["label"] = pa.array(label)
    return pa.table(table)


def write_window(directory, rows, seed, current):
    directory.mkdir(parents=True, exist_ok=True)
    start_ms = 1_790_000_000_000 if current else 1_780_000_000_000
    files = []
    for file_index, file_start in enumerate(range(0, rows, ROWS_PER_FILE)):
        file_rows = min(ROWS_PER_FILE, rows - file_start)
        path = directory / f"part-{file_index:03d}.parquet"
        writer = None
        for group_start in range(file_start, file_start + file_rows, ROW_GROUP_ROWS):
            n = min(ROW_GROUP_ROWS, file_start + file_rows - group_start)
            table = chunk([seed, group_start], group_start, n, current, start_ms)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        writer.close()
        files.append(str(path.relative_to(directory.parent)))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="rows per window")
    parser.add_argument("--out", type=Path, required=True, help="directory for reference/, current/, manifest.json")
    args = parser.parse_args()
    if args.rows <= 0:
        parser.error("--rows must be positive")
    started = time.perf_counter()
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "rows_per_window": args.rows,
        "rows_per_file": ROWS_PER_FILE,
        "row_group_rows": ROW_GROUP_ROWS,
        "numeric": NUMERIC,
        "categorical": CATEGORICAL,
        "reference": write_window(args.out / "reference", args.rows, 1, False),
        "current": write_window(args.out / "current", args.rows, 2, True),
    }
    manifest["bytes"] = sum(os.path.getsize(args.out / f) for f in manifest["reference"] + manifest["current"])
    manifest["seconds"] = round(time.perf_counter() - started, 1)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"gen: {args.rows:,} rows per window, {manifest['bytes'] / 2**20:.0f} MiB in {manifest['seconds']} s")


if __name__ == "__main__":
    main()
