#!/usr/bin/env python3
"""Reference values for the drift statistics in `src/drift/` (crate `deltaone`).

Generates deterministic test data (numpy's seeded PCG64 generator), runs the SciPy/NumPy
implementations the Rust code must agree with, and writes JSON fixtures into
`src/drift/testdata/`. The Rust unit tests read those fixtures with `include_str!`.

How to run (from the repository root; the venv is throwaway and is not committed):

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install numpy scipy
    /tmp/refvenv/bin/python bench/reference/drift_reference.py

The committed fixtures were produced with Python 3.11.7, numpy 2.4.6 and scipy 1.17.1 (the
versions are also written into every fixture under "generated_by"). If you regenerate with
another SciPy, re-read `scipy.stats.ks_2samp` and `scipy.stats._ksstats._kolmogn` first: the
Rust code mirrors their method selection, which may change between SciPy releases.

Data is stored as integers with a per-sample `scale` (value = integer / scale, computed as an
IEEE division on both sides), so that Python and Rust see bit-identical inputs. Expected values
are stored as strings holding Python's shortest round-trip repr of the float, which Rust parses
back exactly (serde_json's default float parser is not always correctly rounded).

What is computed, and the documented rules the Rust code implements:

* KS: `scipy.stats.ks_2samp(ref, cur)` (two-sided, method='auto': exact if max(n, m) <= 10000,
  else `kstwo.sf(D, round(n*m/(n+m)))`).
* Kolmogorov distribution: `scipy.stats.kstwo.sf(x, n)` on a grid that reaches every branch
  of SciPy's Simard & L'Ecuyer selection (label in "branch").
* Wasserstein-1: `scipy.stats.wasserstein_distance(ref, cur)`; normalised by
  `max(np.std(ref), 0.001)` (population std, ddof=0, as Evidently does).
* Binning, default ("reference quantiles", k bins, k = 10): inner edges are
  `np.quantile(ref, [i/k for i in 1..k-1])` (numpy's default 'linear' method), deduplicated
  with `np.unique`; bins are [-inf, e1), [e1, e2), ..., [e_last, +inf), i.e. a value's bin is
  `np.searchsorted(edges, value, side='right')`.
* Binning, Evidently-compatible: if the reference has more than 20 distinct values, edges are
  `np.histogram_bin_edges(concat(ref, cur), bins='sturges')` and shares come from
  `np.histogram`; otherwise one bin per distinct value of ref or cur (sorted).
* PSI: empty shares are replaced, each side separately and without renormalising, by 1e-4, or
  by min_nonzero/1e6 when the smallest nonzero share is <= 1e-4 (Evidently's rule);
  PSI = sum((r - c) * ln(r / c)).
* Jensen-Shannon distance: `scipy.spatial.distance.jensenshannon(r, c)` on the raw shares
  (natural log, no zero filling).
  The Evidently-compatible PSI and Jensen-Shannon values and the normalised Wasserstein distance
  were cross-checked once against evidently 0.7.23's own stattests
  (`evidently.legacy.calculations.stattests.{psi,jensenshannon,wasserstein_distance_norm}`, with
  pandas 2.3.3) on every fixture case: largest relative difference 1.3e-16. Evidently is not
  needed to run this script.
* Chi-square: `scipy.stats.chi2_contingency([[ref counts], [cur counts]])` over the union of
  categories (Yates' correction applies only when dof == 1), plus `scipy.stats.chi2.sf` on a
  grid to pin the survival function down to tiny p-values.
"""

import json
import math
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

OUT = Path(__file__).resolve().parents[2] / "src" / "drift" / "testdata"
GENERATED_BY = {
    "script": "bench/reference/drift_reference.py",
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
}
EXACT_MAX_N = 10000  # scipy's MAX_AUTO_N in ks_2samp


def fl(x):
    return float(x)


def scaled(values, scale):
    """Round to the grid 1/scale and return (ints, float values as the tests will see them)."""
    ints = np.round(np.asarray(values, dtype=np.float64) * scale).astype(np.int64)
    return ints, ints.astype(np.float64) / float(scale)


# --------------------------------------------------------------------------- binning and shares


def fill_empty_shares(shares):
    shares = np.array(shares, dtype=np.float64)
    nonzero = shares[shares != 0]
    smallest = nonzero.min()
    fill = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    shares[shares == 0] = fill
    return shares


def psi(ref_shares, cur_shares):
    r = fill_empty_shares(ref_shares)
    c = fill_empty_shares(cur_shares)
    return fl(np.sum((r - c) * np.log(r / c)))


def quantile_bins(ref, cur, k=10):
    probs = [i / k for i in range(1, k)]
    edges = np.unique(np.quantile(ref, probs))
    nb = len(edges) + 1
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=nb) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=nb) / len(cur)
    return {
        "bins": k,
        "edges": [fl(e) for e in edges],
        "reference_shares": [fl(x) for x in r],
        "current_shares": [fl(x) for x in c],
        "psi": psi(r, c),
        "jensenshannon": fl(jensenshannon(r, c)),
    }


