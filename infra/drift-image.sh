#!/usr/bin/env bash
# The drift job's image, built and run offline: run by tests/run.sh; runnable alone
# (`bash infra/drift-image.sh`; it starts the local stack's moto when DELTAONE_TEST_MOTO_URL is not set).
#
#   1. stages a context for jobs/drift/Dockerfile.offline (FROM scratch: no base image to pull) from
#      an already built deltaone-drift: $DELTAONE_DRIFT_BINARY, else the one the test build made
#      (debug profile); stripped, with the shared libraries `ldd` lists, CA certificates and a
#      passwd entry for the non-root user 10001
#   2. starts a private Docker engine (infra/docker-env.sh: Debian's docker.io, installed when
#      dockerd is missing) and builds the image; prints its size
#   3. runs it as user 10001 on mounted local files (no network) and checks its drift.json is
#      byte-identical to the binary's on the same inputs; prints the time to its first log line
#   4. runs it against moto (host network): S3 inputs and outputs, a DynamoDB drift table, and
#      checks the same drift.json again
#   5. stops the engine and removes its data, however the script ends
#
# Environment: DELTAONE_DRIFT_BINARY (a deltaone-drift for this machine), DELTAONE_DRIFT_IMAGE_TAG
# (default deltaone-drift:offline). Exit status 0 when every check held.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$SECONDS
say() { printf '%s\n' "drift-image: $*"; }
tag=${DELTAONE_DRIFT_IMAGE_TAG:-deltaone-drift:offline}

stack_started=0
if [ -z "${DELTAONE_TEST_MOTO_URL:-}" ]; then
  source infra/localstack/stack.sh
  stack_start
  stack_started=1
fi
DELTAONE_VENV=${DELTAONE_VENV:-$(infra/localstack/ensure-venv.sh)}
py="$DELTAONE_VENV/bin/python"

# The test build's binary (a no-op build after it): no second compile of the workspace.
binary=$(bash infra/drift-binary.sh)
[ -x "$binary" ] || { say "no deltaone-drift binary (set DELTAONE_DRIFT_BINARY)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/deltaone-drift-image.XXXXXX")
source infra/docker-env.sh
# One EXIT trap for everything this script started (it replaces the one stack_start set).
finish() {
  local status=$?
  docker_stop || true
  if [ "$status" = 0 ]; then rm -rf "$work"; else say "FAILED; files kept in $work"; fi
  if [ "$stack_started" = 1 ]; then set +e; (exit "$status"); stack_stop; fi
  return "$status"
}
trap finish EXIT

# 1. The context: the root file system of a container that has nothing but the job.
rootfs="$work/context/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
strip -o "$rootfs/usr/local/bin/deltaone-drift" "$binary"
# Every library the binary loads, and the loader itself, at the paths it looks them up by.
for lib in $(ldd "$binary" | grep -oE '/[^ ]+' | sort -u); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ndrift:x:10001:10001:deltaone drift job:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\ndrift:x:10001:\n' >"$rootfs/etc/group"
say "context: $(du -sh "$work/context" | cut -f1) ($(ldd "$binary" | grep -cE '/') shared libraries from ldd)"

# 2. The engine and the build.
lap=$SECONDS
docker_start
say "engine start took $(( SECONDS - lap ))s"
lap=$SECONDS
DOCKER_BUILDKIT=0 docker build --quiet -f jobs/drift/Dockerfile.offline -t "$tag" "$work/context" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$tag")
user=$(docker image inspect -f '{{.Config.User}}' "$tag")
[ "$user" = "10001:10001" ] || { say "FAIL: the image runs as '$user', expected 10001:10001"; exit 1; }
say "built $tag in $(( SECONDS - lap ))s: $(( size / 1024 / 1024 )) MiB, user $user, FROM scratch"

