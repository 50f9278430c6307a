"""Fills an MLflow server with the benchmark models.

    MLFLOW_TRACKING_URI=http://... python populate.py NAME:VERSIONS:BASELINE [...]

For each spec, registers model NAME with VERSIONS versions, shaped like a real registry:
  - every version carries a few ordinary tags (git commit, dataset, trainer);
  - one version in RUN_EVERY (default 10) is registered from its own run, which logs `accuracy`;
  - two older versions carry stale `benchmark_value` tags (0.85 and 0.88), so that choosing the
    *newest* tagged version matters;
  - version BASELINE carries benchmark_value=0.9 and benchmark_metric=accuracy;
  - every version after BASELINE has a run; the newest one logs accuracy 0.915, so the expected
    verdict is achieved with delta_pp 1.5 (baseline BASELINE).
The bulk of the versions is created by a thread pool (the server numbers them in arrival order);
the last TAIL versions, whose numbers matter, are created one by one. Prints progress on stderr.
If a model already exists with the expected number of versions it is left alone.
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

RUN_EVERY = int(os.environ.get("BENCH_RUN_EVERY", "10"))
THREADS = int(os.environ.get("BENCH_POPULATE_THREADS", "8"))
CANDIDATE_ACCURACY = 0.915

client = MlflowClient()


def log(msg):
    print(f"populate: {msg}", file=sys.stderr, flush=True)


def experiment_id():
    exp = client.get_experiment_by_name("deltaone-bench")
    return exp.experiment_id if exp else client.create_experiment("deltaone-bench")


def new_run(exp, accuracy):
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "accuracy", accuracy)
    return run


def new_version(name, exp, i, with_run, accuracy):
    tags = {"git_commit": f"{i * 2654435761 % 2**32:08x}", "dataset": "imagenet-val-v3", "trainer": "ci"}
    if with_run:
        run = new_run(exp, accuracy)
        source, run_id = f"{run.info.artifact_uri}/model", run.info.run_id
    else:
        source, run_id = f"s3://deltaone-bench/{name}/{i}/model", None
    return client.create_model_version(name, source, run_id, tags=tags, await_creation_for=0)


def existing_count(name):
    return len(client.search_model_versions(f"name='{name}'"))


def populate(name, total, baseline):
    try:
        client.create_registered_model(name, tags={"benchmark_metric": "accuracy", "team": "bench"})
    except MlflowException as e:
        if e.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        have = existing_count(name)
        if have == total:
            log(f"{name} already has {total} versions; leaving it")
            return
        sys.exit(f"populate: {name} exists with {have} versions, expected {total}; use a fresh server")

    exp = experiment_id()
    start = time.perf_counter()
    bulk = baseline - 1  # versions 1..baseline-1 come in any order; the rest one by one
    done = 0

    def make(i):
        return new_version(name, exp, i, with_run=(i % RUN_EVERY == 0), accuracy=0.8 + (i % 50) / 1000)

    with ThreadPoolExecutor(THREADS) as pool:
        for _ in pool.map(make, range(1, bulk + 1)):
            done += 1
            if done % 500 == 0 or done == bulk:
                rate = done / (time.perf_counter() - start)
                log(f"{name}: {done}/{total} versions ({rate:.0f}/s)")

    # Stale benchmark tags on older versions: the baseline must be the newest tagged one.
    for v, value in ((max(1, bulk // 5), "0.85"), (max(1, bulk * 3 // 5), "0.88")):
        if v < baseline:
            client.set_model_version_tag(name, str(v), "benchmark_value", value)
            client.set_model_version_tag(name, str(v), "benchmark_metric", "accuracy")

    for i in range(baseline, total + 1):
        accuracy = CANDIDATE_ACCURACY if i == total else 0.87 + (i % 3) / 100
        mv = new_version(name, exp, i, with_run=True, accuracy=accuracy)
        if mv.version != str(i):
            sys.exit(f"populate: {name}: expected version {i}, the server made {mv.version}")
    client.set_model_version_tag(name, str(baseline), "benchmark_value", "0.9")
    client.set_model_version_tag(name, str(baseline), "benchmark_metric", "accuracy")
    log(f"{name}: {total} versions in {time.perf_counter() - start:.1f}s (baseline {baseline}, candidate {total})")


def main():
    specs = sys.argv[1:] or ["bench_10:10:8", "bench_5000:5000:4990"]
    for spec in specs:
        name, total, baseline = spec.split(":")
        populate(name, int(total), int(baseline))


if __name__ == "__main__":
    main()
