#!/usr/bin/env bash
# Writes the Parquet files of write_files.py (pyarrow, Polars and DuckDB; every codec and encoding)
# once per version of the script and its pinned writers, and prints their directory. The writers
# live in a cached virtualenv (infra/localstack/ensure-venv.sh); the files in the cache directory,
# never in the repository. Safe to run from tests in parallel: one writes, the others wait.
#
#   bash tests/parquet-writers/generate.sh      # prints e.g. ~/.cache/deltaone/parquet-writers-files-<hash>
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
mkdir -p "$cache"
digest=$(cat "$here/requirements.txt" "$here/write_files.py" | sha256sum | cut -c1-16)
out="$cache/parquet-writers-files-$digest"
if [ -f "$out/manifest.json" ]; then
  echo "$out"
  exit 0
fi
exec 9>"$cache/parquet-writers.lock"
flock 9
if [ ! -f "$out/manifest.json" ]; then
  venv=$(bash "$root/infra/localstack/ensure-venv.sh" "$here/requirements.txt" parquet-writers)
  rm -rf "$out.partial"
  "$venv/bin/python" "$here/write_files.py" "$out.partial" >&2
  rm -rf "$out"
  mv "$out.partial" "$out"
fi
echo "$out"
