#!/usr/bin/env bash
# Benchmark: cold start of every Lambda function crate in functions/ — stripped release binary size and
# process start → first request for an event on an emulated Lambda Runtime API — next to a Python
# function doing the same initialisation with boto3 + MlflowClient.
#
#   bash bench/functions/run.sh
#
# Environment:
#   CARGO_TARGET_DIR      respected by the builds
#   BENCH_RUNS            timed cold starts per command (default 10)
#   BENCH_ARM64           1 (default): also build the arm64 Lambda zips with cargo-lambda; 0: skip
#   BENCH_ARM64_TIMEOUT   seconds allowed for each arm64 build (default 1800)
# Prints a table and writes bench/out/functions.json. See README.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
started=$SECONDS

venv=$(bash "$root/infra/localstack/ensure-venv.sh")
python=$venv/bin/python

# Every binary of every package whose manifest is under functions/, as "package bin" lines.
metadata=$(cargo metadata --format-version 1 --no-deps)
target_dir=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' <<<"$metadata")
mapfile -t pairs < <(python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
functions = os.path.join(meta["workspace_root"], "functions") + os.sep
for package in sorted(meta["packages"], key=lambda p: p["name"]):
    if package["manifest_path"].startswith(functions):
        for target in package["targets"]:
            if "bin" in target["kind"]:
                print(package["name"], target["name"])
' <<<"$metadata")
[ "${#pairs[@]}" -gt 0 ] || { echo "bench: no binaries found in packages under functions/" >&2; exit 1; }
mapfile -t packages < <(printf '%s\n' "${pairs[@]}" | cut -d' ' -f1 | sort -u)

# One build per package, as it is deployed (features are not unified with the other functions').
args=()
for package in "${packages[@]}"; do
  echo "bench: building $package (release; several minutes when cold)" >&2
  cargo build --release -p "$package"
done
for pair in "${pairs[@]}"; do
  bin=${pair#* }
  [ -x "$target_dir/release/$bin" ] || { echo "bench: no binary at $target_dir/release/$bin" >&2; exit 1; }
  args+=(--function "$bin=$target_dir/release/$bin")
done

# A baseline, timed in the same run: earlier builds of the same binaries (another commit's release
# builds, say), each listed as "<bin>@baseline".
if [ -n "${BENCH_BASELINE_DIR:-}" ]; then
  for pair in "${pairs[@]}"; do
    bin=${pair#* }
    if [ -x "$BENCH_BASELINE_DIR/$bin" ]; then
      args+=(--function "$bin@baseline=$BENCH_BASELINE_DIR/$bin")
    else
      echo "bench: no baseline of $bin in $BENCH_BASELINE_DIR" >&2
    fi
  done
fi

# The arm64 Lambda zips, as production deploys them (cargo-lambda from the local stack's virtualenv;
# it cross-compiles with zig and installs the rustup target aarch64-unknown-linux-gnu if missing).
if [ "${BENCH_ARM64:-1}" = 1 ]; then
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  for package in "${packages[@]}"; do
    echo "bench: building the arm64 zip of $package with cargo lambda" >&2
    if PATH="$venv/bin:$PATH" timeout "${BENCH_ARM64_TIMEOUT:-1800}" \
      cargo lambda build --release --arm64 --output-format zip -p "$package" >"$log" 2>&1; then
      for pair in "${pairs[@]}"; do
        [ "${pair% *}" = "$package" ] || continue
        zip=$target_dir/lambda/${pair#* }/bootstrap.zip
        if [ -f "$zip" ]; then args+=(--arm64 "${pair#* }=$zip"); fi
      done
    else
      status=$?
      tail -n 20 "$log" >&2
      why=$([ "$status" = 124 ] && echo "timed out after ${BENCH_ARM64_TIMEOUT:-1800}s" || echo "exit $status")
      args+=(--arm64-note "cargo lambda build --arm64 of $package failed ($why): $(tail -n 1 "$log")")
    fi
  done
else
  args+=(--arm64-note "not built (BENCH_ARM64=0)")
fi

python3 "$here/bench.py" --python "$python" --out "$root/bench/out/functions.json" "${args[@]}"
echo "bench: done in $((SECONDS - started))s" >&2
