#!/usr/bin/env python3
"""Reference values for the multiple-comparison corrections in `src/drift/policy.rs`.

Writes `src/drift/testdata/multiple_testing.json`: vectors of p-values (ties, zeros, ones, NaN,
values down to 1e-300, up to 200 columns) with statsmodels' `multipletests` results for
`fdr_bh` (Benjamini–Hochberg) and `bonferroni`. NaN entries are left out of the test, as the
Rust code does (statsmodels refuses NaN), and expected as NaN. The Rust test allows a relative
difference of 1e-14 (statsmodels divides by rank/m, we multiply by m/rank: a few ulps apart).

How to run (from the repository root; the venv is throwaway and is not committed):

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install numpy statsmodels
    /tmp/refvenv/bin/python bench/reference/decision_reference.py

Floats are stored as Python's shortest round-trip repr, which Rust's `str::parse` reads exactly.
"""

import json
import math
import platform
from pathlib import Path

import numpy as np
import statsmodels
from statsmodels.stats.multitest import multipletests

OUT = Path(__file__).resolve().parents[2] / "src" / "drift" / "testdata" / "multiple_testing.json"


def fl(x):
    return "NaN" if math.isnan(x) else repr(float(x))


def adjust(p, method):
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = ~np.isnan(p)
    if finite.any():
        out[finite] = multipletests(p[finite], method=method)[1]
    return out


def main():
    rng = np.random.default_rng(20261207)
    cases = {
        "hand": [0.03, 0.5, 0.01, 0.02],
        "ties": [0.01, 0.01, 0.04, 0.04, 0.04, 0.9],
        "zeros_and_ones": [0.0, 1.0, 0.0, 0.5, 1.0],
        "with_nan": [0.2, float("nan"), 0.001, 0.04, float("nan")],
        "tiny": [1e-300, 1e-44, 5e-12, 0.003, 0.2],
        "single": [0.07],
        "uniform_20": list(rng.random(20)),
        "mixed_200": list(np.concatenate([rng.random(150), rng.random(50) * 1e-4])),
        "near_threshold_9": list(rng.uniform(0.0, 0.1, 9)),
    }
    fixture = {
        "generated_by": {
            "script": "bench/reference/decision_reference.py",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "cases": [
            {
                "name": name,
                "p_values": [fl(x) for x in p],
                "fdr_bh": [fl(x) for x in adjust(p, "fdr_bh")],
                "bonferroni": [fl(x) for x in adjust(p, "bonferroni")],
            }
            for name, p in cases.items()
        ],
    }
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
