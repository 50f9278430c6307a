"""Cold start of each Lambda function: binary size and process start → first `GET .../next`, against
a Python peer (python_function.py: boto3 + MlflowClient) measured in the same run.

    python3 bench.py --python VENV_PYTHON --out FILE --function BIN=PATH [--function ...]
                     [--arm64 BIN=ZIP ...] [--arm64-note TEXT]

Each sample: a fresh emulated Lambda Runtime API (http.server in a thread) on a free loopback port;
time.perf_counter() just before subprocess.Popen; the sample is the perf_counter() at which the
first `GET /2018-06-01/runtime/invocation/next` arrives, minus that. The request is left pending
and the process killed: only init is measured. Every address the functions are given (MLflow, the
AWS endpoint, the queue) points at a "sentinel" listener that records any connection, so a function
that talks to the network during init shows up in the table. One untimed warm-up of each command,
then BENCH_RUNS rounds (default 10) alternating all commands. Standard library only.
"""

import argparse
import datetime
import http.server
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
INIT_GOAL_MS = 20.0
BINARY_GOAL_MIB = 15.0
MIB = 1024 * 1024
# How long a process may take to ask for its first event before the sample fails.
READY_TIMEOUT_S = 60.0
# Where distributions keep the one-file root certificate bundle (Debian/Ubuntu, then Amazon Linux/Fedora).
CERT_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
BUNDLE_ONLY = "[cert bundle only]"


class Sentinel:
    """A TCP listener that accepts and records every connection (time, first bytes), answers nothing."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = []  # (perf_counter, first line)
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            at = time.perf_counter()
            conn.settimeout(0.5)
            try:
                first = conn.recv(200).split(b"\r\n", 1)[0].decode("latin-1")
            except OSError:
                first = ""
            conn.close()
            with self.lock:
                self.connections.append((at, first))

    def since(self, start, end):
        with self.lock:
            return [line for at, line in self.connections if start <= at <= end]


class RuntimeApi:
    """The Lambda Runtime API, as far as init goes: records the first GET next and holds it open."""

    def __init__(self):
        self.ready_at = None
        self.ready = threading.Event()
        self.release = threading.Event()
        self.unexpected = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path == NEXT_PATH:
                    if api.ready_at is None:
                        api.ready_at = time.perf_counter()
                        api.ready.set()
                    # Keep the request pending: the process is killed while it waits for an event.
                    api.release.wait(READY_TIMEOUT_S)
                    return
                api.unexpected.append(f"GET {self.path}")
                self.send_error(404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                api.unexpected.append(f"POST {self.path} {body[:500]}")
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def lambda_env(name, runtime_port, sentinel_port, execution_env):
    """The environment Lambda gives a function, plus dummy DeltaOne settings that point at the sentinel."""
    local = f"http://127.0.0.1:{sentinel_port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime_port}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/23/[1]bench",
        "AWS_EXECUTION_ENV": execution_env,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": local,
        "MLFLOW_TRACKING_URI": local,
        "DELTAONE_VERDICT_TABLE": "deltaone-verdicts",
        "DELTAONE_DELIVERY_TABLE": "deltaone-deliveries",
        "DELTAONE_DEAD_LETTER_QUEUE_URL": f"{local}/000000000000/deltaone-dead-letters",
        "DELTAONE_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:deltaone-verdicts",
        "DELTAONE_MLFLOW_WEBHOOK_SECRET": "bench-webhook-secret",
        # The drift scheduler's Batch target and the webhook notifier's endpoints (its secret from the
        # environment: a Secrets Manager reference would be read, over the network, during init).
        "DELTAONE_BATCH_JOB_QUEUE": "arn:aws:batch:us-east-1:000000000000:job-queue/deltaone-drift",
        "DELTAONE_BATCH_JOB_DEFINITION": "arn:aws:batch:us-east-1:000000000000:job-definition/deltaone-drift:1",
        "DELTAONE_WEBHOOK_DLQ_URL": f"{local}/000000000000/deltaone-webhook-dead-letters",
        "DELTAONE_WEBHOOK_ENDPOINTS_JSON": json.dumps(
            {"endpoints": [{"name": "bench", "url": "https://hooks.example.com/deltaone", "secret": "env:BENCH_WEBHOOK_SECRET"}]}
        ),
        "BENCH_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    return env


def sample(name, cmd, sentinel, execution_env, extra_env=None):
    """One cold start: ms from Popen to the first GET next, and the connections made meanwhile."""
    api = RuntimeApi()
    env = {**lambda_env(name, api.port, sentinel.port, execution_env), **(extra_env or {})}
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        try:
            while not api.ready.wait(0.002):
                if proc.poll() is not None or time.perf_counter() - start > READY_TIMEOUT_S:
                    break
        finally:
            proc.kill()
            proc.wait()
            api.close()
        if api.ready_at is None:
            output.seek(0)
            text = output.read().decode("utf-8", "replace")
            how = f"exited with {proc.returncode}" if proc.returncode not in (None, -9) else "timed out"
            sys.exit(f"bench: {name} ({' '.join(cmd)}) {how} before asking for an event\n"
                     f"--- its output ---\n{text}\n--- runtime API calls: {api.unexpected}")
    if api.unexpected:
        sys.exit(f"bench: {name} made unexpected Runtime API calls during init: {api.unexpected}")
    return (api.ready_at - start) * 1000, sentinel.since(start, api.ready_at)


def met(ok):
    return "met" if ok else "NOT met"


def summary(samples):
    return {
        "median_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "samples_ms": [round(s, 2) for s in samples],
    }


SIZE_SNIPPET = r"""
import importlib.metadata as md, importlib.util, json, os, re
from packaging.markers import default_environment
from packaging.requirements import Requirement

