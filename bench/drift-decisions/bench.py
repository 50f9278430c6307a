"""Runs the decision-quality benchmark over generated sets; run.sh calls it (see README.md).

For each size and each set (negligible, drifted) it runs:
  * deltaone-drift with its default policy (effect size, Benjamini-Hochberg gate),
  * deltaone-drift with the old rule (--policy p_value --correction none),
  * Evidently's DataDriftPreset with its defaults (up to --evidently-max-rows),
then counts, against the set's truth.json, the false alarms (a negligible column called drifted)
and the detections (a drifted column called drifted), and the dataset verdicts. Prints a table
and writes the figures as JSON.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(command):
    """Runs `command`; returns (stdout, wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(map(str, command))} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, wall, cpu


def job(binary, directory, extra):
    with tempfile.TemporaryDirectory() as out:
        command = [binary, "run", "--reference", str(directory / "reference"), "--current",
                   str(directory / "current"), "--out", out, "--json", "--no-progress", "--run-id", "bench"]
        stdout, wall, cpu = timed(command + extra)
    report = json.loads(stdout)
    columns = {
        c["column"]: {
            "drifted": c["drifted"],
            "verdict": c.get("verdict"),
            "method": c["method"],
            "score": c["score"],
            "p_value": c["p_value"],
            "p_value_adjusted": c.get("p_value_adjusted"),
        }
        for c in report["columns"]
    }
    return {"columns": columns, "dataset_drifted": report["dataset"]["drifted"], "wall_s": wall, "cpu_s": cpu}


def evidently(python, directory, truth):
    numeric = [c for c in truth if c.startswith("n_")]
    categorical = [c for c in truth if c.startswith("c_")]
    command = [python, str(HERE / "evidently_decide.py"), "--reference", str(directory / "reference"),
               "--current", str(directory / "current"), "--numeric", ",".join(numeric),
               "--categorical", ",".join(categorical)]
    stdout, wall, cpu = timed(command)
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"columns": result["columns"], "dataset_drifted": result["dataset"]["drifted"], "wall_s": wall,
            "cpu_s": cpu}


def score(run, truth):
    """False alarms and detections of one run against the set's truth."""
    negligible = [c for c, kind in truth.items() if kind == "negligible"]
    real = [c for c, kind in truth.items() if kind != "negligible"]
    flagged = {c for c, v in run["columns"].items() if v["drifted"]}
    return {
        "false_alarms": sorted(flagged & set(negligible)),
        "negligible_columns": len(negligible),
        "detected": sorted(flagged & set(real)),
        "missed": sorted(set(real) - flagged),
        "drift_columns": len(real),
        "dataset_drifted": run["dataset_drifted"],
        "p_values_reported": sum(1 for v in run["columns"].values() if v.get("p_value") is not None),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--size", action="append", required=True, help="ROWS=DIR")
    parser.add_argument("--evidently-max-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()

    runners = [
        ("deltaone default (effect size + BH gate)", lambda d, t: job(args.job, d, [])),
        ("deltaone --policy p_value --correction none (the old rule)",
         lambda d, t: job(args.job, d, ["--policy", "p_value", "--correction", "none"])),
        ("Evidently 0.7 DataDriftPreset (defaults)", lambda d, t: evidently(args.python, d, t)),
    ]
    results = []
    for size in args.size:
        rows, directory = size.split("=", 1)
        rows, directory = int(rows), Path(directory)
        truth = json.loads((directory / "truth.json").read_text())["sets"]
        for name, run in runners:
            entry = {"rows": rows, "runner": name, "sets": {}}
            if name.startswith("Evidently") and (args.skip_evidently or rows > args.evidently_max_rows):
                entry["skipped"] = ("--skip-evidently" if args.skip_evidently else
                                    f"{rows} rows > BENCH_EVIDENTLY_MAX_ROWS={args.evidently_max_rows}")
                results.append(entry)
                print(f"bench: {rows} rows, {name}: not run ({entry['skipped']})", file=sys.stderr)
                continue
            for set_name in ("negligible", "drifted"):
                print(f"bench: {rows} rows, {set_name} set, {name}", file=sys.stderr)
                outcome = run(directory / set_name, truth[set_name])
                entry["sets"][set_name] = {**score(outcome, truth[set_name]), "wall_s": outcome["wall_s"],
                                           "cpu_s": outcome["cpu_s"], "columns": outcome["columns"]}
            results.append(entry)

    print()
    header = (f"{'rows/window':>11}  {'decision':<58} {'negligible set':<26} {'drifted set':<42} {'wall s':>7}")
    print(header)
    print(f"{'':>11}  {'':<58} {'false alarms  dataset':<26} {'detected  false alarms  dataset':<42}")
    for e in results:
        if "skipped" in e:
            print(f"{e['rows']:>11}  {e['runner']:<58} not run: {e['skipped']}")
            continue
        n, d = e["sets"]["negligible"], e["sets"]["drifted"]
        verdict = lambda s: "DRIFTED" if s["dataset_drifted"] else "no drift"
        neg = f"{len(n['false_alarms'])}/{n['negligible_columns']}{'':<11} {verdict(n)}"
        drift = (f"{len(d['detected'])}/{d['drift_columns']}{'':<7} {len(d['false_alarms'])}/{d['negligible_columns']}"
                 f"{'':<11} {verdict(d)}")
        wall = n["wall_s"] + d["wall_s"]
        print(f"{e['rows']:>11}  {e['runner']:<58} {neg:<26} {drift:<42} {wall:>7.1f}")
        missed = d["missed"]
        if missed or n["false_alarms"] or d["false_alarms"]:
            print(f"{'':>13}missed: {', '.join(missed) or '-'}; false alarms: "
                  f"{', '.join(n['false_alarms'] + d['false_alarms']) or '-'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": results}, indent=1) + "\n")
    print(f"\nbench: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
