"""Generates the decision-quality benchmark's windows, with known ground truth.

    python gen.py --rows N --out DIR

Writes two sets, each a reference and a current window of N rows (snappy Parquet, at most
ROWS_PER_FILE rows per file, ROW_GROUP_ROWS per row group):

  DIR/negligible/{reference,current}/part-*.parquet   every column shifted by a negligible amount
  DIR/drifted/{reference,current}/part-*.parquet      five columns with a real drift, three negligible

and DIR/truth.json (the ground truth per set and column), last, as the mark of a complete set.
Deterministic: the same N gives the same data (numpy PCG64 seeded per set, window and file).

The reference window of both sets is the same distribution. "Negligible" is 0.01 standard
deviations of location (the issue's case), or category shares moved by at most half a point
(Jensen-Shannon distance 0.006). The real drifts are one of each kind the issue names:

  location      n_normal       normal(0, 1)                   mean +0.25 SD
  scale         n_t            Student t, 5 degrees of freedom  scale x1.3
  tail          n_exponential  exponential(scale 2)          5 % of values x4 (a heavier right tail)
  category mix  c_mix          5 equally likely categories   shares 0.30/0.25/0.20/0.15/0.10
  new category  c_zipf         20 Zipf-like categories       2 % of rows in a category never seen
Needs numpy and pyarrow only.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_FILE = 2_500_000
ROW_GROUP_ROWS = 250_000
GENERATOR_VERSION = 1

# sd of each reference distribution, for shifts in standard deviations.
SD = {
    "n_normal": 1.0,
    "n_lognormal": float(np.sqrt((np.e - 1.0) * np.e)),
    "n_exponential": 2.0,
    "n_uniform": 100.0 / np.sqrt(12.0),
    "n_poisson": 2.0,
    "n_t": float(np.sqrt(5.0 / 3.0)),
}
NEGLIGIBLE_SHIFT_SD = 0.01
MIX = ["a", "b", "c", "d", "e"]
MIX_REFERENCE = [0.2] * 5
MIX_NEGLIGIBLE = [0.205, 0.2025, 0.2, 0.1975, 0.195]
MIX_DRIFTED = [0.30, 0.25, 0.20, 0.15, 0.10]
ZIPF = [f"z{i:02d}" for i in range(20)]
ZIPF_REFERENCE = list((1.0 / np.arange(1, 21)) / (1.0 / np.arange(1, 21)).sum())
NEW_CATEGORY = "z_new"
NEW_CATEGORY_SHARE = 0.02

TRUTH = {
    "negligible": {c: "negligible" for c in list(SD) + ["c_mix", "c_zipf"]},
    "drifted": {
        "n_normal": "location",
        "n_t": "scale",
        "n_exponential": "tail",
        "c_mix": "category mix",
        "c_zipf": "new category",
        "n_lognormal": "negligible",
        "n_uniform": "negligible",
        "n_poisson": "negligible",
    },
}


def window(rng, n, kind):
    """Columns of one window: kind is 'reference', 'negligible' or 'drifted'."""
    shift = 0.0 if kind == "reference" else NEGLIGIBLE_SHIFT_SD
    cols = {}
    drifted = kind == "drifted"
    cols["n_normal"] = rng.normal(0.25 if drifted else shift * SD["n_normal"], 1.0, n)
    cols["n_lognormal"] = rng.lognormal(0.0, 1.0, n) + shift * SD["n_lognormal"]
    exp = rng.exponential(2.0, n)
    if drifted:
        exp[rng.random(n) < 0.05] *= 4.0
    else:
        exp += shift * SD["n_exponential"]
    cols["n_exponential"] = exp
    cols["n_uniform"] = rng.uniform(0.0, 100.0, n) + shift * SD["n_uniform"]
    # Integers cannot move by 0.01 SD: the mean moves by 0.01 SD instead (Poisson(4) sd is 2).
    cols["n_poisson"] = rng.poisson(4.0 + shift * SD["n_poisson"], n).astype(np.int64)
    t = rng.standard_t(5, n)
    cols["n_t"] = t * 1.3 if drifted else t + shift * SD["n_t"]
    mix = {"reference": MIX_REFERENCE, "negligible": MIX_NEGLIGIBLE, "drifted": MIX_DRIFTED}[kind]
    cols["c_mix"] = pa.array(np.array(MIX)[rng.choice(5, n, p=mix)]).dictionary_encode()
    zipf = np.array(ZIPF, dtype=object)[rng.choice(20, n, p=ZIPF_REFERENCE)]
    if drifted:
        zipf[rng.random(n) < NEW_CATEGORY_SHARE] = NEW_CATEGORY
    elif kind == "negligible":
        # Half a point of the top category's share moves to the second.
        move = (zipf == ZIPF[0]) & (rng.random(n) < 0.005 / ZIPF_REFERENCE[0])
        zipf[move] = ZIPF[1]
    cols["c_zipf"] = pa.array(zipf.astype(str))
    return pa.table({k: (v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v)) for k, v in cols.items()})


def write(out, rows, set_name, side, seed):
    directory = out / set_name / side
    directory.mkdir(parents=True, exist_ok=True)
    kind = "reference" if side == "reference" else set_name
    for index, start in enumerate(range(0, rows, ROWS_PER_FILE)):
        n = min(ROWS_PER_FILE, rows - start)
        rng = np.random.default_rng([seed, index])
        pq.write_table(
            window(rng, n, kind), directory / f"part-{index:03d}.parquet", row_group_size=ROW_GROUP_ROWS,
            compression="snappy",
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, required=True, help="rows per window")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.time()
    for s, set_name in enumerate(["negligible", "drifted"]):
        # Both sets share the reference seed: the same reference window.
        write(args.out, args.rows, set_name, "reference", 1)
        write(args.out, args.rows, set_name, "current", 2 + s)
    truth = {"rows": args.rows, "generator_version": GENERATOR_VERSION, "sets": TRUTH}
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"generated {args.rows} rows per window in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
