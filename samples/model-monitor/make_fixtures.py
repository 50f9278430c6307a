#!/usr/bin/env python3
"""Writes the Model Monitor fixtures of this directory from the 20 baseline rows below, and the
crafted check cases (check-cases.json) with the violations DeltaOne must produce for them.

Standard library only. The check rules are the ones docs/model-monitor.md states; this file is their
reference implementation for the Rust tests, not a copy of Model Monitor's code.

    python3 samples/model-monitor/make_fixtures.py   # rewrites the JSON files next to it
"""
import json
import math
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

# (age int32, amount double, country string, channel string); None = null.
BASELINE = [
    (23, 12.5, "DE", "web"), (25, 80.0, "FR", "app"), (31, 45.25, "DE", "web"), (35, 7.99, "IT", "web"),
    (38, 150.0, "DE", "app"), (41, 33.1, "FR", "web"), (44, None, "ES", "web"), (47, 60.0, "DE", "web"),
    (52, 22.75, "IT", "app"), (29, 95.5, "FR", "web"), (33, 18.0, "DE", None), (36, 41.0, "DE", "web"),
    (27, 5.5, "FR", "app"), (58, 210.0, "IT", "web"), (62, 72.25, "DE", "web"), (45, 28.0, "FR", "app"),
    (39, 55.5, "ES", "web"), (30, 9.75, "DE", "app"), (26, 120.0, "IT", "web"), (50, 36.6, "FR", "app"),
]
COLUMNS = ["age", "amount", "country", "channel"]
TYPES = {"age": "int32", "amount": "double", "country": "string", "channel": "string"}
KIND = {"int32": "Integral", "int64": "Integral", "float": "Fractional", "double": "Fractional", "string": "String"}

KLL_C, KLL_K, BUCKETS = 0.64, 2048, 10
DEFAULTS = {  # documented defaults, used when a member is absent
    "evaluate_constraints": "Enabled", "datatype_check_threshold": 0.1, "domain_content_threshold": 0.1,
    "perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust",
    "categorical_drift_method": "LInfinity",
}
C_ALPHA = 1.8  # Deequ's default c(alpha) of the Robust correction


def present(values):
    return [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def column(rows, names, name):
    i = names.index(name)
    return [r[i] for r in rows]


def numeric_statistics(values):
    xs = present(values)
    n = len(xs)
    out = {"common": {"num_present": n, "num_missing": len(values) - n}}
    if n == 0:
        return out
    total = math.fsum(xs)
    mean = total / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / n)  # population, like Deequ
    lo, hi = min(xs), max(xs)
    buckets = []
    for i in range(BUCKETS):  # Deequ's KLLSketch buckets: [lo, hi), the last one closed
        lb = lo + (hi - lo) * i / float(BUCKETS)
        ub = lo + (hi - lo) * (i + 1) / float(BUCKETS)
        if i == BUCKETS - 1:
            count = sum(1 for x in xs if lb <= x <= ub)
        else:
            count = sum(1 for x in xs if lb <= x < ub)
        buckets.append({"lower_bound": lb, "upper_bound": ub, "count": float(count)})
    out.update({
        "mean": mean, "sum": total, "std_dev": std, "min": float(lo), "max": float(hi),
        "distribution": {"kll": {
            "buckets": buckets,
            # fewer values than k: one compactor level, every item of weight 1, in arrival order
            "sketch": {"parameters": {"c": KLL_C, "k": float(KLL_K)}, "data": [[float(x) for x in xs]]},
        }},
    })
    return out


def string_statistics(values):
    xs = present(values)
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    return {
        "common": {"num_present": len(xs), "num_missing": len(values) - len(xs)},
        "distinct_count": float(len(counts)),
        "distribution": {"categorical": {"buckets": [{"value": v, "count": c} for v, c in counts.items()]}},
    }


def statistics(rows, names, types):
    features = []
    for name in names:
        values = column(rows, names, name)
        kind = KIND[types[name]]
        f = {"name": name, "inferred_type": kind}
        if kind == "String":
            f["string_statistics"] = string_statistics(values)
        else:
            f["numerical_statistics"] = numeric_statistics(values)
        features.append(f)
    return {"version": 0.0, "dataset": {"item_count": len(rows)}, "features": features}


