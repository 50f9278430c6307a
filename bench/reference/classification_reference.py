#!/usr/bin/env python3
"""Reference values for the binary-classification metrics in `src/classification.rs` (crate `deltaone`).

Generates deterministic test data (numpy's seeded PCG64 generator), runs scikit-learn's metric
functions on it, and writes JSON fixtures into `src/classification_testdata/`. The Rust unit tests
read those fixtures with `include_str!` and must agree within 1e-12 (absolute).

How to run (from the repository root; the venv is throwaway and is not committed):

    python3 -m venv /tmp/skvenv
    /tmp/skvenv/bin/pip install numpy scikit-learn
    /tmp/skvenv/bin/python bench/reference/classification_reference.py

The committed fixtures were produced with Python 3.11.7, numpy 2.4.6 and scikit-learn 1.9.1 (the
versions are also written into every fixture under "generated_by"). If you regenerate with another
scikit-learn, re-read `sklearn.metrics.log_loss` first: its probability clipping has changed between
releases (1.9.1 clips to [eps, 1 - eps] with eps = np.finfo(y_proba.dtype).eps, after turning a 1-D
y_proba p into the two columns [1 - p, p]); and `roc_auc_score` with a single class in y_true, which
1.9.1 answers with NaN and an UndefinedMetricWarning (older releases raised ValueError).

Encoding, so that Python and Rust see bit-identical inputs and expected values:

* labels and hard predictions: a string of '0'/'1' characters, one per row;
* scores: integer numerators (all <= 2**53, hence exact in float64) with one `score_scale` per case;
  score = float64(numerator) / float64(scale), one IEEE division on both sides;
* the threshold and the expected values: strings holding Python's shortest round-trip repr of the
  float, which Rust's `str::parse::<f64>` reads back exactly (serde_json's default float parser is
  not always correctly rounded); `null` where scikit-learn has no value (see below).

What is computed (scikit-learn defaults unless stated):

* predictions from scores: `y_pred = (score >= threshold)` (a score equal to the threshold counts as
  positive; the tie-heavy cases contain scores exactly equal to the threshold);
* `accuracy_score(y_true, y_pred)`, `precision_score`, `recall_score`, `f1_score` (binary,
  pos_label=1, zero_division="warn", which returns 0.0 on a zero denominator);
* `roc_auc_score(y_true, y_score)`: null when y_true holds a single class (scikit-learn: NaN);
* `log_loss(y_true, y_score)`: when y_true holds a single class scikit-learn raises unless the labels
  are given, so those cases use `labels=[0, 1]` (recorded as "log_loss_labels": [0, 1]);
* `confusion_matrix(y_true, y_pred, labels=[0, 1])` as the counts tp, fp, tn, fn.
"""

import json
import math
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

OUT_DIR = Path(__file__).resolve().parents[2] / "src" / "classification_testdata"
SEED = 20240611
MAX_EXACT = 2**53

GENERATED_BY = {
    "script": "bench/reference/classification_reference.py",
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scikit_learn": sklearn.__version__,
    "seed": SEED,
}