# 3. Mounted local files, no network; the same paths inside and out, so drift.json can be compared byte for byte.
data="$work/data"
mkdir -p "$data" "$work/out-image" "$work/out-binary"
cp samples/drift/reference.parquet samples/drift/current.parquet "$data/"
chmod 0777 "$work/out-image"
args=(run --reference "$data/reference.parquet" --current "$data/current.parquet" --run-id drift-image-check --no-progress)
"$binary" "${args[@]}" --out "$work/out-binary" >/dev/null 2>&1
first_line=$("$py" - "$tag" "$data" "$work/out-image" "${args[@]}" <<'PY'
import subprocess, sys, time
tag, data, out, *args = sys.argv[1:]
started = time.monotonic()
p = subprocess.Popen(["docker", "run", "--rm", "--network", "none", "-v", f"{data}:{data}:ro", "-v", f"{out}:{out}",
                      tag, *args, "--out", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
first = None
lines = []
for line in p.stdout:
    if first is None:
        first = time.monotonic() - started
    lines.append(line)
if p.wait() != 0:
    sys.exit("the container failed:\n" + "".join(lines[-30:]))
print(f"{first * 1000:.0f}")
PY
)
cmp "$work/out-binary/drift.json" "$work/out-image/drift.json" \
  || { say "FAIL: the container's drift.json differs from the binary's"; exit 1; }
owner=$(stat -c %u "$work/out-image/drift.json")
[ "$owner" = 10001 ] || { say "FAIL: the container wrote as uid $owner, expected 10001"; exit 1; }
say "local files: container (uid $owner, no network) drift.json identical to the binary's; first log line after ${first_line} ms (docker run -> first line)"

# 4. Against moto: S3 in and out, the drift table, host network.
suffix="$$-$(date +%s)"
bucket="drift-image-$suffix"
table="drift-image-$suffix"
"$py" - "$DELTAONE_TEST_MOTO_URL" "$bucket" "$data" <<'PY'
import sys, boto3
moto, bucket, data = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket=bucket)
for name in ("reference", "current"):
    s3.upload_file(f"{data}/{name}.parquet", bucket, f"logs/{name}.parquet")
PY
env_args=(--env "AWS_ENDPOINT_URL=$DELTAONE_TEST_MOTO_URL" --env AWS_ACCESS_KEY_ID=testing --env AWS_SECRET_ACCESS_KEY=testing --env AWS_REGION=us-east-1)
docker run --rm --network host "${env_args[@]}" "$tag" table init --table "$table" >/dev/null 2>&1
docker run --rm --network host "${env_args[@]}" \
  --env "DELTAONE_DRIFT_REFERENCE=s3://$bucket/logs/reference.parquet" --env "DELTAONE_DRIFT_CURRENT=s3://$bucket/logs/current.parquet" \
  --env "DELTAONE_DRIFT_OUTPUT=s3://$bucket/drift/" --env "DELTAONE_DRIFT_TABLE=$table" --env DELTAONE_DRIFT_MODEL=image-check \
  --env DELTAONE_DRIFT_RUN_ID=drift-image-check --env DELTAONE_DRIFT_NO_PROGRESS=true "$tag" >"$work/moto-run.log" 2>&1 \
  || { tail -n 30 "$work/moto-run.log"; say "FAIL: the container's run against moto"; exit 1; }
"$py" - "$DELTAONE_TEST_MOTO_URL" "$bucket" "$table" "$work/out-binary/drift.json" <<'PY'
import json, sys, boto3
moto, bucket, table, local = sys.argv[1:5]
kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3 = boto3.client("s3", **kw)
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="drift/").get("Contents", [])]
# An S3 output gets one prefix per run.
run = "drift/drift-image-check/"
assert run + "drift.json" in keys and run + "report.html" in keys, keys
remote = json.loads(s3.get_object(Bucket=bucket, Key=run + "drift.json")["Body"].read())
mine = json.load(open(local))
# The same statistics; only where the inputs were read from differs.
for part in ("columns", "dataset", "performance", "skipped_columns"):
    assert remote[part] == mine[part], f"{part} differs between the S3 run and the local one"
items = boto3.client("dynamodb", **kw).scan(TableName=table)["Items"]
assert any(i["pk"]["S"] == "image-check#RUN" for i in items), items
print(f"drift-image: against moto (host network): s3://{bucket}/drift/ has {len(keys)} objects, {len(items)} items in {table}; statistics equal to the local run's")
PY
say "ok in $(( SECONDS - started ))s"