def constraints(stats):
    features = []
    for f in stats["features"]:
        c = {"name": f["name"], "inferred_type": f["inferred_type"]}
        block = f.get("numerical_statistics") or f.get("string_statistics")
        common = block["common"]
        c["completeness"] = common["num_present"] / (common["num_present"] + common["num_missing"])
        if "numerical_statistics" in f:
            c["num_constraints"] = {"is_non_negative": block["min"] >= 0}
        else:
            c["string_constraints"] = {
                "domains": [b["value"] for b in block["distribution"]["categorical"]["buckets"]]}
        features.append(c)
    return {
        "version": 0.0,
        "features": features,
        "monitoring_config": {  # what the baselining job writes (see docs/model-monitor.md)
            "evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust",
                "categorical_comparison_threshold": 0.1, "categorical_drift_method": "LInfinity",
            },
        },
    }


def config(cons, feature, override):
    """The effective monitoring_config of a feature: defaults < file < feature overrides < case override."""
    flat = dict(DEFAULTS)

    def merge(mc):
        if not mc:
            return
        for k, v in mc.items():
            if k == "distribution_constraints":
                flat.update(v)
            else:
                flat[k] = v
    merge(cons.get("monitoring_config"))
    merge(feature.get("monitoringConfigOverrides"))
    merge(feature.get("monitoring_config_overrides"))
    merge((feature.get("string_constraints") or {}).get("monitoring_config_overrides"))
    merge(override)
    flat.setdefault("categorical_comparison_threshold", flat["comparison_threshold"])
    flat["comparison_method"] = {"linf_simple": "Simple", "linf_robust": "Robust"}.get(
        flat["comparison_method"], flat["comparison_method"])
    return flat


def sketch_weights(f):
    data = f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    out = {}
    for level, items in enumerate(data):
        for x in items:
            out[x] = out.get(x, 0) + (1 << level)
    return out


def linf(base, cur):
    """max |F_b - F_c| over the union of points: integer ranks, one division (exact to one rounding)."""
    n, m = sum(base.values()), sum(cur.values())
    a = b = 0
    best = 0
    for x in sorted(set(base) | set(cur)):
        a += base.get(x, 0)
        b += cur.get(x, 0)
        best = max(best, abs(a * m - b * n))
    return best / (n * m), n, m


def linf_categorical(base, cur):
    n, m = sum(base.values()), sum(cur.values())
    best = max(abs(base.get(k, 0) * m - cur.get(k, 0) * n) for k in set(base) | set(cur))
    return best / (n * m), n, m


def corrected(d, n, m, method):
    if method == "Simple":
        return d
    return max(0.0, d - C_ALPHA * math.sqrt((n + m) / (n * m)))


def value_text(v):
    return "Value: %r does not meet the constraint requirement! " % float(v)


