#!/usr/bin/env bash
# Installs the drift benchmark's pinned Python packages (requirements.txt: Evidently 0.7, pandas < 3,
# pyarrow, numpy) into a cached virtualenv, the same way as the local stack's. Prints its path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../../infra/localstack/ensure-venv.sh" "$here/requirements.txt" venv-bench-drift
