"""Times the drift job, Evidently 0.7's DataDriftPreset and a decode-only pass on the same Parquet files.

    python3 bench.py --job BIN --decode BIN --meter BIN --python VENV_PYTHON --out FILE
                     --size ROWS=DIR [--size ...] [--probe DIR] [--runs N]
                     [--evidently-max-rows N] [--skip-evidently]

Each DIR is a data set from gen.py (DIR/reference, DIR/current, DIR/manifest.json). Per size:

1. one untimed run of the job, which warms the page cache and tells, through its drift.json, which
   columns it analyses (and whether it reads the label: a non-empty `performance` section);
2. one untimed decode-only pass per window over exactly those columns, checked to see as many
   rows as the job, with --column-bytes: each column's in-memory size as Arrow holds it, the
   memory goal's yardstick (the largest column of one window, and of both);
3. --runs rounds alternating the job and the decode-only pass;
4. one run of Evidently's preset (evidently_drift.py) unless skipped or the size exceeds
   --evidently-max-rows.

Every command is a child process measured from outside, by the meter (--meter, the peak-rss example):
wall time, CPU time (user + sys) and peak RSS (ru_maxrss) from wait4's resource usage of that child
alone. Not os.wait4 from here: Linux counts the address space a process had before exec into its
ru_maxrss, and a child of this Python starts from this Python's own (about 17 MiB), which hid the
job's real, smaller peak on the probe.
The job and decode-only figures are medians over the rounds (peak RSS: the largest). The job's
constant memory is its peak RSS on the small --probe data set. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVIDENTLY_GOAL = 100.0  # Evidently CPU / job CPU, at least
DECODE_GOAL = 2.0  # job wall / decode-only wall, at most
RSS_GOAL = 1.5  # (job peak RSS - constant) / largest column, at most
MIB = 1024 * 1024


class Failed(Exception):
    pass


METER = None  # the peak-rss binary (--meter)


def measure(argv, env=None):
    """Runs argv to completion under the meter; returns wall, cpu (user+sys), peak RSS and its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        usage_file = Path(tmp) / "usage.json"
        child = subprocess.run([METER, str(usage_file), *map(str, argv)], stdout=out, stderr=err, env=env)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if child.returncode != 0:
            raise Failed(f"{' '.join(map(str, argv))} exited {child.returncode}:\n{stderr[-3000:]}")
        usage = json.loads(usage_file.read_text())
    return {
        "wall_s": usage["wall_s"],
        "cpu_s": usage["user_s"] + usage["sys_s"],
        "user_s": usage["user_s"],
        "sys_s": usage["sys_s"],
        "peak_rss_bytes": usage["maxrss_kib"] * 1024,
        "stdout": stdout,
    }


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def window_files(data, side):
    manifest = json.loads((data / "manifest.json").read_text())
    return [str(data / f) for f in manifest[side]]


def job_argv(job, data, out, extra=()):
    argv = [job, "run", "--reference", str(data / "reference"), "--current", str(data / "current")]
    return argv + ["--out", str(out), *extra]


def run_job(job, data, extra=()):
    """One job run; returns the measurement and its drift.json."""
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as out:
        m = measure(job_argv(job, data, out, extra))
        m["report"] = json.loads((Path(out) / "drift.json").read_text())
    m.pop("stdout")
    return m


def columns_read(report):
    """The columns the job decodes: the analysed ones, and the label when it computed performance."""
    columns = [(c["column"], c["kind"]) for c in report["columns"]]
    if report.get("performance"):
        performance = report["performance"]
        label = (performance.get("label_column") if isinstance(performance, dict) else None) or "label"
        if label not in [c for c, _ in columns]:
            columns.append((label, "label"))
    return columns


def summary(samples):
    keys = ["wall_s", "cpu_s", "user_s", "sys_s"]
    out = {k: statistics.median(s[k] for s in samples) for k in keys}
    out["wall_min_s"] = min(s["wall_s"] for s in samples)
    out["peak_rss_bytes"] = max(s["peak_rss_bytes"] for s in samples)
    out["runs"] = len(samples)
    return out