def evaluate(stats, cons, rows, names, types, override=None):
    violations = []
    base_stats = {f["name"]: f for f in stats["features"]}
    for feature in cons["features"]:
        name = feature["name"]
        cfg = config(cons, feature, override)
        if cfg["evaluate_constraints"] != "Enabled":
            continue
        if name not in names:
            violations.append({"feature_name": name, "constraint_check_type": "missing_column_check",
                               "description": "Baseline column %s is missing from the current dataset: %d columns "
                                              "in it, %d in the baseline constraints." % (
                                                  name, len(names), len(cons["features"]))})
            continue
        values = column(rows, names, name)
        xs = present(values)
        kind = KIND[types[name]]
        base_kind = feature["inferred_type"]
        if xs and base_kind != "Unknown":
            conforms = kind == base_kind or (base_kind == "Fractional" and kind == "Integral")
            share = 1.0 if conforms else 0.0
            if share < cfg["datatype_check_threshold"]:
                violations.append({"feature_name": name, "constraint_check_type": "data_type_check",
                                   "description": value_text(share)})
        if "completeness" in feature and rows:
            comp = len(xs) / len(values)
            if comp < feature["completeness"]:
                violations.append({"feature_name": name, "constraint_check_type": "completeness_check",
                                   "description": value_text(comp)})
        if cfg["perform_comparison"] == "Enabled" and xs and name in base_stats:
            bf = base_stats[name]
            dist = None
            if base_kind in ("Integral", "Fractional") and kind != "String" and "numerical_statistics" in bf:
                cur = {}
                for x in xs:
                    cur[float(x)] = cur.get(float(x), 0) + 1
                d, n, m = linf(sketch_weights(bf), cur)
                dist, threshold = corrected(d, n, m, cfg["comparison_method"]), cfg["comparison_threshold"]
            elif base_kind == "String" and kind == "String" and "string_statistics" in bf:
                base = {b["value"]: b["count"] for b in
                        bf["string_statistics"]["distribution"]["categorical"]["buckets"]}
                cur = {}
                for x in xs:
                    cur[x] = cur.get(x, 0) + 1
                if cfg["categorical_drift_method"] != "LInfinity":
                    raise SystemExit("ChiSquared has no reference rule here (docs/model-monitor.md)")
                d, n, m = linf_categorical(base, cur)
                dist, threshold = corrected(d, n, m, cfg["comparison_method"]), cfg["categorical_comparison_threshold"]
            if dist is not None and dist > threshold:
                violations.append({"feature_name": name, "constraint_check_type": "baseline_drift_check",
                                   "description": "Baseline drift distance: %r exceeds threshold: %r" % (
                                       dist, float(threshold))})
        domains = (feature.get("string_constraints") or {}).get("domains")
        if domains is not None and xs and kind == "String":
            inside = sum(1 for x in xs if x in set(domains)) / len(xs)
            if inside < cfg["domain_content_threshold"]:
                violations.append({"feature_name": name, "constraint_check_type": "categorical_values_check",
                                   "description": value_text(inside)})
    known = {f["name"] for f in cons["features"]}
    for name in names:
        if name not in known:
            violations.append({"feature_name": name, "constraint_check_type": "extra_column_check",
                               "description": "Column %s of the current dataset is not in the baseline "
                                              "constraints: %d columns in it, %d in the baseline constraints." % (
                                                  name, len(names), len(cons["features"]))})
    return {"violations": violations}


def window(change=None, types=None, drop=None, add=None):
    """The baseline rows with edits: change(i, row) -> row; drop: a column; add: (name, type, values)."""
    names, tys = list(COLUMNS), dict(TYPES)
    rows = [list(r) for r in BASELINE]
    if change:
        rows = [list(change(i, r)) for i, r in enumerate(rows)]
    if types:
        tys.update(types)
    if drop:
        i = names.index(drop)
        names.pop(i)
        rows = [r[:i] + r[i + 1:] for r in rows]
        tys.pop(drop)
    if add:
        name, ty, values = add
        names.append(name)
        tys[name] = ty
        rows = [r + [v] for r, v in zip(rows, values)]
    return names, tys, rows


def with_col(name, f):
    i = COLUMNS.index(name)

    def change(k, r):
        r = list(r)
        r[i] = f(k, r[i])
        return r
    return change