def float_text(x):
    """Shortest round-trip text of a float64 (exact when parsed back)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite expected value {x!r}")
    return repr(x)


def bits(values):
    return "".join("1" if v else "0" for v in values)


def scores_from(numerators, scale):
    numerators = np.asarray(numerators, dtype=np.int64)
    assert numerators.min() >= 0 and numerators.max() <= scale <= MAX_EXACT
    return numerators.astype(np.float64) / np.float64(scale)


def quantise(p, scale):
    """Probabilities -> integer numerators over `scale`, within [0, scale]."""
    return np.clip(np.rint(np.asarray(p, dtype=np.float64) * scale), 0, scale).astype(np.int64)


def correlated_probabilities(rng, labels, separation):
    """Scores that lean towards the label: sigmoid(separation * (2y - 1) + N(0, 1))."""
    z = separation * (2.0 * labels - 1.0) + rng.standard_normal(labels.size)
    return 1.0 / (1.0 + np.exp(-z))


def prf(y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return {
            "accuracy": float_text(accuracy_score(y_true, y_pred)),
            "precision": float_text(precision_score(y_true, y_pred)),
            "recall": float_text(recall_score(y_true, y_pred)),
            "f1": float_text(f1_score(y_true, y_pred)),
        }


def counts(y_true, y_pred):
    tn, fp, fn, tp = (int(c) for c in confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel())
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn}


def score_case(name, description, labels, numerators, scale, threshold=0.5):
    y_true = np.asarray(labels, dtype=np.int64)
    y_score = scores_from(numerators, scale)
    y_pred = (y_score >= threshold).astype(np.int64)
    single_class = np.unique(y_true).size < 2
    expected = prf(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        auc = roc_auc_score(y_true, y_score)
    if single_class:
        assert math.isnan(auc)
        expected["roc_auc"] = None
        expected["log_loss"] = float_text(log_loss(y_true, y_score, labels=[0, 1]))
    else:
        expected["roc_auc"] = float_text(auc)
        expected["log_loss"] = float_text(log_loss(y_true, y_score))
    case = {
        "name": name,
        "description": description,
        "kind": "scores",
        "rows": int(y_true.size),
        "threshold": float_text(threshold),
        "labels": bits(y_true),
        "score_scale": int(scale),
        "score_numerators": [int(v) for v in numerators],
        "expected": expected,
        "counts": counts(y_true, y_pred),
    }
    if single_class:
        case["log_loss_labels"] = [0, 1]
    return case


def prediction_case(name, description, labels, predictions):
    y_true = np.asarray(labels, dtype=np.int64)
    y_pred = np.asarray(predictions, dtype=np.int64)
    expected = prf(y_true, y_pred)
    expected["roc_auc"] = None
    expected["log_loss"] = None
    return {
        "name": name,
        "description": description,
        "kind": "predictions",
        "rows": int(y_true.size),
        "labels": bits(y_true),
        "predictions": bits(y_pred),
        "expected": expected,
        "counts": counts(y_true, y_pred),
    }


def small_cases(rng):
    cases = []

    labels = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1])
    scale = 2**20
    cases.append(
        score_case(
            "small_n10_balanced",
            "n=10, five positives, continuous scores",
            labels,
            quantise(correlated_probabilities(rng, labels, 0.8), scale),
            scale,
        )
    )

    labels = (rng.random(2000) < 0.5).astype(np.int64)
    cases.append(
        score_case(
            "ties_balanced_n2000",
            "n=2000, about half positive, scores rounded to 2 decimals (many ties, some exactly 0.5)",
            labels,
            quantise(correlated_probabilities(rng, labels, 0.7), 100),
            100,
        )
    )

    labels = (rng.random(5000) < 0.05).astype(np.int64)
    cases.append(
        score_case(
            "ties_imbalanced_n5000",
            "n=5000, about 5% positive, scores rounded to 2 decimals",
            labels,
            quantise(correlated_probabilities(rng, labels, 1.0), 100),
            100,
        )
    )

    cases.append(
        score_case(
            "ties_imbalanced_n5000_threshold_0_3",
            "the same rows as ties_imbalanced_n5000 at threshold 0.3",
            labels,
            cases[-1]["score_numerators"],
            100,
            threshold=0.3,
        )
    )

    # Exact 0 and 1 (both right and wrong way round), values within eps of 0 and 1, and
    # eps itself: exercises log-loss clipping to [eps, 1 - eps].
    scale = MAX_EXACT
    special = np.array([0, scale, 1, scale - 1, 2, scale - 2, scale // 2], dtype=np.int64)
    n = 400
    labels = (rng.random(n) < 0.4).astype(np.int64)
    numerators = quantise(correlated_probabilities(rng, labels, 1.5), scale)
    picks = rng.random(n) < 0.3
    numerators[picks] = special[rng.integers(0, special.size, picks.sum())]
    # Make sure every special value occurs with both labels.
    for i, v in enumerate(special):
        numerators[2 * i] = v
        labels[2 * i] = 0
        numerators[2 * i + 1] = v
        labels[2 * i + 1] = 1
    cases.append(
        score_case(
            "extreme_scores_n400",
            "n=400, scores over 2**53 incl. exact 0.0 and 1.0 on both classes, 2**-53, 1-2**-53, eps, 1-eps",
            labels,
            numerators,
            scale,
        )
    )

    labels = (rng.random(300) < 0.3).astype(np.int64)
    scale = 1000
    cases.append(
        score_case(
            "no_predicted_positives_n300",
            "n=300, every score below 0.5: precision and F1 divide by zero (sklearn's 0.0)",
            labels,
            quantise(0.49 * rng.random(300), scale),
            scale,
        )
    )

    scale = 100
    cases.append(
        score_case(
            "single_class_negative_n50",
            "n=50, no positive labels: ROC AUC undefined, recall divides by zero",
            np.zeros(50, dtype=np.int64),
            quantise(rng.random(50), scale),
            scale,
        )
    )
    cases.append(
        score_case(
            "single_class_positive_n50",
            "n=50, only positive labels: ROC AUC undefined",
            np.ones(50, dtype=np.int64),
            quantise(rng.random(50), scale),
            scale,
        )
    )

    labels = (rng.random(1000) < 0.2).astype(np.int64)
    flip = rng.random(1000) < 0.15
    cases.append(
        prediction_case(
            "hard_labels_n1000",
            "n=1000, about 20% positive, hard predictions that are wrong about 15% of the time",
            labels,
            np.where(flip, 1 - labels, labels),
        )
    )
    cases.append(
        prediction_case(
            "hard_labels_small_n10",
            "n=10 hard predictions",
            [1, 0, 1, 1, 0, 0, 1, 0, 0, 1],
            [1, 0, 0, 1, 1, 0, 1, 0, 1, 1],
        )
    )
    labels = (rng.random(100) < 0.3).astype(np.int64)
    cases.append(
        prediction_case(
            "hard_labels_all_negative_predictions_n100",
            "n=100, every prediction negative: precision and F1 divide by zero",
            labels,
            np.zeros(100, dtype=np.int64),
        )
    )
    cases.append(
        prediction_case(
            "hard_labels_no_positives_at_all_n20",
            "n=20, no positive label and no positive prediction: precision, recall and F1 all divide by zero",
            np.zeros(20, dtype=np.int64),
            np.zeros(20, dtype=np.int64),
        )
    )
    return cases


def large_case(rng):
    n = 100_000
    labels = (rng.random(n) < 0.2).astype(np.int64)
    scale = 10_000
    return score_case(
        "large_imbalanced_n100000",
        "n=100000, about 20% positive, scores with 4 decimals (ties across ~10^4 distinct values)",
        labels,
        quantise(correlated_probabilities(rng, labels, 0.9), scale),
        scale,
    )


def continuous_case(rng):
    n = 20_000
    labels = (rng.random(n) < 0.5).astype(np.int64)
    scale = 2**32
    return score_case(
        "continuous_balanced_n20000",
        "n=20000, about half positive, scores over 2**32 (almost no ties)",
        labels,
        quantise(correlated_probabilities(rng, labels, 0.5), scale),
        scale,
    )


def write(file_name, cases):
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / file_name
    document = {"generated_by": GENERATED_BY, "cases": cases}
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(cases)} cases)", file=sys.stderr)


def main():
    rng = np.random.default_rng(SEED)
    write("cases.json", small_cases(rng))
    write("large_n100000.json", [large_case(rng)])
    write("continuous_n20000.json", [continuous_case(rng)])


if __name__ == "__main__":
    main()
