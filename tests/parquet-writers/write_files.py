#!/usr/bin/env python3
"""Writes the Parquet files the reading tests use, with the writers users have: pyarrow, Polars and DuckDB.

    python write_files.py OUT

Deterministic data (numpy's seeded PCG64), the same table handed to every writer:

  OUT/codecs/<writer>/<codec>/{reference,current}.parquet
      writer: pyarrow, polars, duckdb; codec: uncompressed, snappy, zstd, gzip, lz4 (LZ4_RAW, what all
      three write for "lz4"), brotli. Every file of a writer holds the same values: the drift job must
      give the same statistics for each codec as for its snappy twin, and the evaluation function must
      read each.
  OUT/encodings/<variant>/{reference,current}.parquet
      the same table written with other encodings and page formats (see ENCODINGS): the statistics
      must equal those of pyarrow's snappy files (DuckDB's variant: of DuckDB's snappy files).
  OUT/types/{reference,current}.parquet
      timestamps in s/ms/us/ns, large strings and binary, decimals beside their float64 values,
      nested columns; OUT/types-int96/{reference,current}.parquet the same with INT96 timestamps.
  OUT/manifest.json
      what was written, the writers' versions and each file's codecs and encodings as DuckDB reads
      them from the footer; written last, as the mark of a complete set.

Times: row i of the reference window is at 2026-01-01T00:00:00Z + i seconds, of the current window at
2026-02-01T00:00:00Z + i seconds (whatever the unit), so a test knows how many rows a time window holds.
"""

import json
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 20_000
ROW_GROUP_ROWS = 6_000
CODECS = ["uncompressed", "snappy", "zstd", "gzip", "lz4", "brotli"]
REFERENCE_START_S = 1_767_225_600  # 2026-01-01T00:00:00Z
CURRENT_START_S = 1_769_904_000  # 2026-02-01T00:00:00Z


def window(seed, current):
    """The table every writer is given."""
    rng = np.random.default_rng(seed)
    n = ROWS
    shift = 0.2 if current else 0.0

    def with_nulls(values, share):
        return pa.array(values, mask=rng.random(n) < share)

    lognormal = rng.lognormal(shift, 1.0, n)
    lognormal[rng.random(n) < 0.01] = np.nan
    categories = np.array(["red", "green", "blue", "black", "white", "grey"])
    shares = [0.3, 0.25, 0.2, 0.1, 0.1, 0.05] if not current else [0.25, 0.25, 0.2, 0.15, 0.1, 0.05]
    many = np.array([f"city_{i:03d}" for i in range(200)])
    zipf = 1.0 / np.arange(1, 201) ** (1.0 if not current else 1.1)
    logit = rng.normal(shift - 0.3, 1.2, n)
    score = 1.0 / (1.0 + np.exp(-logit))
    label = (rng.random(n) < score).astype(np.int8)
    start = CURRENT_START_S if current else REFERENCE_START_S
    return pa.table({
        "event_time": pa.array((start + np.arange(n)) * 1_000_000, type=pa.timestamp("us")),
        "num_normal": with_nulls(rng.normal(shift, 1.0, n), 0.05),
        "num_lognormal": pa.array(lognormal),
        "num_f32": pa.array(rng.gamma(2.0, 1.5 + shift, n).astype(np.float32)),
        "num_int": with_nulls(rng.poisson(4.0 + shift, n).astype(np.int64), 0.02),
        "num_i32": pa.array(rng.integers(-50_000, 50_000, n).astype(np.int32)),
        "num_dec": pa.array(decimals(rng.normal(100.0 + shift, 20.0, n), 3), type=pa.decimal128(12, 3)),
        "cat_str": with_nulls(rng.choice(categories, n, p=shares), 0.03),
        "cat_many": pa.array(rng.choice(many, n, p=zipf / zipf.sum())),
        "flag": pa.array(rng.random(n) < (0.3 + shift / 4)),
        "score": pa.array(score),
        "label": pa.array(label),
    })


def decimals(values, scale):
    return [Decimal(int(round(v * 10**scale))).scaleb(-scale) for v in values]


def types_window(seed, current):
    """Timestamps of every unit, large strings and binary, decimals, nested columns."""
    rng = np.random.default_rng(seed)
    n = ROWS
    shift = 0.2 if current else 0.0
    start = CURRENT_START_S if current else REFERENCE_START_S
    seconds = start + np.arange(n)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    text = rng.choice(words, n, p=[0.4, 0.3, 0.15, 0.1, 0.05] if not current else [0.3, 0.3, 0.2, 0.1, 0.1])
    small = np.round(rng.normal(50.0 + shift, 10.0, n), 2)
    wide = np.round(rng.normal(1000.0 + shift, 300.0, n), 4)
    return pa.table({
        "ts_s": pa.array(seconds, type=pa.timestamp("s")),
        "ts_ms": pa.array(seconds * 1_000, type=pa.timestamp("ms")),
        "ts_us": pa.array(seconds * 1_000_000, type=pa.timestamp("us", tz="UTC")),
        "ts_ns": pa.array(seconds * 1_000_000_000, type=pa.timestamp("ns")),
        "text": pa.array(text, type=pa.string()),
        "text_large": pa.array(text, type=pa.large_string()),
        "blob": pa.array([w.encode() for w in text], type=pa.binary()),
        "blob_large": pa.array([w.encode() for w in text], type=pa.large_binary()),
        # Decimals beside the float64 of the same numbers (each value's nearest double).
        "dec_32": pa.array(decimals(small, 2), type=pa.decimal128(9, 2)),
        "dec_64": pa.array(decimals(wide, 4), type=pa.decimal128(18, 4)),
        "dec_128": pa.array(decimals(wide, 4), type=pa.decimal128(30, 4)),
        "dec_256": pa.array(decimals(wide, 4), type=pa.decimal256(45, 4)),
        "small_f64": pa.array(small),
        "wide_f64": pa.array(wide),
        "nested_struct": pa.array([{"a": int(i), "b": str(w)} for i, w in zip(range(n), text)]),
        "nested_list": pa.array([[float(x), float(x) + 1] for x in small]),
        "nested_map": pa.array([[(str(w), int(i))] for i, w in zip(range(n), text)],
                               type=pa.map_(pa.string(), pa.int64())),
        "score": pa.array(1.0 / (1.0 + np.exp(-rng.normal(shift, 1.0, n)))),
        "label": pa.array(rng.random(n) < 0.4),
    })