def evidently_bins(ref, cur):
    if len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
        layout = {"kind": "sturges", "edges": [fl(e) for e in edges]}
    else:
        keys = np.unique(np.concatenate([ref, cur]))
        r = np.array([np.count_nonzero(ref == k) for k in keys]) / len(ref)
        c = np.array([np.count_nonzero(cur == k) for k in keys]) / len(cur)
        layout = {"kind": "distinct", "values": [fl(k) for k in keys]}
    return {
        **layout,
        "reference_shares": [fl(x) for x in r],
        "current_shares": [fl(x) for x in c],
        "psi": psi(r, c),
        "jensenshannon": fl(jensenshannon(r, c)),
    }


# --------------------------------------------------------------------------- numeric cases


def summary(values):
    q = np.quantile(values, [0.25, 0.5, 0.75])
    return {
        "count": len(values),
        "mean": fl(np.mean(values)),
        "std": fl(np.std(values)),
        "min": fl(np.min(values)),
        "max": fl(np.max(values)),
        "p25": fl(q[0]),
        "p50": fl(q[1]),
        "p75": fl(q[2]),
    }


def ks(ref, cur):
    method = "exact" if max(len(ref), len(cur)) <= EXACT_MAX_N else "asymptotic"
    with warnings.catch_warnings():
        # scipy warns when the exact computation fails and it falls back; we want to know.
        warnings.simplefilter("error", RuntimeWarning)
        res = stats.ks_2samp(ref, cur)
    return {"statistic": fl(res.statistic), "p_value": fl(res.pvalue), "method": method}


def numeric_expected(ref, cur):
    wd = stats.wasserstein_distance(ref, cur)
    ref_std = np.std(ref)
    return {
        "ks": ks(ref, cur),
        "wasserstein": {
            "raw": fl(wd),
            "reference_std": fl(ref_std),
            "normalised": fl(wd / max(ref_std, 0.001)),
        },
        "quantile_bins": quantile_bins(ref, cur),
        "evidently_bins": evidently_bins(ref, cur),
        "reference_summary": summary(ref),
        "current_summary": summary(cur),
    }


def numeric_case(name, ref, cur, scale, note):
    ref_ints, ref_vals = scaled(ref, scale)
    cur_ints, cur_vals = scaled(cur, scale)
    return {
        "name": name,
        "note": note,
        "scale": scale,
        "reference": ref_ints.tolist(),
        "current": cur_ints.tolist(),
        "expected": numeric_expected(ref_vals, cur_vals),
    }


def twice(values):
    return values, values.copy()


def numeric_cases():
    rng = np.random.default_rng(20240611)
    cases = [
        numeric_case("normal_small_shift", rng.normal(0, 1, 30), rng.normal(0.8, 1, 40), 1000,
                     "n=30/40: exact KS path with unequal sizes, clear shift"),
        numeric_case("normal_small_same", rng.normal(0, 1, 30), rng.normal(0, 1, 40), 1000,
                     "n=30/40 from the same distribution"),
        numeric_case("equal_sizes_shift", rng.normal(0, 1, 30), rng.normal(0.5, 1, 30), 1000,
                     "n=m=30: exact KS path with equal sizes"),
        numeric_case("ties_integers", np.round(rng.normal(5, 2, 300)), np.round(rng.normal(5.6, 2, 250)), 1,
                     "integer-rounded values: heavy ties, <= 20 distinct values (Evidently: one bin per value)"),
        numeric_case("ties_one_decimal", np.round(rng.normal(0, 1, 400), 1), np.round(rng.normal(0.1, 1.2, 500), 1),
                     10, "values rounded to one decimal: ties, > 20 distinct values (Evidently: Sturges)"),
        numeric_case("cauchy_heavy_tails", rng.standard_cauchy(500), 1.5 * rng.standard_cauchy(600) + 0.2, 1000,
                     "standard Cauchy vs scaled and shifted Cauchy: heavy tails"),
        numeric_case("constant_equal", np.full(50, 3.0), np.full(60, 3.0), 1,
                     "both columns constant and equal: D = 0, std 0"),
        numeric_case("constant_shifted", np.full(50, 3.0), np.full(60, 4.0), 1,
                     "both columns constant, different constants"),
        numeric_case("constant_reference", np.full(100, 1.0), rng.normal(1, 0.1, 80), 1000,
                     "constant reference (std 0: Wasserstein normalised by 0.001)"),
        numeric_case("identical_samples", *twice(rng.normal(0, 1, 100)), 1000, "current equals reference"),
        numeric_case("single_values", [1.5], [2.5], 10, "one value on each side"),
        numeric_case("tiny_unequal", rng.normal(0, 1, 3), rng.normal(1, 1, 5), 1000, "n=3/5"),
        numeric_case("medium_exact", rng.normal(0, 1, 1500), rng.normal(0.1, 1.1, 2000), 1000,
                     "n=1500/2000: exact KS path on a larger lattice"),
        numeric_case("exact_at_size_limit", rng.normal(0, 1, 10000), rng.normal(0.3, 1, 80), 100,
                     "max(n, m) = 10000: still the exact KS path"),
        numeric_case("asymptotic_small_effective_n", rng.normal(0, 1, 10001), rng.normal(0.4, 1, 60), 100,
                     "max(n, m) = 10001 with a small current sample: asymptotic path, round(nm/(n+m)) <= 140"),
        numeric_case("equal_sizes_exact_large", rng.normal(0, 1, 5000), rng.normal(0.08, 1, 5000), 1000,
                     "n=m=5000: exact KS path for equal sizes (SciPy's _compute_prob_outside_square)"),
        numeric_case("equal_sizes_strong_shift", rng.normal(0, 1, 2000), rng.normal(1, 1, 2000), 1000,
                     "n=m=2000, shift 1: equal sizes, a p-value near 1e-150"),
    ]
    return cases


