#!/usr/bin/env bash
# Builds everything terraform/ deploys, with one command:
#
#   bash infra/package.sh            every Lambda function as an arm64 zip, then the drift job image
#   bash infra/package.sh --host     every Lambda function as a zip for this machine's architecture
#                                    (x86_64 here: Terraform's architecture = "x86_64"), from a plain
#                                    `cargo build` in the dev profile, so that it reuses what the
#                                    test build compiled; no image. What tests/run.sh deploys to moto.
#   bash infra/package.sh --list     print what would be built, build nothing
#
# Functions: every binary of the crates under functions/, built by
#   cargo lambda build --release --arm64 --output-format zip       (default: as production deploys)
#   cargo build --profile $DELTAONE_PACKAGE_PROFILE (default dev)  (--host; the zip holds a stripped copy)
# and copied to $DELTAONE_PACKAGE_DIR/lambda/<binary>.zip (default target/deploy/lambda/, the path
# terraform/examples/production reads through its package_dir variable). Each zip is checked: it
# holds exactly an executable `bootstrap`; its size is printed.
#
# The drift job image (jobs/drift/Dockerfile), for linux/arm64 and linux/amd64:
#   docker buildx build --platform linux/arm64,linux/amd64 -f jobs/drift/Dockerfile -t $DELTAONE_IMAGE .
# when docker with buildx and a running engine is present; otherwise a SKIP line says why. A
# multi-platform image cannot be loaded into the local engine, so set DELTAONE_IMAGE_PUSH=1 (after
# `aws ecr get-login-password | docker login ...`) to push it to DELTAONE_IMAGE (the ECR repository
# URL and tag from `terraform output ecr_repository_url`); without it the build only checks that
# both platforms build. Offline (no public base images), infra/drift-image.sh builds a single-platform
# image from an already built binary instead.
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
host=0
for arg in "$@"; do
  case "$arg" in
    --list) list_only=1 ;;
    --host) host=1 ;;
    -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
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

host_arch=$(uname -m)
profile=${DELTAONE_PACKAGE_PROFILE:-dev}
if [ "$list_only" = 1 ]; then
  while IFS=$'\t' read -r package binary; do
    if [ "$host" = 1 ]; then
      say "would build $package ($host_arch, profile $profile) -> $out/lambda/$binary.zip"
    else
      say "would build $package (arm64, release) -> $out/lambda/$binary.zip"
    fi
  done <<<"$functions"
  [ "$host" = 1 ] || say "would build jobs/drift/Dockerfile for linux/arm64,linux/amd64 -> $image"
  exit 0
fi

target=${CARGO_TARGET_DIR:-$(cargo metadata --no-deps --format-version 1 --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')}
mkdir -p "$out/lambda"
packages=()
while IFS=$'\t' read -r package _; do
  packages+=(--package "$package")
done <<<"$functions"

# check_zip ZIP: exactly an executable bootstrap inside; prints its size.
check_zip() {
  python3 - "$1" <<'PY'
import os, stat, sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    names = z.namelist()
    if names != ["bootstrap"]:
        sys.exit(f"package.sh: {path} holds {names}, expected exactly a bootstrap")
    info = z.getinfo("bootstrap")
    if not (info.external_attr >> 16) & stat.S_IXUSR:
        sys.exit(f"package.sh: {path}: bootstrap is not executable")
    print(f"{os.path.getsize(path) / 2**20:.1f} MiB zip, bootstrap {info.file_size / 2**20:.1f} MiB")
PY
}

if [ "$host" = 1 ]; then
  started=$SECONDS
  say "cargo build --profile $profile for $host_arch ($(( ${#packages[@]} / 2 )) packages)"
  # The whole workspace's binaries, as the test command and `cargo demo` select them: a build of
  # only the function packages would unify features differently and compile dozens of crates again.
  cargo build --locked --profile "$profile" --workspace --bins
  dir=$target/$([ "$profile" = dev ] && echo debug || echo "$profile")
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  while IFS=$'\t' read -r _ binary; do
    [ -x "$dir/$binary" ] || { echo "package.sh: cargo build did not produce $dir/$binary" >&2; exit 1; }
    # Lambda runs the zip's `bootstrap`; debug symbols only make the upload larger.
    strip -o "$stage/bootstrap" "$dir/$binary"
    rm -f "$out/lambda/$binary.zip"
    python3 - "$stage/bootstrap" "$out/lambda/$binary.zip" <<'PY'
import sys, zipfile
source, zip_path = sys.argv[1:3]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(zip_path, "w") as z, open(source, "rb") as f:
    z.writestr(info, f.read(), compresslevel=1)
PY
    say "$out/lambda/$binary.zip ($host_arch): $(check_zip "$out/lambda/$binary.zip")"
  done <<<"$functions"
  say "zips for $host_arch in $(( SECONDS - started ))s (Terraform: architecture = \"$host_arch\")"
  exit 0
fi

if ! command -v cargo-lambda >/dev/null 2>&1; then
  venv=$(bash infra/localstack/ensure-venv.sh)
  export PATH="$venv/bin:$PATH"
fi
say "cargo lambda build --release --arm64 --output-format zip ($(( ${#packages[@]} / 2 )) packages)"
cargo lambda build --release --arm64 --output-format zip --locked "${packages[@]}"
while IFS=$'\t' read -r _ binary; do
  zip="$target/lambda/$binary/bootstrap.zip"
  if [ ! -f "$zip" ]; then
    echo "package.sh: cargo lambda did not produce $zip" >&2
    exit 1
  fi
  cp "$zip" "$out/lambda/$binary.zip"
  say "$out/lambda/$binary.zip (arm64): $(check_zip "$out/lambda/$binary.zip")"
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
