#!/usr/bin/env bash
# A fuzzing campaign over DeltaOne's parsers of untrusted input: installs a pinned cargo-fuzz, builds
# every target, runs each one (or the ones named) under libFuzzer's limits, seeded from the repo's
# corpora, minimizes the corpora afterwards (libFuzzer's set-cover merge) so they stay small in the repo, and writes the figures
# into the "Inputs fuzzed" table of docs/reliability.md. See --help.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz_dir=tests/fuzz
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}

usage() {
  cat <<EOF
Usage: bash tests/fuzz/campaign.sh [OPTIONS] [TARGET...]

Fuzzes each TARGET (default: every one in tests/fuzz/fuzz_targets/) with libFuzzer until it has run
--runs inputs or --seconds have passed, whichever comes first (the issue's campaign: 10 million
executions or 20 minutes per target), then minimizes its corpus and records the figures.

Each target is one line calling the check of the same name in tests/fuzz/checks (the crate
deltaone-fuzz-checks): the real parser, plus what must hold (no panic, a typed error that says what
was wrong, round trips where the format is ours). The test command replays every corpus and
regression through the same checks (tests/fuzz/checks/tests/replay.rs) on stable; it never fuzzes.

Options:
  --runs N          stop a target after N executions            [default: 10000000]
  --seconds S       stop a target after S seconds                [default: 1200]
  --label TEXT      what the table calls this campaign           [default: "full" with the default
                    limits, else "short (S s)"]
  --no-cmin         keep the grown corpus as it is (no minimization into tests/fuzz/corpus/)
  --no-table        do not touch docs/reliability.md
  --build-only      install cargo-fuzz and build every target, run nothing
  --cmin-only       only minimize the corpora in tests/fuzz/corpus/ (no fuzzing, no table)
  --list            print the targets and exit
  -h, --help        this text

Environment:
  DELTAONE_CACHE         where cargo-fuzz is installed: \$DELTAONE_CACHE/tools/cargo-fuzz-$CARGO_FUZZ_VERSION
                         [default: ~/.cache/deltaone]
  CARGO_TARGET_DIR       the build's target directory [default: target/ in the repository]
  FUZZ_RSS_LIMIT_MB      libFuzzer -rss_limit_mb: a process above it is a finding      [default: 2048]
  FUZZ_MALLOC_LIMIT_MB   libFuzzer -malloc_limit_mb: one allocation above it is one    [default: 512]
  FUZZ_TIMEOUT_SECS      libFuzzer -timeout: one input slower than this is a finding   [default: 10]
  FUZZ_MAX_LEN           libFuzzer -max_len for every target [default: 16384 for the Parquet
                         targets, 4096 for the others]
  FUZZ_SANITIZER         cargo fuzz --sanitizer (address, leak, memory, thread, none) [default: address]
  FUZZ_JOBS              parallel fuzzing processes per target (libFuzzer -fork) [default: 1]

Files:
  tests/fuzz/corpus/<target>/        the seeds and the minimized corpus (committed, kept small)
  tests/fuzz/regressions/<target>/   inputs that once broke a check (committed, never minimized away)
  \$CARGO_TARGET_DIR/fuzz-work/<target>/   this campaign's grown corpus, log and findings
                                          (crash-*, oom-*, timeout-*, leak-*, slow-unit-*)

A finding: reproduce it with
  cargo +nightly fuzz run --fuzz-dir tests/fuzz <target> <finding file>
fix the parser (a typed error, never a panic, never an unbounded allocation), copy the file into
tests/fuzz/regressions/<target>/ and add a unit test beside the parser.

Examples:
  bash tests/fuzz/campaign.sh                          # the full campaign, every target (~4.5 h)
  bash tests/fuzz/campaign.sh --seconds 120 s3_event   # two minutes of one target
  bash tests/fuzz/campaign.sh --build-only             # check that every target builds
EOF
}

