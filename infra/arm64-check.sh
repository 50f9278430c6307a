#!/usr/bin/env bash
# The arm64 zip as production deploys it, built and answering the Lambda Runtime API under
# emulation on an x86_64 machine. Too slow for every test run (a cold release cross-build of one
# function takes tens of minutes on 2 cores), so run it by hand after changing the build:
#
#   bash infra/arm64-check.sh [PACKAGE]      # default deltaone-fn-query-api
#
#   1. cargo lambda build --release --arm64 --output-format zip -p PACKAGE (as infra/package.sh does;
#      rustup adds the aarch64 target, zig from the local stack's virtualenv links)
#   2. the zip's bootstrap is checked (an ARM aarch64 ELF executable) and run by Debian's
#      qemu-user-static (qemu-aarch64-static -L with Debian's libc6-arm64-cross; both installed by
#      apt-get when missing) against the Runtime API emulator of tests/deploy/use_stack.py, with a
#      Function URL `GET /health` event; the answer must be HTTP 200
#   3. prints the build time, the zip and binary sizes, and process start -> first Runtime API
#      poll under emulation
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
package=${1:-deltaone-fn-query-api}
say() { printf '%s\n' "arm64-check: $*"; }
DELTAONE_VENV=${DELTAONE_VENV:-$(infra/localstack/ensure-venv.sh)}
export PATH="$DELTAONE_VENV/bin:$PATH"

need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2
fi

binary=$(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == sys.argv[1]:
        print(next(t["name"] for t in p["targets"] if "bin" in t["kind"]))
' "$package")
[ -n "$binary" ] || { say "no binary in package $package"; exit 2; }
target=$(cargo metadata --no-deps --format-version 1 --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

started=$SECONDS
cargo lambda build --release --arm64 --output-format zip --locked -p "$package"
built=$(( SECONDS - started ))
zip="$target/lambda/$binary/bootstrap.zip"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$work"
chmod 0755 "$work/bootstrap"
kind=$(file -b "$work/bootstrap")
case "$kind" in
  *"ARM aarch64"*) ;;
  *) say "FAIL: bootstrap is not an arm64 executable: $kind"; exit 1 ;;
esac
say "built in ${built}s: $zip $(du -h "$zip" | cut -f1), bootstrap $(du -h "$work/bootstrap" | cut -f1) ($kind)"

"$DELTAONE_VENV/bin/python" - "$work/bootstrap" "$root" <<'PY'
import json, os, subprocess, sys, time, uuid
sys.path.insert(0, os.path.join(sys.argv[2], "tests", "deploy"))
from use_stack import RuntimeApi

bootstrap, root = sys.argv[1:3]
event = json.load(open(os.path.join(root, "samples/events/function-url-query.json")))
event.update({"rawPath": "/health", "rawQueryString": ""})
event.pop("queryStringParameters", None)
event["requestContext"]["http"]["path"] = "/health"
api = RuntimeApi("arn:aws:lambda:us-east-1:123456789012:function:query-api", 15, secrets=None)
env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}", "AWS_LAMBDA_FUNCTION_NAME": "query-api",
       "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1",
       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
       "DELTAONE_VERDICT_TABLE": "verdicts", "DELTAONE_DRIFT_TABLE": "drift", "DELTAONE_CREDITS_TABLE": "credits"}
started = time.monotonic()
process = subprocess.Popen(["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", bootstrap], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
api.events.put((str(uuid.uuid4()), event))
try:
    kind, body = api.answers.get(timeout=120)
finally:
    process.kill()
    output = process.communicate()[0].decode(errors="replace")
    api.close()
answer = json.loads(body)
if kind != "response" or answer.get("statusCode") != 200:
    sys.exit(f"arm64-check: FAIL: the function answered {kind}: {body}\n{output[-2000:]}")
print(f"arm64-check: under qemu-aarch64: GET /health -> {answer['statusCode']} {answer['body']}; "
      f"process start -> first Runtime API poll {(api.first_poll - started) * 1000:.0f} ms")
PY