CASES = [
    ("data_type_check fires: age arrives as double", "data_type_check", True,
     window(with_col("age", lambda k, v: float(v)), types={"age": "double"}), None),
    ("data_type_check silent: age int64 (still Integral), amount int64 (Integral widens to Fractional)",
     "data_type_check", False,
     window(lambda k, r: [r[0], None if r[1] is None else float(round(r[1])), r[2], r[3]],
            types={"age": "int64", "amount": "int64"}), None),
    ("completeness_check fires: channel 2 nulls of 20 (0.9 < 0.95)", "completeness_check", True,
     window(with_col("channel", lambda k, v: None if k in (0, 10) else v)), None),
    ("completeness_check silent at the boundary: channel 1 null of 20 (0.95, not below 0.95)",
     "completeness_check", False, window(), None),
    ("baseline_drift_check fires (Robust): every age +40", "baseline_drift_check", True,
     window(with_col("age", lambda k, v: v + 40)), None),
    ("baseline_drift_check silent (Robust): every age +3", "baseline_drift_check", False,
     window(with_col("age", lambda k, v: v + 3)), None),
    ("baseline_drift_check fires (Simple): every age +3", "baseline_drift_check", True,
     window(with_col("age", lambda k, v: v + 3)), {"distribution_constraints": {"comparison_method": "Simple"}}),
    ("baseline_drift_check silent at the boundary (Simple): the two youngest become 70 and 71, distance exactly 0.1",
     "baseline_drift_check", False,
     window(with_col("age", lambda k, v: {0: 70, 1: 71}.get(k, v))),
     {"distribution_constraints": {"comparison_method": "Simple"}}),
    ("baseline_drift_check fires on a String (Robust LInfinity): every country ES", "baseline_drift_check", True,
     window(with_col("country", lambda k, v: "ES")), None),
    ("baseline_drift_check silent on a String (Simple LInfinity): one DE becomes FR (distance 0.05)",
     "baseline_drift_check", False,
     window(with_col("country", lambda k, v: "FR" if k == 0 else v)),
     {"distribution_constraints": {"comparison_method": "Simple"}}),
    ("missing_column_check fires: no channel column", "missing_column_check", True, window(drop="channel"), None),
    ("missing_column_check and extra_column_check silent: the baseline's columns", "missing_column_check", False,
     window(), None),
    ("extra_column_check fires: a new device column", "extra_column_check", True,
     window(add=("device", "string", ["ios" if k % 2 else "android" for k in range(20)])), None),
    ("categorical_values_check fires: one country PT (share in domain 0.95 < 1.0)", "categorical_values_check", True,
     window(with_col("country", lambda k, v: "PT" if k == 0 else v)), None),
    ("categorical_values_check silent with the documented default 0.1: one country PT",
     "categorical_values_check", False,
     window(with_col("country", lambda k, v: "PT" if k == 0 else v)), {"domain_content_threshold": 0.1}),
]


def combined():
    """The window behind constraint_violations.json: several checks fire at once."""
    def change(k, r):
        age, amount, country, channel = r
        age = age + 40
        if k in (0, 1):
            country = "PT"
        if k in (2, 3):
            channel = None
        return [age, amount, country, channel]
    return window(change, add=("device", "string", ["ios" if k % 2 else "android" for k in range(20)]))


def dump(obj, path):
    text = json.dumps(obj, indent=2, separators=(",", " : "))
    # arrays of scalars (rows, sketch levels) on one line each
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda mt: "[ " + re.sub(r"\s*\n\s*", " ", mt.group(1)) + " ]", text)
    with open(path, "w") as fh:
        fh.write(text + "\n")


def main():
    stats = statistics(BASELINE, COLUMNS, TYPES)
    cons = constraints(stats)
    dump(stats, os.path.join(HERE, "statistics.json"))
    dump(cons, os.path.join(HERE, "constraints.json"))
    names, tys, rows = combined()
    dump(evaluate(stats, cons, rows, names, tys), os.path.join(HERE, "constraint_violations.json"))
    cases = []
    for title, check, fires, (names, tys, rows), override in CASES:
        expected = evaluate(stats, cons, rows, names, tys, override)
        got = [v for v in expected["violations"] if v["constraint_check_type"] == check]
        if bool(got) != fires:
            raise SystemExit("case %r: expected %s to %s" % (title, check, "fire" if fires else "stay silent"))
        cases.append({"name": title, "check": check, "fires": fires, "monitoring_config_override": override,
                      "current": {"columns": [{"name": n, "type": tys[n]} for n in names], "rows": rows},
                      "expected": expected})
    c_names, c_tys, c_rows = combined()
    dump({"baseline": {"statistics": "statistics.json", "constraints": "constraints.json"},
          "combined_window": {"columns": [{"name": n, "type": c_tys[n]} for n in c_names],
                              "rows": c_rows, "expected": "constraint_violations.json"},
          "cases": cases}, os.path.join(HERE, "check-cases.json"))


if __name__ == "__main__":
    main()
