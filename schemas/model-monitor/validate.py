#!/usr/bin/env python3
"""Validates every Model Monitor fixture against the JSON Schemas of this directory.

    python3 schemas/model-monitor/validate.py      # needs the jsonschema package

Checks samples/model-monitor/{statistics,constraints,constraint_violations}.json and the expected
violations of every case in samples/model-monitor/check-cases.json; also that the schemas reject a few
documents they must reject (so a schema that accepts everything does not pass). Exits 1 on any failure.
The Rust tests mirror it on the files DeltaOne writes.
"""
import copy
import json
import os
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(ROOT, "schemas", "model-monitor")
SAMPLES = os.path.join(ROOT, "samples", "model-monitor")


def load(path):
    with open(path) as fh:
        return json.load(fh)


def validator(name):
    schema = load(os.path.join(SCHEMAS, name + ".schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def main():
    failures = []
    v = {n: validator(n) for n in ("statistics", "constraints", "constraint_violations")}

    def check(kind, doc, label, valid=True):
        errors = sorted(v[kind].iter_errors(doc), key=lambda e: list(e.path))
        if valid and errors:
            failures.extend("%s: %s at /%s" % (label, e.message, "/".join(map(str, e.path))) for e in errors)
        elif not valid and not errors:
            failures.append("%s: accepted, must be rejected" % label)
        else:
            print("ok  %s%s" % (label, "" if valid else " (rejected)"))

    docs = {n: load(os.path.join(SAMPLES, n + ".json")) for n in v}
    for n, doc in docs.items():
        check(n, doc, "samples/model-monitor/%s.json" % n)
    cases = load(os.path.join(SAMPLES, "check-cases.json"))
    for case in cases["cases"]:
        check("constraint_violations", case["expected"], "check case: " + case["name"])

    # Documents that must be rejected.
    bad = copy.deepcopy(docs["statistics"])
    bad["features"][0]["inferred_type"] = "Integer"
    check("statistics", bad, "statistics with inferred_type Integer", valid=False)
    bad = copy.deepcopy(docs["statistics"])
    del bad["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]["parameters"]["k"]
    check("statistics", bad, "statistics whose KLL sketch has no k", valid=False)
    bad = copy.deepcopy(docs["constraints"])
    bad["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Exact"
    check("constraints", bad, "constraints with comparison_method Exact", valid=False)
    bad = copy.deepcopy(docs["constraints"])
    bad["monitoring_config"]["datatype_check_threshold"] = 1.5
    check("constraints", bad, "constraints with a share threshold of 1.5", valid=False)
    bad = {"violations": [{"feature_name": "age", "constraint_check_type": "drift_check", "description": "x"}]}
    check("constraint_violations", bad, "violation with check type drift_check", valid=False)
    # Members Model Monitor may add are accepted.
    more = copy.deepcopy(docs["statistics"])
    more["features"][0]["numerical_statistics"]["custom_statistic"] = 1.0
    more["catalog_version"] = "1"
    check("statistics", more, "statistics with members the format does not document")

    if failures:
        print("\n".join("FAIL " + f for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