def bench_size(args, rows, data, constant_rss):
    files = window_files(data, "reference") + window_files(data, "current")
    size = {"rows_per_window": rows, "data": str(data), "files": len(files)}
    size["data_bytes"] = sum(os.path.getsize(f) for f in files)
    print(f"bench: {rows:,} rows per window: warm-up run of the job", file=sys.stderr)
    warm = run_job(args.job, data, args.job_arg)
    report = warm["report"]
    job_rows = report["windows"]["reference"]["rows"] + report["windows"]["current"]["rows"]
    if job_rows != 2 * rows:
        raise Failed(f"the job read {job_rows} rows, the data set has {2 * rows}")
    columns = columns_read(report)
    size["columns"] = [{"name": c, "kind": k} for c, k in columns]
    decode_columns = [args.decode, "--columns", ",".join(c for c, _ in columns)]
    decode_argv = [*decode_columns, *files]
    # Untimed, one window at a time: the columns' in-memory sizes, and a check that decode-only
    # sees every row the job read.
    passes = {
        window: json.loads(measure([*decode_columns, "--column-bytes", *window_files(data, window)])["stdout"])
        for window in ("reference", "current")
    }
    decoded = sum(p["rows"] for p in passes.values())
    if decoded != job_rows:
        raise Failed(f"decode-only read {decoded} rows, the job {job_rows}")
    size["decode_only_checksum"] = {window: p["checksum"] for window, p in passes.items()}
    size["column_bytes"] = {window: p["column_bytes"] for window, p in passes.items()}

    jobs, decodes = [], []

    def rounds(when):
        for i in range(args.runs):
            print(f"bench: {rows:,} rows: round {i + 1}/{args.runs}{when}", file=sys.stderr)
            jobs.append(run_job(args.job, data, args.job_arg))
            decodes.append(measure(decode_argv))

    rounds("")
    size["job"], size["decode_only"] = summary(jobs), summary(decodes)
    size["job"]["drifted_columns"] = report["dataset"]["drifted_columns"]
    size["job"]["columns"] = report["dataset"]["columns"]
    size["job"]["drifted"] = sorted(c["column"] for c in report["columns"] if c.get("drifted"))
    # Past --exact-max-rows the job sketches numeric columns instead of holding their values.
    kinds = [(c.get("statistics") or {}).get("kind", "") for c in report["columns"] if c["kind"] == "numeric"]
    sketched = sum(1 for k in kinds if "sketch" in k)
    size["job"]["numeric_columns_sketched"] = sketched
    size["job"]["mode"] = "exact" if sketched == 0 else f"sketch {sketched}/{len(kinds)}"
    size["job"]["args"] = list(args.job_arg)

    numeric = [c for c, k in columns if k == "numeric"]
    categorical = [c for c, k in columns if k == "categorical"]
    if args.skip_evidently:
        size["evidently"] = {"skipped": "--skip-evidently"}
    elif rows > args.evidently_max_rows:
        size["evidently"] = {
            "skipped": f"{rows:,} rows > --evidently-max-rows {args.evidently_max_rows:,} "
            "(BENCH_EVIDENTLY_MAX_ROWS); Evidently's time and memory grow at least linearly: "
            "expect over 10x the 1 M figures"
        }
    else:
        print(f"bench: {rows:,} rows: Evidently DataDriftPreset (minutes)", file=sys.stderr)
        argv = [
            args.python,
            str(HERE / "evidently_drift.py"),
            "--reference",
            str(data / "reference"),
            "--current",
            str(data / "current"),
            "--numeric",
            ",".join(numeric),
            "--categorical",
            ",".join(categorical),
        ]
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        m = measure(argv, env=env)
        inner = json.loads(m.pop("stdout").strip().splitlines()[-1])
        m.update(inner)
        size["evidently"] = m
        # The VM's speed drifts by 10-20 % over minutes: as many rounds again after Evidently's
        # minute, so that the medians the ratios use span the time Evidently was measured in.
        rounds(" (after Evidently)")
    size["job"].update(summary(jobs))
    size["decode_only"].update(summary(decodes))

    largest = largest_columns(size["column_bytes"], dict(columns))
    one, both = largest["one_window"]["bytes"], largest["both_windows"]["bytes"]
    job, decode = size["job"], size["decode_only"]
    ratios = {
        "job_wall_over_decode_wall": job["wall_s"] / decode["wall_s"],
        "job_cpu_over_decode_cpu": job["cpu_s"] / decode["cpu_s"],
        "largest_column": largest,
        "largest_column_bytes_one_window": one,
        "largest_column_bytes_both_windows": both,
        "job_rss_over_column_one_window": job["peak_rss_bytes"] / one,
        "job_rss_over_column_both_windows": job["peak_rss_bytes"] / both,
        # The reader's own footprint (row-group buffers), which does not grow with the rows: the
        # decode-only pass peaks at the same RSS at 1 M and 10 M rows.
        "job_rss_above_decode_over_column_one_window": (job["peak_rss_bytes"] - decode["peak_rss_bytes"]) / one,
    }
    if constant_rss is not None:
        above = job["peak_rss_bytes"] - constant_rss
        ratios["job_constant_rss_bytes"] = constant_rss
        ratios["job_rss_above_constant_over_column_one_window"] = above / one
        ratios["job_rss_above_constant_over_column_both_windows"] = above / both
        if largest.get("numeric"):
            ratios["job_rss_above_constant_over_numeric_column_both_windows"] = above / largest["numeric"]["both_windows"]
    ev = size["evidently"]
    if "cpu_s" in ev:
        ratios["evidently_cpu_over_job_cpu"] = ev["cpu_s"] / job["cpu_s"]
        ratios["evidently_read_preset_cpu_over_job_cpu"] = (ev["read"]["cpu_s"] + ev["preset"]["cpu_s"]) / job["cpu_s"]
        ratios["evidently_preset_cpu_over_job_cpu"] = ev["preset"]["cpu_s"] / job["cpu_s"]
        ratios["evidently_wall_over_job_wall"] = ev["wall_s"] / job["wall_s"]
        ratios["evidently_rss_over_job_rss"] = ev["peak_rss_bytes"] / job["peak_rss_bytes"]
    size["ratios"] = ratios
    return size


