#!/usr/bin/env bash
# The README's two commands exactly as a brand-new machine runs them: a fresh clone of the committed
# HEAD (nothing uncommitted, nothing ignored comes along), an empty DELTAONE_CACHE (no virtualenv, no
# record of earlier runs), no CARGO_TARGET_DIR (the clone's own empty target/), then
#
#   cargo demo          (cold)
#   bash tests/run.sh   (cold: reuses the demo's build, installs the local stack from scratch)
#
# and prints both times. Run it before resolving anything that changes the build, the tests or an
# install step: a green run in a warm checkout can hide a leftover (a binary no step built, a package
# installed by hand). What it cannot make new: the machine's own toolchains and packages, and cargo's
# download cache of crates (downloads are not builds).
#
#   bash tests/fresh-machine.sh           the two commands, cold
#   bash tests/fresh-machine.sh --warm    then the test command once more, warm, for the comparison
#   bash tests/fresh-machine.sh --keep    keep the clone and the cache afterwards (their paths are printed)
#
# Extra arguments after -- go to the test command. Exit status: the first failing command's.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
warm=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --warm) warm=1 ;;
    --keep) keep=1 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-machine.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$(git -C "$root" status --porcelain)" ]; then
  echo "fresh-machine: note: uncommitted changes are not part of this run (it clones HEAD)" >&2
fi
base=$(mktemp -d "${TMPDIR:-/tmp}/deltaone-fresh.XXXXXX")
clone="$base/clone"
export DELTAONE_CACHE="$base/cache"
unset CARGO_TARGET_DIR DELTAONE_VENV DELTAONE_TEST_MOTO_URL DELTAONE_TEST_MLFLOW_URL DELTAONE_STACK_DIR
mkdir -p "$DELTAONE_CACHE"
if [ "$keep" = 0 ]; then
  trap 'rm -rf "$base"' EXIT
else
  echo "fresh-machine: clone $clone, cache $DELTAONE_CACHE (kept)"
fi
git clone --quiet --no-hardlinks "$root" "$clone"
# CI has shared/ beside the clone; so does this run.
if [ -d "$root/../shared" ] && [ ! -e "$base/shared" ]; then
  ln -s "$(cd "$root/../shared" && pwd)" "$base/shared"
fi
cd "$clone"
echo "fresh-machine: $(git log -1 --format='%h %s')"

times=()
timed() {
  local label=$1 start status
  shift
  start=$(date +%s)
  printf '\n#### fresh-machine: %s\n' "$label"
  set +e
  "$@"
  status=$?
  set -e
  times+=("$(printf '%6ss  %s (exit %s)' "$(($(date +%s) - start))" "$label" "$status")")
  if [ "$status" != 0 ]; then
    printf '\nfresh-machine: %s failed (exit %s)\n' "$label" "$status"
    printf '%s\n' "${times[@]}"
    exit "$status"
  fi
}
timed "cargo demo (cold)" cargo demo
timed "bash tests/run.sh (cold cache, after the demo)" bash tests/run.sh "$@"
if [ "$warm" = 1 ]; then
  timed "bash tests/run.sh (warm)" bash tests/run.sh "$@"
fi
printf '\nfresh-machine: both commands passed on a fresh clone with an empty cache\n'
printf '%s\n' "${times[@]}"