def write_pyarrow(table, path, **options):
    options.setdefault("row_group_size", ROW_GROUP_ROWS)
    # Small pages: a column chunk is many pages, as in a large file.
    options.setdefault("data_page_size", 16 * 1024)
    pq.write_table(table, path, **options)


def write_polars(table, path, codec):
    pl.from_arrow(table).write_parquet(path, compression=codec, row_group_size=ROW_GROUP_ROWS,
                                       data_page_size=16 * 1024)


def write_duckdb(table, path, codec, version="V1"):
    con = duckdb.connect()
    con.register("window_table", table)
    con.execute(f"COPY window_table TO '{path}' (FORMAT parquet, COMPRESSION {codec}, "
                f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}, PARQUET_VERSION {version})")
    con.close()


# Columns written with each non-default encoding (pyarrow needs dictionaries off for them).
DELTA = {
    "num_int": "DELTA_BINARY_PACKED",
    "num_i32": "DELTA_BINARY_PACKED",
    "cat_str": "DELTA_LENGTH_BYTE_ARRAY",
    "cat_many": "DELTA_BYTE_ARRAY",
    "flag": "RLE",
    "num_normal": "BYTE_STREAM_SPLIT",
    "num_f32": "BYTE_STREAM_SPLIT",
}

# Fixed-width columns written with BYTE_STREAM_SPLIT (floats, integers and the decimal's fixed-length bytes).
SPLIT = ["num_normal", "num_lognormal", "num_f32", "num_int", "num_i32", "num_dec", "score"]

ENCODINGS = {
    "pyarrow-plain": lambda t, p: write_pyarrow(t, p, compression="snappy", use_dictionary=False),
    "pyarrow-dictionary": lambda t, p: write_pyarrow(t, p, compression="snappy", use_dictionary=True),
    "pyarrow-delta": lambda t, p: write_pyarrow(t, p, compression="zstd", use_dictionary=False,
                                                column_encoding=DELTA, data_page_version="2.0"),
    "pyarrow-byte-stream-split": lambda t, p: write_pyarrow(t, p, compression="snappy", use_dictionary=False,
                                                            use_byte_stream_split=SPLIT),
    "pyarrow-page-v2": lambda t, p: write_pyarrow(t, p, compression="snappy", data_page_version="2.0"),
    "pyarrow-page-v2-uncompressed": lambda t, p: write_pyarrow(t, p, compression="none", data_page_version="2.0"),
    "duckdb-v2": lambda t, p: write_duckdb(t, p, "zstd", version="V2"),
}


def footer(path):
    """Codecs and encodings per column as DuckDB reads them from the footer."""
    rows = duckdb.sql(f"SELECT path_in_schema, compression, encodings FROM parquet_metadata('{path}')").fetchall()
    columns = {}
    for column, codec, encodings in rows:
        entry = columns.setdefault(column, {"codecs": set(), "encodings": set()})
        entry["codecs"].add(codec)
        entry["encodings"].update(e.strip() for e in encodings.split(","))
    return {c: {k: sorted(v) for k, v in e.items()} for c, e in columns.items()}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    windows = {"reference": window(11, False), "current": window(12, True)}
    manifest = {
        "rows_per_window": ROWS,
        "versions": {"pyarrow": pa.__version__, "polars": pl.__version__, "duckdb": duckdb.__version__,
                     "numpy": np.__version__},
        "codecs": CODECS,
        "files": {},
    }

    def written(path):
        manifest["files"][str(path.relative_to(out))] = footer(path)

    for writer in ["pyarrow", "polars", "duckdb"]:
        for codec in CODECS:
            directory = out / "codecs" / writer / codec
            directory.mkdir(parents=True, exist_ok=True)
            for side, table in windows.items():
                path = directory / f"{side}.parquet"
                if writer == "pyarrow":
                    write_pyarrow(table, path, compression="none" if codec == "uncompressed" else codec)
                elif writer == "polars":
                    write_polars(table, path, codec)
                else:
                    write_duckdb(table, path, codec)
                written(path)
    for variant, write in ENCODINGS.items():
        directory = out / "encodings" / variant
        directory.mkdir(parents=True, exist_ok=True)
        for side, table in windows.items():
            write(table, directory / f"{side}.parquet")
            written(directory / f"{side}.parquet")
    typed = {"reference": types_window(21, False), "current": types_window(22, True)}
    for variant, options in [("types", {"coerce_timestamps": None}), ("types-int96", {
            "use_deprecated_int96_timestamps": True})]:
        directory = out / variant
        directory.mkdir(parents=True, exist_ok=True)
        for side, table in typed.items():
            write_pyarrow(table, directory / f"{side}.parquet", compression="zstd", version="2.6", **options)
            written(directory / f"{side}.parquet")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
