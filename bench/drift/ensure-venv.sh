#!/usr/bin/env bash
# Installs the drift benchmark's pinned Python packages (requirements.txt: Evidently 0.7, pandas < 3,
# pyarrow, numpy) into a virtualenv under the cache directory, named by a hash of the requirements and
# the interpreter's version. Idempotent: a second run returns at once. Prints the venv path on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
req="$here/requirements.txt"
python=${PYTHON:-python3}
digest=$( (cat "$req"; "$python" --version 2>&1) | sha256sum | cut -c1-16)
venv="$cache/venv-bench-drift-$digest"
if [ -f "$venv/.complete" ]; then
  echo "$venv"
  exit 0
fi
mkdir -p "$cache"
# A half-built venv from an interrupted run is rebuilt from scratch.
rm -rf "$venv"
echo "bench: installing $(grep -v '^#' "$req" | tr '\n' ' ') into $venv (a few minutes, once)" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
touch "$venv/.complete"
echo "$venv"