def largest_columns(sizes, kinds):
    """From decode-only's --column-bytes per window (values, string offsets and bytes, validity
    bitmaps: pyarrow's nbytes), the memory goal's yardstick, "the in-memory size of the largest single column", read two
    ways: the largest column of one window, and the largest column of the job's input (reference
    and current together: what a two-sample statistic holds at once). Also the largest numeric
    column, whose values exact KS and Wasserstein hold (8 B per row for float64)."""
    ref, cur = sizes["reference"], sizes["current"]
    name, window = max(((c, w) for w in (ref, cur) for c in w), key=lambda cw: cw[1][cw[0]])
    out = {
        "one_window": {"column": name, "kind": kinds.get(name, ""), "bytes": window[name]},
    }
    both = max(ref, key=lambda c: ref[c] + cur.get(c, 0))
    out["both_windows"] = {"column": both, "kind": kinds.get(both, ""), "bytes": ref[both] + cur.get(both, 0)}
    numeric = [c for c in ref if kinds.get(c) == "numeric"]
    if numeric:
        n = max(numeric, key=lambda c: ref[c] + cur.get(c, 0))
        out["numeric"] = {"column": n, "one_window": max(ref[n], cur.get(n, 0)), "both_windows": ref[n] + cur.get(n, 0)}
    return out


