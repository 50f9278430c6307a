# shellcheck shell=bash
# Sourced by scripts that need a Docker engine (infra/drift-image.sh): a private dockerd of their
# own, started and always stopped by them, so that nothing is left running and a machine's own
# engine (if any) is never touched.
#
#   docker_start   installs Debian's docker.io when dockerd is missing (apt-get; needs root), starts
#                  dockerd with its data, exec root, pidfile and socket under a fresh temporary
#                  directory, waits until it answers, exports DOCKER_HOST
#   docker_stop    stops it, unmounts what it left mounted and removes the directory; call it from
#                  the script's EXIT trap (one trap per script: a second `trap ... EXIT` replaces it)
#
# The engine runs without iptables and without a bridge (--iptables=false --bridge=none) and on
# the vfs storage driver, which work in VMs without overlayfs or netfilter: containers use
# `--network host` (to reach servers on loopback) or `--network none`.

_docker_dir=""
_docker_pid=""

docker_start() {
  if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "docker: dockerd is missing and installing Debian's docker.io needs root (apt-get install docker.io)" >&2
      return 1
    fi
    echo "docker: installing Debian's docker.io (apt-get; once per machine)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >&2; } \
      || return 1
  fi
  # A short path: the engine's sockets must fit in a unix socket address (108 bytes).
  _docker_dir=$(mktemp -d /tmp/d1-docker.XXXXXX)
  dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs \
    --data-root "$_docker_dir/data" --exec-root "$_docker_dir/exec" --pidfile "$_docker_dir/dockerd.pid" \
    --host "unix://$_docker_dir/docker.sock" >"$_docker_dir/dockerd.log" 2>&1 &
  _docker_pid=$!
  export DOCKER_HOST="unix://$_docker_dir/docker.sock"
  local waited=0
  until docker version >/dev/null 2>&1; do
    if ! kill -0 "$_docker_pid" 2>/dev/null || [ "$waited" -ge 60 ]; then
      echo "docker: dockerd did not start; its log ends with:" >&2
      tail -n 20 "$_docker_dir/dockerd.log" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "docker: engine $(docker version --format '{{.Server.Version}}') up in ~${waited}s at $DOCKER_HOST" >&2
}

docker_stop() {
  local status=$?
  if [ -n "$_docker_pid" ]; then
    kill -TERM "$_docker_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$_docker_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "$_docker_pid" 2>/dev/null || true
    wait "$_docker_pid" 2>/dev/null || true
    _docker_pid=""
  fi
  if [ -n "$_docker_dir" ]; then
    # dockerd leaves its network namespace file bind-mounted under the exec root.
    local mount
    for mount in $(awk -v dir="$_docker_dir/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r); do
      umount "$mount" 2>/dev/null || true
    done
    rm -rf "$_docker_dir" 2>/dev/null || true
    _docker_dir=""
  fi
  unset DOCKER_HOST
  return "$status"
}
