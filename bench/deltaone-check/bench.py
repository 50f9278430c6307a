"""Times `deltaone check` against the plain-Python MlflowClient check, end to end.

    MLFLOW_TRACKING_URI=http://... python bench.py --rust BIN --python PY --out FILE NAME:VERSIONS:BASELINE [...]

For each model: one untimed warm-up run of each command, then RUNS timed runs, alternating Rust,
Python and the Python floor (interpreter start + `import MlflowClient`, no request) so that drift in
the server and the machine's load affects all alike. Each sample is the wall time of
subprocess.run (process start to exit, verdict on stdout). Every run's verdict is checked: both
commands must agree on outcome, delta_pp, candidate and baseline version, and the verdict must be
the one populate.py set up (achieved, +1.5 pp). Any disagreement fails the benchmark.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

GOAL = 10.0
EXPECTED = {"outcome": "achieved", "delta_pp": Decimal("1.5")}


def run_once(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited with {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    try:
        verdict = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.exit(f"bench: {' '.join(cmd)} did not print one JSON verdict on stdout:\n{proc.stdout}\nstderr: {proc.stderr}")
    return elapsed * 1000, verdict


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def key(verdict):
    """The facts both implementations must agree on."""
    delta = verdict.get("delta_pp")
    return {
        "outcome": verdict.get("outcome"),
        "delta_pp": None if delta is None else Decimal(str(delta)).normalize(),
        "candidate_version": None if verdict.get("candidate_version") is None else str(verdict["candidate_version"]),
        "baseline_version": None if verdict.get("baseline_version") is None else str(verdict["baseline_version"]),
    }


def agree(model, rust, python, expected_versions):
    r, p = key(rust), key(python)
    if r != p:
        sys.exit(f"bench: FAIL: the verdicts for {model} differ\n  rust:   {json.dumps(rust)}\n  python: {json.dumps(python)}")
    expected = {**EXPECTED, **expected_versions}
    wrong = {k: v for k, v in expected.items() if r[k] != (v.normalize() if isinstance(v, Decimal) else v)}
    if wrong:
        sys.exit(f"bench: FAIL: both verdicts for {model} agree but are not the expected {wrong}: {json.dumps(rust)}")


def summary(samples):
    return {
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "samples_ms": [round(s, 1) for s in samples],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rust", required=True, help="the deltaone binary")
    parser.add_argument("--python", required=True, help="the Python interpreter with mlflow")
    parser.add_argument("--check", default=str(Path(__file__).with_name("python_check.py")))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument("--out", required=True)
    parser.add_argument("models", nargs="+", help="NAME:VERSIONS:BASELINE")
    args = parser.parse_args()
    if "MLFLOW_TRACKING_URI" not in os.environ:
        sys.exit("bench: MLFLOW_TRACKING_URI is not set")

    load_before = os.getloadavg()
    if load_before[0] > (os.cpu_count() or 1):
        print(f"bench: warning: load average {load_before[0]:.1f} on {os.cpu_count()} cores; the numbers will be noisy",
              file=sys.stderr, flush=True)

    # The floor of the Python side: starting the interpreter and importing the client, no request.
    # Timed in the same loop as the checks, so that it sees the same load.
    import_cmd = [args.python, "-c", "from mlflow.tracking import MlflowClient"]
    import_ms = []

    results = []
    for spec in args.models:
        model, versions, baseline = spec.split(":")
        rust_cmd = [args.rust, "check", model, "--dry-run", "--json"]
        python_cmd = [args.python, args.check, model]
        expected_versions = {"candidate_version": versions, "baseline_version": baseline}

        print(f"bench: {model}: warm-up", file=sys.stderr, flush=True)
        _, rust_verdict = run_once(rust_cmd)
        _, python_verdict = run_once(python_cmd)
        agree(model, rust_verdict, python_verdict, expected_versions)

        rust_ms, python_ms = [], []
        for i in range(args.runs):
            ms, verdict = run_once(rust_cmd)
            agree(model, verdict, python_verdict, expected_versions)
            rust_ms.append(ms)
            ms, verdict = run_once(python_cmd)
            agree(model, rust_verdict, verdict, expected_versions)
            python_ms.append(ms)
            import_ms.append(timed(import_cmd))
            print(
                f"bench: {model}: run {i + 1}/{args.runs}: rust {rust_ms[-1]:.1f} ms, python {python_ms[-1]:.1f} ms",
                file=sys.stderr,
                flush=True,
            )
        rust, python = summary(rust_ms), summary(python_ms)
        ratio = python["median_ms"] / rust["median_ms"]
        results.append({
            "model": model,
            "versions": int(versions),
            "rust": rust,
            "python": python,
            "ratio": round(ratio, 1),
            "goal_met": ratio >= GOAL,
            "verdict": {k: str(v) for k, v in key(rust_verdict).items()},
        })

    header = f"{'versions':>8}  {'rust median':>11}  {'rust min':>8}  {'python median':>13}  {'python min':>10}  {'python/rust':>11}  goal >= {GOAL:g}x"
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['versions']:>8}  {r['rust']['median_ms']:>8.1f} ms  {r['rust']['min_ms']:>5.1f} ms  "
            f"{r['python']['median_ms']:>10.1f} ms  {r['python']['min_ms']:>7.1f} ms  {r['ratio']:>10.1f}x  "
            f"{'met' if r['goal_met'] else 'NOT met'}"
        )
    print()
    agreed = ", ".join("{} {} {:+} pp".format(r["model"], r["verdict"]["outcome"], Decimal(r["verdict"]["delta_pp"])) for r in results)
    print(f"verdicts agree (rust = python): {agreed}")
    print(f"python floor (interpreter start + import MlflowClient, no request): {statistics.median(import_ms):.1f} ms median")

    import mlflow

    report = {
        "benchmark": "deltaone-check",
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "system": platform.system(), "machine": platform.machine()},
        "mlflow_version": mlflow.__version__,
        "python_version": platform.python_version(),
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "runs": args.runs,
        "python_import_floor": summary(import_ms),
        "goal_ratio": GOAL,
        "all_goals_met": all(r["goal_met"] for r in results),
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