def fmt_s(x):
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def table(sizes):
    lines = []
    head = f"{'rows/window':>11}  {'command':<26} {'wall':>9} {'CPU':>9} {'peak RSS':>10}"
    lines.append(head)
    lines.append("-" * len(head))
    for s in sizes:
        rows = f"{s['rows_per_window']:,}"
        entries = [(f"drift job ({s['job']['mode']})", s["job"]), ("decode-only", s["decode_only"])]
        ev = s["evidently"]
        if "cpu_s" in ev:
            entries.append(("Evidently (whole process)", ev))
            entries.append(("  of which import", ev["import"]))
            entries.append(("  of which read_parquet", ev["read"]))
            entries.append(("  of which DataDriftPreset", ev["preset"]))
        for name, m in entries:
            rss = f"{m['peak_rss_bytes'] / MIB:,.0f} MiB" if "peak_rss_bytes" in m else ""
            lines.append(f"{rows:>11}  {name:<26} {fmt_s(m['wall_s']):>9} {fmt_s(m['cpu_s']):>9} {rss:>10}")
            rows = ""
        if "skipped" in ev:
            lines.append(f"{'':>11}  Evidently skipped: {ev['skipped']}")
    lines.append("")
    for s in sizes:
        r = s["ratios"]
        n = f"{s['rows_per_window']:,} rows"
        verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
        if "evidently_cpu_over_job_cpu" in r:
            ok = r["evidently_read_preset_cpu_over_job_cpu"] >= EVIDENTLY_GOAL
            lines.append(
                f"{n}: Evidently CPU / job CPU = {r['evidently_read_preset_cpu_over_job_cpu']:.0f}x (read + preset; "
                f"whole process {r['evidently_cpu_over_job_cpu']:.0f}x, preset alone "
                f"{r['evidently_preset_cpu_over_job_cpu']:.0f}x)  goal >= {EVIDENTLY_GOAL:.0f}x: {verdict(ok)}"
            )
        else:
            lines.append(f"{n}: Evidently CPU / job CPU: not measured ({s['evidently']['skipped']})")
        ok = r["job_wall_over_decode_wall"] <= DECODE_GOAL
        lines.append(
            f"{n}: job wall / decode-only wall = {r['job_wall_over_decode_wall']:.2f}x "
            f"(CPU {r['job_cpu_over_decode_cpu']:.2f}x)  goal <= {DECODE_GOAL:.0f}x: {verdict(ok)}"
        )
        big = r["largest_column"]
        one, both = big["one_window"], big["both_windows"]
        line = (
            f"{n}: largest column read, in memory as Arrow holds it: {one['column']} ({one['kind']}), "
            f"{one['bytes'] / MIB:.1f} MiB in one window, {both['bytes'] / MIB:.1f} MiB in both"
        )
        if "numeric" in big:
            line += f" (largest numeric: {big['numeric']['column']}, {big['numeric']['one_window'] / MIB:.1f} MiB)"
        lines.append(line)
        lines.append(
            f"{n}: job peak RSS / largest column = {r['job_rss_over_column_one_window']:.2f}x one window's, "
            f"{r['job_rss_over_column_both_windows']:.2f}x both windows'"
        )
        if "job_rss_above_constant_over_column_one_window" in r:
            a1 = r["job_rss_above_constant_over_column_one_window"]
            a2 = r["job_rss_above_constant_over_column_both_windows"]
            lines.append(
                f"{n}: (job peak RSS - constant {r['job_constant_rss_bytes'] / MIB:.1f} MiB) / largest column = "
                f"{a1:.2f}x one window's, {a2:.2f}x both windows'  goal <= {RSS_GOAL}x: "
                f"{verdict(a1 <= RSS_GOAL)} per one window's column, {verdict(a2 <= RSS_GOAL)} per both windows'"
            )
            if "job_rss_above_constant_over_numeric_column_both_windows" in r:
                lines.append(
                    f"{n}: (job peak RSS - constant) / largest numeric column, both windows (the values exact KS "
                    f"holds) = {r['job_rss_above_constant_over_numeric_column_both_windows']:.2f}x  (for information)"
                )
        lines.append(
            f"{n}: (job peak RSS - decode-only peak {s['decode_only']['peak_rss_bytes'] / MIB:.0f} MiB) / largest column = "
            f"{r['job_rss_above_decode_over_column_one_window']:.2f}x  (for information: the reader's own "
            "footprint as the constant)"
        )
    return "\n".join(lines)