def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total

dirs = {}
for name in ("boto3", "botocore", "mlflow"):
    path = importlib.util.find_spec(name).submodule_search_locations[0]
    dirs[name] = {"path": path, "bytes": du(path)}

def closure(roots):
    env = dict(default_environment(), extra="")
    seen, todo = {}, list(roots)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    files = set()
    for dist in seen.values():
        for f in dist.files or []:
            p = os.path.realpath(dist.locate_file(f))
            if os.path.isfile(p):
                files.add(p)
    return {"distributions": len(seen), "bytes": sum(os.path.getsize(p) for p in files)}

print(json.dumps({
    "dirs": dirs,
    "closure_mlflow": closure(["boto3", "mlflow"]),
    "closure_mlflow_skinny": closure(["boto3", "mlflow-skinny"]),
    "versions": {n: md.version(n) for n in ("boto3", "botocore", "mlflow", "mlflow-skinny")},
    "python": __import__("sys").version.split()[0],
}))
"""


def python_sizes(python):
    out = subprocess.run([python, "-c", SIZE_SNIPPET], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def mib(n):
    return n / MIB


def zip_sizes(path):
    """The size of a cargo-lambda zip and of the `bootstrap` binary inside it."""
    with zipfile.ZipFile(path) as z:
        inside = sum(i.file_size for i in z.infolist() if i.filename == "bootstrap")
    size = os.path.getsize(path)
    return {"path": path, "zip_bytes": size, "zip_mib": round(mib(size), 2),
            "bootstrap_bytes": inside, "bootstrap_mib": round(mib(inside), 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True, help="the virtualenv's interpreter (boto3, mlflow)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--function", action="append", required=True, metavar="BIN=PATH")
    parser.add_argument("--arm64", action="append", default=[], metavar="BIN=ZIP")
    parser.add_argument("--arm64-note", default="")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "10")))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    functions = dict(f.split("=", 1) for f in args.function)
    arm64 = {b: zip_sizes(z) for b, z in (a.split("=", 1) for a in args.arm64)}
    peer = [args.python, str(HERE / "python_function.py")]
    # name -> (command, AWS_EXECUTION_ENV, extra environment)
    commands = {name: ([path], "AWS_Lambda_provided.al2023", {}) for name, path in functions.items()}
    commands["python"] = (peer, "AWS_Lambda_python3.11", {})
    # A secondary measurement: the Rust functions with the system root store read from the one bundle
    # file only (no per-certificate directory), as on a distribution that ships just a bundle.
    bundle = next((b for b in CERT_BUNDLES if os.path.isfile(b)), None)
    empty_dir = tempfile.mkdtemp(prefix="bench-no-certs-")
    if bundle:
        for name, path in functions.items():
            commands[f"{name} {BUNDLE_ONLY}"] = (
                [path], "AWS_Lambda_provided.al2023", {"SSL_CERT_FILE": bundle, "SSL_CERT_DIR": empty_dir})

    sizes = python_sizes(args.python)
    sentinel = Sentinel()
    samples = {name: [] for name in commands}
    connections = {name: [] for name in commands}
    load_before = os.getloadavg()
    print(f"bench: {len(commands)} commands, 1 warm-up + {args.runs} runs each "
          f"(load average {load_before[0]:.2f})", file=sys.stderr)
    for round_ in range(args.runs + 1):
        for name, (cmd, execution_env, extra_env) in commands.items():
            ms, made = sample(name, cmd, sentinel, execution_env, extra_env)
            connections[name].extend(made)
            if round_ > 0:
                samples[name].append(ms)
    os.rmdir(empty_dir)
    load_after = os.getloadavg()
    if max(load_before[0], load_after[0]) > (os.cpu_count() or 1):
        print(f"bench: warning: the load average ({load_before[0]:.2f} before, {load_after[0]:.2f} after) exceeds "
              f"the {os.cpu_count()} cores; times are inflated, compare ratios from quiet runs", file=sys.stderr)
    python = summary(samples["python"])
    dirs_bytes = sum(d["bytes"] for d in sizes["dirs"].values())

    results = []
    for name, path in functions.items():
        size = os.path.getsize(path)
        init = summary(samples[name])
        bundle_only = summary(samples[f"{name} {BUNDLE_ONLY}"]) if bundle else None
        results.append({
            "function": name,
            "binary_path": path,
            "binary_bytes": size,
            "binary_mib": round(mib(size), 2),
            "arm64_zip": arm64.get(name),
            "init": init,
            "init_cert_bundle_only": bundle_only,
            "init_connections": connections[name],
            "python_init_over_rust_init": round(python["median_ms"] / init["median_ms"], 1),
            "goals": {
                "init_le_20ms": init["median_ms"] <= INIT_GOAL_MS,
                "binary_le_15mib": mib(size) <= BINARY_GOAL_MIB,
                "arm64_bootstrap_le_15mib":
                    mib(arm64[name]["bootstrap_bytes"]) <= BINARY_GOAL_MIB if name in arm64 else None,
            },
        })

    # The table.
    head = (f"{'function':<28}{'binary MiB':>11}{'init med/min ms':>18}"
            f"{'py deploy MiB':>15}{'py init med/min ms':>21}{'py/rust':>9}")
    print()
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['function']:<28}{r['binary_mib']:>11.2f}"
              f"{r['init']['median_ms']:>10.1f} /{r['init']['min_ms']:>6.1f}"
              f"{mib(dirs_bytes):>15.1f}"
              f"{python['median_ms']:>13.1f} /{python['min_ms']:>6.1f}"
              f"{r['python_init_over_rust_init']:>8.1f}x")
    print()
    print("binary MiB: the stripped release binary built here (x86_64); init: process start -> first GET next")
    print("py deploy MiB: installed size (bytes of files, __pycache__ included) of the boto3 + botocore + mlflow "
          "site-packages directories "
          "(" + ", ".join(f"{k} {mib(v['bytes']):.1f}" for k, v in sizes["dirs"].items()) + "); "
          f"with every runtime dependency: boto3 + mlflow {mib(sizes['closure_mlflow']['bytes']):.0f} MiB, "
          f"boto3 + mlflow-skinny {mib(sizes['closure_mlflow_skinny']['bytes']):.0f} MiB")
    print("py init: the same Python peer (python_function.py: boto3 + MlflowClient, 4 AWS clients) on every row")
    for r in results:
        if r["init_cert_bundle_only"]:
            b = r["init_cert_bundle_only"]
            print(f"{r['function']} with SSL_CERT_FILE={bundle} and an empty SSL_CERT_DIR "
                  f"(root store from the bundle only): init {b['median_ms']:.1f} / {b['min_ms']:.1f} ms")
    if arm64:
        print("arm64 (cargo lambda build --release --arm64 --output-format zip): "
              + ", ".join(f"{b} zip {z['zip_mib']:.2f} MiB, bootstrap {z['bootstrap_mib']:.2f} MiB"
                          for b, z in arm64.items()))
    if args.arm64_note:
        print(f"arm64: {args.arm64_note}")
    print()
    for r in results:
        g = r["goals"]
        print(f"goals {r['function']}: init <= {INIT_GOAL_MS:.0f} ms {met(g['init_le_20ms'])} "
              f"({r['init']['median_ms']:.1f}), binary <= {BINARY_GOAL_MIB:.0f} MiB {met(g['binary_le_15mib'])} "
              f"({r['binary_mib']:.2f} x86_64)"
              + (f", arm64 {met(g['arm64_bootstrap_le_15mib'])} ({r['arm64_zip']['bootstrap_mib']:.2f})"
                 if r["arm64_zip"] else ""))
    for name, made in connections.items():
        if made:
            print(f"note: {name} connected to a configured endpoint during init {len(made)} time(s): {sorted(set(made))}")
    if not any(connections.values()):
        print("no function connected to MLflow, AWS or the queue during init (sentinel listener saw nothing)")

    report = {
        "benchmark": "functions-cold-start",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "python_harness": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "runs": args.runs,
        "goals": {"init_ms": INIT_GOAL_MS, "binary_mib": BINARY_GOAL_MIB},
        "functions": results,
        "python": {
            "command": "python bench/functions/python_function.py",
            "python": sizes["python"],
            "versions": sizes["versions"],
            "init": python,
            "init_connections": connections["python"],
            "deployment_bytes": dirs_bytes,
            "deployment_mib": round(mib(dirs_bytes), 1),
            "deployment_note": "installed size of the boto3, botocore and mlflow site-packages directories",
            "package_dirs": sizes["dirs"],
            "closure_boto3_mlflow": sizes["closure_mlflow"],
            "closure_boto3_mlflow_skinny": sizes["closure_mlflow_skinny"],
        },
        "arm64_note": args.arm64_note or None,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nbench: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
