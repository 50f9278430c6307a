# shellcheck shell=bash
# What the shell examples share: the registry fixtures and a check that says what was expected.
examples_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
registry() { python "$examples_lib/registry.py" "$@"; }

# expect WHAT ACTUAL EXPECTED: stops the example when DeltaOne did not do what it shows.
expect() {
  if [ "$2" != "$3" ]; then
    echo "example: expected $1 to be '$3', got '$2'" >&2
    exit 1
  fi
  echo "ok: $1 is '$3'"
}

# json_field FIELD: one field of the JSON object on standard input.
json_field() { python -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
