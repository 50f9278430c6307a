#!/usr/bin/env bash
# Benchmark: the drift job (deltaone-drift) against Evidently 0.7's DataDriftPreset and against a pass
# that only decodes the same Parquet columns, on the same generated prediction logs, in one run.
#
#   bash bench/drift/run.sh [--rows N]... [--skip-evidently] [--runs N]
#
#   --rows N           rows per window (repeatable; default: 1000000 and 10000000)
#   --skip-evidently   time only the job and the decode-only pass
#   --runs N           timed rounds of the job and the decode-only pass per size (default 3;
#                      as many again after Evidently where it runs)
#
# Environment:
#   BENCH_OUT_NAME            results file name under bench/out/ (default drift, i.e. drift.json)
#   DELTAONE_CACHE            where the virtualenv and the generated data live (default ~/.cache/deltaone)
#   CARGO_TARGET_DIR          respected by the build
#   BENCH_EVIDENTLY_MAX_ROWS  largest size Evidently runs at (default 1000000: at 10 M it needs
#                             tens of minutes and tens of GB)
#   BENCH_JOB_ARGS            extra arguments for the job, e.g. "--exact-max-rows 100000000" (exact
#                             statistics at 10 M rows; by default the job sketches past 5 M rows)
#   DELTAONE_DRIFT_BIN, DELTAONE_DECODE_BIN   use these binaries instead of building them
#   RUSTFLAGS                 default on x86-64 CPUs that have it: -C target-cpu=x86-64-v3, as the
#                             amd64 image is built; set (even empty) to override
# Prints a table and the ratios; writes bench/out/drift.json. See README.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
started=$SECONDS

usage() { sed -n '2,23p' "$here/run.sh" | sed 's/^# \{0,1\}//'; }
rows=()
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --rows)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rows needs a positive integer, got '${2:-}'" >&2; exit 2; }
      rows+=("$2"); shift 2 ;;
    --runs)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs needs a positive integer, got '${2:-}'" >&2; exit 2; }
      extra+=(--runs "$2"); shift 2 ;;
    --skip-evidently) extra+=(--skip-evidently); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(1000000 10000000)

cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
venv=$(bash "$here/ensure-venv.sh")
python=$venv/bin/python

# (b) the data: one set per size, cached under a key of the row count and the generator's source.
gen_key=$(sha256sum "$here/gen.py" | cut -c1-12)
dataset() {
  local n=$1 dir="$cache/bench-drift-data/rows-$1-$gen_key"
  if [ ! -f "$dir/manifest.json" ]; then
    rm -rf "$dir"
    echo "bench: generating $n rows per window into $dir" >&2
    "$python" "$here/gen.py" --rows "$n" --out "$dir" >&2
  fi
  echo "$dir"
}
sizes=()
for n in "${rows[@]}"; do sizes+=(--size "$n=$(dataset "$n")"); done
probe=$(dataset 10000)

# (c) the binaries, speed-oriented: the batch profile, and on x86-64 the instruction set the amd64
# image is built for (x86-64-v3: AVX2, FMA, BMI2) when this CPU has it. Both binaries alike.
x86_64_v3() {
  [ "$(uname -m)" = x86_64 ] || return 1
  local flag
  for flag in avx2 bmi1 bmi2 fma movbe f16c abm xsave; do
    grep -qw "$flag" /proc/cpuinfo 2>/dev/null || return 1
  done
}
if [ -z "${RUSTFLAGS+set}" ] && x86_64_v3; then
  export RUSTFLAGS="-C target-cpu=x86-64-v3"
fi
echo "bench: RUSTFLAGS=${RUSTFLAGS:-} (set RUSTFLAGS to override; empty builds for the baseline CPU)" >&2
if [ -n "${DELTAONE_DRIFT_BIN:-}" ] && [ -n "${DELTAONE_DECODE_BIN:-}" ] && [ -n "${DELTAONE_METER_BIN:-}" ]; then
  job=$DELTAONE_DRIFT_BIN
  decode=$DELTAONE_DECODE_BIN
  meter=$DELTAONE_METER_BIN
else
  echo "bench: building deltaone-drift and the decode-only and peak-rss examples (--profile batch; minutes when cold)" >&2
  cargo build --profile batch -p deltaone-drift --bin deltaone-drift --example decode-only --example peak-rss
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  job=$target_dir/batch/deltaone-drift
  decode=$target_dir/batch/examples/decode-only
  meter=$target_dir/batch/examples/peak-rss
fi
[ -x "$job" ] || { echo "bench: no deltaone-drift binary at $job" >&2; exit 1; }
[ -x "$decode" ] || { echo "bench: no decode-only binary at $decode" >&2; exit 1; }
[ -x "$meter" ] || { echo "bench: no peak-rss meter at $meter" >&2; exit 1; }

# (d), (e) time all three, print the table and the ratios, write the JSON.
read -r -a job_args <<<"${BENCH_JOB_ARGS:-}"
for arg in ${job_args[@]+"${job_args[@]}"}; do extra+=(--job-arg="$arg"); done
python3 "$here/bench.py" --job "$job" --decode "$decode" --meter "$meter" --python "$python" \
  --out "$root/bench/out/${BENCH_OUT_NAME:-drift}.json" --probe "$probe" \
  --evidently-max-rows "${BENCH_EVIDENTLY_MAX_ROWS:-1000000}" "${sizes[@]}" ${extra[@]+"${extra[@]}"}
echo "bench: done in $((SECONDS - started))s" >&2
