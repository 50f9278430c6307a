#!/usr/bin/env bash
# Peak memory of the drift job in sketch mode vs exact mode as the windows grow.
#
#   bash bench/drift-sketch/run.sh [--rows N]...     (default: 1000000 10000000 50000000)
#
# For each size: writes N rows per window (two float features and a category, files of 1 M rows;
# cached under $DELTAONE_CACHE/bench-drift-sketch/), runs `deltaone-drift run` (batch profile) with
# --sketch and without (exact), and prints each run's peak RSS (GNU time's %M) and wall time.
# Sketch mode's peak should stay flat; exact mode grows by 8 bytes per value of the largest column.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
rows=()
while [ $# -gt 0 ]; do
  case $1 in
    --rows)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rows needs a positive integer" >&2; exit 2; }
      rows+=("$2"); shift 2 ;;
    -h | --help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(1000000 10000000 50000000)
[ -x /usr/bin/time ] || { echo "bench: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}/bench-drift-sketch

echo "bench: building (cargo build --profile batch; minutes when cold)" >&2
cargo build -q --profile batch -p deltaone-drift --bin deltaone-drift --example sketch-data
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
job=$target/batch/deltaone-drift
gen=$target/batch/examples/sketch-data
key=$(sha256sum "$root/jobs/drift/examples/sketch-data.rs" | cut -c1-12)

printf '%-12s %-7s %14s %10s\n' "rows/window" "mode" "peak RSS MiB" "wall s"
for n in "${rows[@]}"; do
  data=$cache/rows-$n-$key
  if [ ! -f "$data/done" ]; then
    rm -rf "$data"
    "$gen" --rows "$n" --out "$data/reference" >&2
    "$gen" --rows "$n" --out "$data/current" --shift 0.5 >&2
    touch "$data/done"
  fi
  for mode in sketch exact; do
    out=$(mktemp -d)
    flag=()
    [ "$mode" = sketch ] && flag=(--sketch)
    # Exact mode must stay exact at every size here: raise the automatic switch.
    /usr/bin/time -f '%M %e' -o "$out/time" "$job" run --reference "$data/reference" --current "$data/current" \
      --out "$out" --no-progress --exact-max-rows 1000000000 ${flag[@]+"${flag[@]}"} >/dev/null
    read -r kib secs <"$out/time"
    printf '%-12s %-7s %14.1f %10s\n' "$n" "$mode" "$(echo "$kib / 1024" | bc -l)" "$secs"
    rm -rf "$out"
  done
done
