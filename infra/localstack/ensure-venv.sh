#!/usr/bin/env bash
# Installs the pinned local stack (moto server, MLflow, cargo-lambda, and the Python reference tools)
# into a virtualenv under the cache directory. Idempotent: a second run with the same requirements
# returns in well under a second. Prints the venv path on stdout.
#
#   ensure-venv.sh [REQUIREMENTS [NAME]]
#
# Other tools with their own pins (the drift bench, checkov) pass their requirements file and a name:
# the venv is <cache>/<NAME>-<hash of the requirements and the interpreter's version>.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DELTAONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltaone}
req=${1:-$here/requirements.txt}
name=${2:-venv}
python=${PYTHON:-python3}
digest=$( (cat "$req"; "$python" --version 2>&1) | sha256sum | cut -c1-16)
venv="$cache/$name-$digest"
if [ -f "$venv/.complete" ]; then
  echo "$venv"
  exit 0
fi
mkdir -p "$cache"
# A half-built venv from an interrupted run is rebuilt from scratch.
rm -rf "$venv"
echo "$name: installing $(grep -v '^#' "$req" | tr '\n' ' ') into $venv (a few minutes, once)" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
touch "$venv/.complete"
echo "$venv"
