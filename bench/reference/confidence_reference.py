#!/usr/bin/env python3
"""Reference values for the paired confidence intervals in `src/confidence/` (crate `deltaone`).

* McNemar (accuracy): statsmodels' exact test `mcnemar(table, exact=True)` and the Clopper-Pearson
  interval of the discordant win share `proportion_confint(wins, wins + losses, method="beta")`,
  mapped to the accuracy difference as (d / n) * (2 * theta - 1) (see `src/confidence/mcnemar.rs`).
* DeLong (AUROC): MLstatkit's `Delong_test` (fast DeLong after Sun & Xu; its z, p-value, AUCs and
  the variance of the difference), the interval diff +- norm.ppf(1 - (1 - level) / 2) * sqrt(var);
  the AUCs are also checked against scikit-learn's `roc_auc_score` here.

Writes `src/confidence/testdata/reference.json`; the Rust tests read it with `include_str!` and must
agree within 1e-9 (absolute). Run from the repository root:

    venv=$(bash infra/localstack/ensure-venv.sh bench/reference/requirements-confidence.txt reference-confidence)
    "$venv/bin/python" bench/reference/confidence_reference.py

Encoding, so that Python and Rust see bit-identical inputs: labels are strings of '0'/'1'; scores
are integer numerators (space-separated in one string) with one `score_scale` per case (score = numerator / scale, one IEEE
division on both sides); expected values are Python's shortest round-trip repr of each float.
"""

import json
import math
import platform
from pathlib import Path

import MLstatkit
import numpy as np
import scipy
import sklearn
import statsmodels
from MLstatkit import Delong_test
from scipy.stats import norm
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

OUT = Path(__file__).resolve().parents[2] / "src" / "confidence" / "testdata" / "reference.json"
SEED = 20261207


def text(x):
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite expected value {x!r}")
    return repr(x)


def mcnemar_case(both_right, wins, losses, both_wrong, level):
    n = both_right + wins + losses + both_wrong
    d = wins + losses
    table = [[both_right, wins], [losses, both_wrong]]
    p = mcnemar(table, exact=True).pvalue
    if d == 0:
        lower = upper = 0.0
    else:
        lo, hi = proportion_confint(wins, d, alpha=1 - level, method="beta")
        lower = d / n * (2 * lo - 1)
        upper = d / n * (2 * hi - 1)
    return {
        "counts": {"both_right": both_right, "wins": wins, "losses": losses, "both_wrong": both_wrong},
        "level": text(level),
        "expected": {
            "estimate": text((wins - losses) / n),
            "p_value": text(p),
            "lower": text(lower),
            "upper": text(upper),
        },
    }


def delong_case(rng, n, prevalence, scale, separation, level):
    labels = (rng.random(n) < prevalence).astype(int)
    latent = labels * separation + rng.normal(size=n)
    a = 1 / (1 + np.exp(-(1.2 * latent + 0.6 * rng.normal(size=n))))
    b = 1 / (1 + np.exp(-(1.0 * latent + 0.8 * rng.normal(size=n))))
    num_a = np.rint(a * scale).astype(np.int64)
    num_b = np.rint(b * scale).astype(np.int64)
    sa = num_a.astype(np.float64) / float(scale)
    sb = num_b.astype(np.float64) / float(scale)
    # MLstatkit reports z = (AUC_B - AUC_A) / SE: B is the candidate here.
    z, p, _ci_a, _ci_b, auc_base, auc_cand, info = Delong_test(labels, sb, sa, alpha=level)
    if info["method"] != "delong":
        raise RuntimeError("degenerate case: MLstatkit fell back to its bootstrap")
    for auc, scores in [(auc_cand, sa), (auc_base, sb)]:
        assert abs(auc - roc_auc_score(labels, scores)) < 1e-12
    var = info["var_diff"]
    half = norm.ppf(1 - (1 - level) / 2) * math.sqrt(var)
    diff = auc_cand - auc_base
    return {
        "labels": "".join(map(str, labels)),
        "score_scale": scale,
        "candidate_numerators": " ".join(map(str, num_a.tolist())),
        "baseline_numerators": " ".join(map(str, num_b.tolist())),
        "level": text(level),
        "expected": {
            "auc_candidate": text(auc_cand),
            "auc_baseline": text(auc_base),
            "delta_variance": text(var),
            "z": text(z),
            "p_value": text(p),
            "lower": text(diff - half),
            "upper": text(diff + half),
        },
    }


def main():
    rng = np.random.default_rng(SEED)
    mc = [
        (40, 7, 3, 10, 0.95),
        (400, 40, 20, 40, 0.95),
        (400, 40, 20, 40, 0.99),
        (400, 40, 20, 40, 0.80),
        (0, 0, 5, 25, 0.95),
        (10, 12, 0, 8, 0.90),
        (30, 9, 9, 2, 0.95),
        (1000, 1, 2, 0, 0.95),
        (150000, 11200, 8800, 30000, 0.95),
        (170000, 2400, 0, 27600, 0.95),
    ]
    for _ in range(6):
        n = int(rng.integers(50, 5000))
        d = int(rng.integers(1, n // 3))
        wins = int(rng.integers(0, d + 1))
        right = int(rng.integers(0, n - d + 1))
        mc.append((right, wins, d - wins, n - d - right, 0.95))
    delong = [
        delong_case(rng, 60, 0.4, 20, 0.8, 0.95),
        delong_case(rng, 500, 0.3, 1000, 1.0, 0.95),
        delong_case(rng, 500, 0.5, 100, 0.5, 0.90),
        delong_case(rng, 5000, 0.2, 2**20, 1.2, 0.95),
        delong_case(rng, 20000, 0.5, 2**24, 0.3, 0.99),
    ]
    doc = {
        "generated_by": {
            "script": "bench/reference/confidence_reference.py",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
            "scikit_learn": sklearn.__version__,
            "mlstatkit": getattr(MLstatkit, "__version__", "0.1.91"),
            "seed": SEED,
        },
        "mcnemar": [mcnemar_case(*c) for c in mc],
        "delong": delong,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(doc['mcnemar'])} McNemar and {len(delong)} DeLong cases)")


if __name__ == "__main__":
    main()
