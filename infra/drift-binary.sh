#!/usr/bin/env bash
# Prints the path of the deltaone-drift binary as the test build made it (`cargo test --no-run`,
# a no-op after the test command's build), so that the image and the deploy checks run the binary
# the tests ran instead of compiling it again with another feature set. DELTAONE_DRIFT_BINARY wins.
set -euo pipefail
if [ -n "${DELTAONE_DRIFT_BINARY:-}" ]; then
  echo "$DELTAONE_DRIFT_BINARY"
  exit 0
fi
cargo test --workspace --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "deltaone-drift" \
            and "bin" in m["target"]["kind"] and not m["profile"]["test"]:
        print(m["executable"])
'
