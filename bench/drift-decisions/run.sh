#!/usr/bin/env bash
# Decision-quality benchmark: windows with known ground truth (negligible shifts of 0.01 standard
# deviations, and real drifts: location, scale, tail, category mix, a new category) at 10 k, 1 M
# and 10 M rows per window; the false alarms and detections of the drift job's default policy, of
# its old p-value rule, and of Evidently 0.7's DataDriftPreset on the same files.
#
#   bash bench/drift-decisions/run.sh [--rows N]... [--skip-evidently]
#
#   --rows N           rows per window (repeatable; default: 10000, 1000000 and 10000000)
#   --skip-evidently   run only the drift job
#
# Environment:
#   DELTAONE_CACHE            where the virtualenv and the generated data live (default ~/.cache/deltaone)
#   BENCH_EVIDENTLY_MAX_ROWS  largest size Evidently runs at (default 1000000: at 10 M rows it needs
#                             tens of GB and about an hour on two cores)
#   BENCH_PROFILE             cargo profile of the job (default batch; "dev" reuses the test build —
#                             the decisions are the same, only slower)
#   DELTAONE_DRIFT_BIN        use this binary instead of building one
# Prints a table; writes bench/out/drift-decisions.json. See README.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
started=$SECONDS

usage() { sed -n '2,20p' "$here/run.sh" | sed 's/^# \{0,1\}//'; }
rows=()
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --rows)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rows needs a positive integer, got '${2:-}'" >&2; exit 2; }
      rows+=("$2"); shift 2 ;;
    --skip-evidently) extra+=(--skip-evidently); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(10000 1000000 10000000)

cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
# The drift bench's pinned venv (Evidently 0.7, pandas, pyarrow, numpy) serves this one too.
venv=$(bash "$root/bench/drift/ensure-venv.sh")
python=$venv/bin/python

gen_key=$(sha256sum "$here/gen.py" | cut -c1-12)
sizes=()
for n in "${rows[@]}"; do
  dir="$cache/bench-drift-decisions/rows-$n-$gen_key"
  if [ ! -f "$dir/truth.json" ]; then
    rm -rf "$dir"
    echo "bench: generating $n rows per window into $dir" >&2
    "$python" "$here/gen.py" --rows "$n" --out "$dir" >&2
  fi
  sizes+=(--size "$n=$dir")
done

if [ -n "${DELTAONE_DRIFT_BIN:-}" ]; then
  job=$DELTAONE_DRIFT_BIN
else
  profile=${BENCH_PROFILE:-batch}
  echo "bench: building deltaone-drift (--profile $profile)" >&2
  cargo build --profile "$profile" -p deltaone-drift --bin deltaone-drift
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  [ "$profile" = dev ] && profile=debug
  job=$target_dir/$profile/deltaone-drift
fi
[ -x "$job" ] || { echo "bench: no deltaone-drift binary at $job" >&2; exit 1; }

python3 "$here/bench.py" --job "$job" --python "$python" --out "$root/bench/out/drift-decisions.json" \
  --evidently-max-rows "${BENCH_EVIDENTLY_MAX_ROWS:-1000000}" "${sizes[@]}" ${extra[@]+"${extra[@]}"}
echo "bench: done in $((SECONDS - started))s" >&2