def large_cases():
    rng = np.random.default_rng(7)
    scale = 100
    ref_ints, ref_vals = scaled(rng.normal(0, 1, 20000), scale)
    currents = [
        ("large_null", rng.normal(0, 1, 25000), "same distribution: kstwo via Pelz-Good"),
        ("large_small_shift", rng.normal(0.03, 1, 25000), "shift 0.03: kstwo via 2*smirnov, moderate p"),
        ("large_shift", rng.normal(0.1, 1, 25000), "shift 0.1: kstwo via 2*smirnov, tiny p"),
    ]
    cases = []
    for name, cur, note in currents:
        cur_ints, cur_vals = scaled(cur, scale)
        cases.append({
            "name": name,
            "note": note,
            "current": cur_ints.tolist(),
            "expected": numeric_expected(ref_vals, cur_vals),
        })
    return {"scale": scale, "reference": ref_ints.tolist(), "cases": cases}


# --------------------------------------------------------------------------- Kolmogorov distribution


def kolmogorov_branch(n, x):
    """Which branch of scipy.stats._ksstats._kolmogn (cdf=False) evaluates kstwo.sf(x, n)."""
    if x >= 1.0 or x <= 0.0:
        return "trivial"
    t = n * x
    if t <= 1.0:
        return "trivial" if t <= 0.5 else "ruben_gambino_lower"
    if t >= n - 1:
        return "ruben_gambino_upper"
    if x >= 0.5:
        return "smirnov"
    nxsq = t * x
    if n <= 140:
        if nxsq <= 0.754693:
            return "durbin"
        if nxsq <= 4:
            return "pomeranz"
        return "smirnov"
    if nxsq >= 370.0:
        return "underflow"
    if nxsq >= 2.2:
        return "smirnov"
    if n <= 100000 and n * x ** 1.5 <= 1.4:
        return "durbin"
    return "pelz_good"


def kolmogorov_grid():
    ns = [1, 2, 3, 5, 10, 37, 100, 140, 141, 500, 1000, 5000, 11111, 100000, 100001, 400000, 1000001, 2000000]
    zs = [0.2, 0.35, 0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.36, 1.45, 1.55, 1.7, 2.0, 2.4, 3.0, 4.0, 6.0, 10.0, 19.0,
          20.0]
    rows = []
    for n in ns:
        xs = set()
        for z in zs:
            xs.add(z / math.sqrt(n))
        for t in [0.3, 0.5, 0.6, 0.75, 1.0, 1.5, n - 1.5, n - 1.0, n - 0.5]:
            xs.add(t / n)
        for x in [0.5, 0.55, 0.7, 0.95]:
            xs.add(x)
        # Durbin region for n > 140: n * x**1.5 <= 1.4
        for f in [0.3, 0.7, 0.99]:
            xs.add(f * (1.4 / n) ** (2.0 / 3.0))
        for x in sorted(xs):
            if not 0.0 < x < 1.0:
                continue
            branch = kolmogorov_branch(n, x)
            if n > 1000000 and branch == "smirnov":
                branch = "smirnov_large_n"
            rows.append({"n": n, "x": x, "sf": fl(stats.kstwo.sf(x, n)), "branch": branch})
    return rows


# --------------------------------------------------------------------------- categorical