def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory_bytes": mem, "os": platform.platform()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", required=True, help="the deltaone-drift binary")
    parser.add_argument("--decode", required=True, help="the decode-only example binary")
    parser.add_argument("--meter", required=True, help="the peak-rss example binary, which runs and measures each command")
    parser.add_argument("--python", required=True, help="the bench virtualenv's python (with evidently)")
    parser.add_argument("--out", required=True, type=Path, help="the JSON results file")
    parser.add_argument("--size", action="append", required=True, help="ROWS=DIR, a data set from gen.py")
    parser.add_argument("--probe", type=Path, help="a small data set: the job's peak RSS there is its constant")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds of the job and decode-only per size")
    parser.add_argument("--evidently-max-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--job-arg", action="append", default=[], help="an extra argument for the job (repeatable)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    global METER
    METER = args.meter

    started = datetime.datetime.now(datetime.timezone.utc)
    results = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "rustflags": os.environ.get("RUSTFLAGS", ""),
        "load_before": loadavg(),
        "goals": {
            "evidently_cpu_over_job_cpu_at_least": EVIDENTLY_GOAL,
            "job_wall_over_decode_wall_at_most": DECODE_GOAL,
            "job_rss_above_constant_over_column_at_most": RSS_GOAL,
        },
    }
    try:
        constant = None
        if args.probe:
            probe = [run_job(args.job, args.probe, args.job_arg)["peak_rss_bytes"] for _ in range(3)]
            constant = statistics.median(probe)
            results["probe"] = {"data": str(args.probe), "job_peak_rss_bytes": constant}
        sizes = []
        for spec in args.size:
            rows, _, data = spec.partition("=")
            sizes.append(bench_size(args, int(rows), Path(data), constant))
    except Failed as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)
    results["sizes"] = sizes
    results["load_after"] = loadavg()
    # The growth of the peak per row, between the smallest and the largest size the job ran in
    # the same mode (exact mode holds values, sketch mode does not: across modes it means nothing).
    by_mode = {}
    for s in sizes:
        by_mode.setdefault(s["job"]["mode"] == "exact", []).append(s)
    growth = {}
    for exact, same in by_mode.items():
        a, b = same[0], same[-1]
        if b["rows_per_window"] > a["rows_per_window"]:
            grown = b["job"]["peak_rss_bytes"] - a["job"]["peak_rss_bytes"]
            growth["exact" if exact else "sketch"] = (a, b, grown / (b["rows_per_window"] - a["rows_per_window"]))
    results["job_rss_bytes_per_row"] = {mode: g[2] for mode, g in growth.items()}
    text = table(sizes)
    for mode, (a, b, per_row) in growth.items():
        column = b["ratios"]["largest_column_bytes_one_window"] / b["rows_per_window"]
        text += (
            f"\njob peak RSS ({mode} mode) grows by {per_row:.1f} bytes per row per window from "
            f"{a['rows_per_window']:,} to {b['rows_per_window']:,} rows = {per_row / column:.2f}x the largest column "
            f"of one window ({column:.1f} B per row), {per_row / (2 * column):.2f}x of both, "
            f"{per_row / 8:.2f} float64 columns of one window"
        )
    if not growth and len(sizes) >= 2:
        text += "\njob peak RSS growth per row: no two sizes ran in the same mode (see BENCH_JOB_ARGS)"
    text += f"\nload average (1 min): {results['load_before']:.1f} before, {results['load_after']:.1f} after"
    text += f", {os.cpu_count()} cores"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
