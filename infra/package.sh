#!/usr/bin/env bash
# Builds everything terraform/ deploys, with one command:
#
#   bash infra/package.sh            every Lambda function as an arm64 zip, then the drift job image
#   bash infra/package.sh --list     print what would be built, build nothing
#
# Functions: every binary of the crates under functions/, built by
#   cargo lambda build --release --arm64 --output-format zip
# and copied to $DELTAONE_PACKAGE_DIR/lambda/<binary>.zip (default target/deploy/lambda/, the path
# terraform/examples/production reads through its package_dir variable).
#
# The drift job image (jobs/drift/Dockerfile), for linux/arm64 and linux/amd64:
#   docker buildx build --platform linux/arm64,linux/amd64 -f jobs/drift/Dockerfile -t $DELTAONE_IMAGE .
# when docker with buildx and a running engine is present; otherwise a SKIP line says why. A
# multi-platform image cannot be loaded into the local engine, so set DELTAONE_IMAGE_PUSH=1 (after
# `aws ecr get-login-password | docker login ...`) to push it to DELTAONE_IMAGE (the ECR repository
# URL and tag from `terraform output ecr_repository_url`); without it the build only checks that
# both platforms build.
#
# cargo-lambda comes from PATH, else from the local stack's virtualenv (infra/localstack/ensure-venv.sh
# installs it; it brings zig for the cross-link). Exit status: 0 when everything that could be built
# was built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${DELTAONE_PACKAGE_DIR:-$root/target/deploy}
image=${DELTAONE_IMAGE:-deltaone-drift:local}
list_only=0
case "${1:-}" in
  --list) list_only=1 ;;
  "") ;;
  -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "package.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac
say() { printf '%s\n' "package: $*"; }

# package<TAB>binary for every binary target of the crates under functions/.
functions=$(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys, os
meta = json.load(sys.stdin)
root = os.path.realpath(sys.argv[1])
for p in meta["packages"]:
    rel = os.path.relpath(os.path.dirname(os.path.realpath(p["manifest_path"])), root)
    if rel.startswith("functions" + os.sep):
        for t in p["targets"]:
            if "bin" in t["kind"]:
                print(p["name"] + "\t" + t["name"])
' "$root" | sort)
if [ -z "$functions" ]; then
  echo "package.sh: found no function binaries under functions/" >&2
  exit 1
fi

if [ "$list_only" = 1 ]; then
  while IFS=$'\t' read -r package binary; do
    say "would build $package -> $out/lambda/$binary.zip"
  done <<<"$functions"
  say "would build jobs/drift/Dockerfile for linux/arm64,linux/amd64 -> $image"
  exit 0
fi

if ! command -v cargo-lambda >/dev/null 2>&1; then
  venv=$(bash infra/localstack/ensure-venv.sh)
  export PATH="$venv/bin:$PATH"
fi
target=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$out/lambda"
packages=()
while IFS=$'\t' read -r package _; do
  packages+=(--package "$package")
done <<<"$functions"
say "cargo lambda build --release --arm64 --output-format zip ($(( ${#packages[@]} / 2 )) packages)"
cargo lambda build --release --arm64 --output-format zip --locked "${packages[@]}"
while IFS=$'\t' read -r _ binary; do
  zip="$target/lambda/$binary/bootstrap.zip"
  if [ ! -f "$zip" ]; then
    echo "package.sh: cargo lambda did not produce $zip" >&2
    exit 1
  fi
  cp "$zip" "$out/lambda/$binary.zip"
  say "$out/lambda/$binary.zip ($(du -h "$zip" | cut -f1))"
done <<<"$functions"

# The drift job image.
skip=""
if [ ! -f jobs/drift/Dockerfile ]; then
  skip="jobs/drift/Dockerfile does not exist"
elif ! command -v docker >/dev/null 2>&1; then
  skip="no docker on PATH"
elif ! docker buildx version >/dev/null 2>&1; then
  skip="docker has no buildx plugin (multi-platform builds need it)"
elif ! docker info >/dev/null 2>&1; then
  skip="no docker engine is reachable ($(docker info 2>&1 | grep -m1 -i -E 'error|cannot' || echo 'docker info failed'))"
fi
if [ -n "$skip" ]; then
  say "SKIP the drift job image: $skip. Build it where docker runs: docker buildx build --platform linux/arm64,linux/amd64 -f jobs/drift/Dockerfile -t IMAGE --push ."
  exit 0
fi
push=()
if [ "${DELTAONE_IMAGE_PUSH:-0}" = 1 ]; then
  push=(--push)
fi
say "docker buildx build --platform linux/arm64,linux/amd64 -t $image ${push[*]:-}(without DELTAONE_IMAGE_PUSH=1: built, not pushed)"
docker buildx build --platform linux/arm64,linux/amd64 -f jobs/drift/Dockerfile -t "$image" "${push[@]}" .