def categorical_case(name, ref_counts, cur_counts, note):
    cats = sorted(set(ref_counts) | set(cur_counts))
    r = np.array([ref_counts.get(c, 0) for c in cats], dtype=np.int64)
    c = np.array([cur_counts.get(k, 0) for k in cats], dtype=np.int64)
    res = stats.chi2_contingency(np.vstack([r, c]))
    r_sh = r / r.sum()
    c_sh = c / c.sum()
    return {
        "name": name,
        "note": note,
        "reference": {k: int(v) for k, v in ref_counts.items()},
        "current": {k: int(v) for k, v in cur_counts.items()},
        "expected": {
            "chi2": {"statistic": fl(res.statistic), "p_value": fl(res.pvalue), "dof": int(res.dof)},
            "categories": cats,
            "reference_shares": [fl(x) for x in r_sh],
            "current_shares": [fl(x) for x in c_sh],
            "psi": psi(r_sh, c_sh),
            "jensenshannon": fl(jensenshannon(r_sh, c_sh)),
            "new_categories": sorted(set(cur_counts) - set(ref_counts)),
            "vanished_categories": sorted(set(ref_counts) - set(cur_counts)),
        },
    }


def counts(labels, draws):
    return {k: int(v) for k, v in zip(labels, draws) if v > 0}


def categorical_cases():
    rng = np.random.default_rng(99)
    abc = ["a", "b", "c", "d"]
    many = [f"cat_{i:02d}" for i in range(30)]
    many_p = rng.dirichlet(np.ones(30))
    return [
        categorical_case("same_distribution", counts(abc, rng.multinomial(1000, [0.4, 0.3, 0.2, 0.1])),
                         counts(abc, rng.multinomial(800, [0.4, 0.3, 0.2, 0.1])), "same category shares"),
        categorical_case("shifted_shares", counts(abc, rng.multinomial(1000, [0.4, 0.3, 0.2, 0.1])),
                         counts(abc, rng.multinomial(900, [0.25, 0.25, 0.25, 0.25])), "different shares"),
        categorical_case("unseen_and_vanished", {"a": 400, "b": 300, "c": 200, "d": 100},
                         {"a": 380, "b": 310, "c": 190, "e": 15}, "'e' is new in current, 'd' vanished"),
        categorical_case("two_categories_yates", {"yes": 120, "no": 80}, {"yes": 90, "no": 95},
                         "2x2 table: dof = 1, Yates' correction applies"),
        categorical_case("two_categories_small_diff", {"yes": 10, "no": 10}, {"yes": 10, "no": 11},
                         "dof = 1 and |observed - expected| < 0.5: the correction is capped"),
        categorical_case("single_category", {"only": 100}, {"only": 50}, "one category: dof = 0, p = 1"),
        categorical_case("disjoint_single_categories", {"a": 100}, {"b": 50},
                         "each side has one category, not shared"),
        categorical_case("huge_counts_p_underflows", {"a": 500000, "b": 300000, "c": 200000},
                         {"a": 450000, "b": 350000, "c": 200000}, "statistic ~6500: the p-value underflows to 0"),
        categorical_case("large_counts_tiny_p", {"a": 50000, "b": 30000, "c": 20000},
                         {"a": 47000, "b": 33000, "c": 20000}, "p-value around 1e-50"),
        categorical_case("large_counts_small_p", {"a": 50000, "b": 30000, "c": 20000},
                         {"a": 49000, "b": 31000, "c": 20000}, "p-value around 1e-6"),
        categorical_case("many_categories", counts(many, rng.multinomial(5000, many_p)),
                         counts(many, rng.multinomial(4000, 0.8 * many_p + 0.2 / 30)), "30 categories"),
    ]


def chi2_sf_grid():
    rows = []
    for dof in [1, 2, 3, 5, 10, 29, 100, 500]:
        for x in [1e-6, 0.01, 0.5, 1.0, 2.0, 3.84, dof * 0.5, dof, dof * 1.5, dof + 10, dof * 3, 50.0, 200.0,
                  600.0, 1400.0]:
            rows.append({"dof": dof, "x": float(x), "sf": fl(stats.chi2.sf(x, dof))})
    return rows


# --------------------------------------------------------------------------- main


def floats_as_text(value):
    """Every float as its shortest round-trip text (Python's repr): Rust's `str::parse::<f64>` reads
    that back exactly, while serde_json's default number parser can be one ulp off for 17-digit
    values, enough to move a value across a bin edge."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: floats_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats_as_text(v) for v in value]
    return value


def write(name, payload):
    path = OUT / name
    with open(path, "w") as f:
        json.dump(floats_as_text({"generated_by": GENERATED_BY, **payload}), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write("numeric_cases.json", {"cases": numeric_cases()})
    write("numeric_large.json", large_cases())
    write("kolmogorov_sf.json", {"rows": kolmogorov_grid()})
    write("categorical_cases.json", {"cases": categorical_cases()})
    write("chi2_sf.json", {"rows": chi2_sf_grid()})


if __name__ == "__main__":
    sys.exit(main())