runs=10000000
seconds=1200
label=""
cmin=1
table=1
build_only=0
cmin_only=0
list=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --no-cmin) cmin=0; shift ;;
    --no-table) table=0; shift ;;
    --build-only) build_only=1; shift ;;
    --cmin-only) cmin_only=1; shift ;;
    --list) list=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

cd "$root"
all=()
for file in "$fuzz_dir"/fuzz_targets/*.rs; do
  all+=("$(basename "$file" .rs)")
done
if [ "$list" = 1 ]; then
  printf '%s\n' "${all[@]}"
  exit 0
fi
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all[@]}")
fi
for target in "${targets[@]}"; do
  if [ ! -f "$fuzz_dir/fuzz_targets/$target.rs" ]; then
    echo "no fuzz target $target (targets: ${all[*]})" >&2
    exit 2
  fi
done
if [ -z "$label" ]; then
  if [ "$runs" = 10000000 ] && [ "$seconds" = 1200 ]; then label=full; else label="short (${seconds} s)"; fi
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "cargo fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi

# A pinned cargo-fuzz, installed once per version into the cache (never by hand, never globally).
tools="$cache/tools/cargo-fuzz-$CARGO_FUZZ_VERSION"
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION into $tools (once)" >&2
  cargo install --locked --root "$tools" cargo-fuzz --version "$CARGO_FUZZ_VERSION" >&2
fi
export PATH="$tools/bin:$PATH"
sanitizer=${FUZZ_SANITIZER:-address}
fuzz=(cargo +nightly fuzz)

echo "== building every fuzz target (cargo +nightly fuzz build --fuzz-dir $fuzz_dir, sanitizer $sanitizer)" >&2
"${fuzz[@]}" build --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer"
if [ "$build_only" = 1 ]; then
  exit 0
fi

max_len_of() {
  case "$1" in
    *parquet* | shard_partial | drift_manifest | attestation) echo "${FUZZ_MAX_LEN:-16384}" ;;
    *) echo "${FUZZ_MAX_LEN:-4096}" ;;
  esac
}

# The corpus the campaign grew and the one it started from, minimized into the repo's corpus with
# libFuzzer's set-cover merge (the fewest inputs that keep every feature reached; smaller than
# `cargo fuzz cmin`'s plain -merge=1). The named seeds (seed-*) are always kept; the rest are
# named by their SHA-1, as libFuzzer names them.
minimize() {
  local target=$1 work=$2 merged
  merged="$work/merged"
  rm -rf "$merged"
  mkdir -p "$merged"
  cp "$fuzz_dir/corpus/$target"/seed-* "$merged/" 2>/dev/null || true
  local sources=("$fuzz_dir/corpus/$target")
  [ -d "$work/corpus" ] && sources+=("$work/corpus")
  "${fuzz[@]}" run --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" "$target" "$merged" "${sources[@]}" -- \
    -rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}" -malloc_limit_mb="${FUZZ_MALLOC_LIMIT_MB:-512}" \
    -timeout="${FUZZ_TIMEOUT_SECS:-10}" -max_len="$(max_len_of "$target")" -set_cover_merge=1 \
    >"$work/cmin.log" 2>&1 || {
    echo "$target: minimizing the corpus failed; see $work/cmin.log" >&2
    exit 1
  }
  rm -rf "${fuzz_dir:?}/corpus/$target"
  mv "$merged" "$fuzz_dir/corpus/$target"
}

if [ "$cmin_only" = 1 ]; then
  for target in "${targets[@]}"; do
    work="$CARGO_TARGET_DIR/fuzz-work/$target"
    mkdir -p "$work"
    before=$(find "$fuzz_dir/corpus/$target" -type f | wc -l)
    minimize "$target" "$work"
    echo "$target: corpus $before -> $(find "$fuzz_dir/corpus/$target" -type f | wc -l) files" >&2
  done
  exit 0
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for target in "${targets[@]}"; do
  work="$CARGO_TARGET_DIR/fuzz-work/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/findings" "$fuzz_dir/corpus/$target"
  seeds=("$fuzz_dir/corpus/$target")
  [ -d "$fuzz_dir/regressions/$target" ] && seeds+=("$fuzz_dir/regressions/$target")
  max_len=$(max_len_of "$target")
  limits=(-rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}" -malloc_limit_mb="${FUZZ_MALLOC_LIMIT_MB:-512}"
    -timeout="${FUZZ_TIMEOUT_SECS:-10}" -max_len="$max_len")
  command="bash tests/fuzz/campaign.sh --runs $runs --seconds $seconds $target"
  echo "== $target: $runs runs or $seconds s (max_len $max_len)" >&2
  started=$(date +%s)
  set +e
  # -fork keeps going after a finding (each is a file in findings/); -ignore_crashes with it.
  "${fuzz[@]}" run --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" "$target" "$work/corpus" "${seeds[@]}" -- \
    "${limits[@]}" -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/findings/" \
    ${FUZZ_JOBS:+-fork="$FUZZ_JOBS" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1} \
    >"$work/fuzz.log" 2>&1
  status=$?
  set -e
  elapsed=$(($(date +%s) - started))
  # libFuzzer's final stats (one process); "Done N runs" when the run limit ended it.
  executions=$(grep -a 'stat::number_of_executed_units' "$work/fuzz.log" | tail -n 1 | awk '{print $2}')
  [ -n "$executions" ] || executions=$(grep -aoE 'Done [0-9]+ runs' "$work/fuzz.log" | tail -n 1 | awk '{print $2}')
  [ -n "$executions" ] || executions=$(grep -aoE '^#[0-9]+' "$work/fuzz.log" | tail -n 1 | tr -d '#')
  findings=$(find "$work/findings" -type f | wc -l)
  if [ "$status" != 0 ] && [ "$findings" = 0 ]; then
    echo "$target: cargo fuzz exited $status without a finding; the end of $work/fuzz.log:" >&2
    tail -n 20 "$work/fuzz.log" >&2
    exit 1
  fi
  if [ "$cmin" = 1 ]; then
    minimize "$target" "$work"
  fi
  files=$(find "$fuzz_dir/corpus/$target" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "${executions:-0}" "$elapsed" "$files" "$findings" "$label" \
    "$command" >>"$results"
  echo "$target: ${executions:-?} executions in ${elapsed} s, $files corpus files, $findings findings" >&2
  if [ "$findings" != 0 ]; then
    find "$work/findings" -type f | sed 's/^/  finding: /' >&2
  fi
done

if [ "$table" = 1 ]; then
  python3 - "$results" docs/reliability.md "$(date -u +%F)" <<'EOF'
# Replaces the rows of the targets just run in the "Inputs fuzzed" table (between its markers),
# keeping the others, sorted by target.
import sys
results, path, day = sys.argv[1:4]
begin, end = "<!-- fuzz-table:begin -->", "<!-- fuzz-table:end -->"
header = ("| target | executions | seconds | corpus files | findings | campaign | date | reproduce |\n"
          "|---|---:|---:|---:|---:|---|---|---|\n")
text = open(path).read()
if begin not in text or end not in text:
    sys.exit(f"{path}: no {begin} ... {end} markers for the fuzzing table")
head, rest = text.split(begin, 1)
table, tail = rest.split(end, 1)
rows = {}
for line in table.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 8 and cells[0] not in ("target", "") and not cells[0].startswith("-"):
        rows[cells[0].strip("`")] = line
for line in open(results):
    target, executions, seconds, files, findings, label, command = line.rstrip("\n").split("\t")
    rows[target] = (f"| `{target}` | {int(executions):,} | {seconds} | {files} | {findings} | {label} | {day} "
                    f"| `{command}` |")
body = "".join(rows[t] + "\n" for t in sorted(rows))
open(path, "w").write(f"{head}{begin}\n{header}{body}{end}{tail}")
EOF
  echo "figures written to docs/reliability.md" >&2
fi
