#!/usr/bin/env bash
# A private Docker daemon for the container backend (harness/servers/container.ts), on a machine where none runs:
#
#   eval "$(scripts/docker-daemon.sh start)"   # starts dockerd, prints the exports testcontainers needs
#   TLS_HARNESS_SERVER=container npm test
#   scripts/docker-daemon.sh stop              # stops it; fails if a tls-harness container or a mount is left
#
# The daemon has no bridge, no iptables rules and no NAT: containers use the host's network (traffic stays on
# 127.0.0.1). Everything it keeps — socket, images, container state — lives in one directory, removed on stop.
# Needs root and the docker.io package. TLS_HARNESS_DOCKER_DIR chooses the directory.
set -euo pipefail

dir="${TLS_HARNESS_DOCKER_DIR:-/tmp/tls-harness-docker}"
socket="$dir/docker.sock"
pidfile="$dir/dockerd.pid"

start() {
  if [ -S "$socket" ] && DOCKER_HOST="unix://$socket" docker version >/dev/null 2>&1; then
    echo "dockerd is already running on $socket" >&2
  else
    mkdir -p "$dir/data" "$dir/exec"
    dockerd --host "unix://$socket" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
      --iptables=false --ip-forward=false --ip-masq=false --bridge=none >"$dir/dockerd.log" 2>&1 &
    for _ in $(seq 1 100); do # up to 20 s; it is usually ready in under one
      DOCKER_HOST="unix://$socket" docker version >/dev/null 2>&1 && break
      sleep 0.2
    done
    if ! DOCKER_HOST="unix://$socket" docker version >/dev/null 2>&1; then
      echo "dockerd did not start; its log:" >&2
      cat "$dir/dockerd.log" >&2
      exit 1
    fi
  fi
  # testcontainers: this daemon, and no reaper container (Ryuk comes from a registry, which is not reachable here;
  # the backend removes its own containers).
  echo "export DOCKER_HOST=unix://$socket"
  echo "export TESTCONTAINERS_RYUK_DISABLED=true"
}

stop() {
  local left=0
  if [ -S "$socket" ]; then
    local containers
    containers=$(DOCKER_HOST="unix://$socket" docker ps --all --quiet --filter label=org.tls-harness.pid || true)
    if [ -n "$containers" ]; then
      echo "tls-harness containers left behind: $containers" >&2
      DOCKER_HOST="unix://$socket" docker rm --force $containers >/dev/null || true
      left=1
    fi
  fi
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do # up to 20 s
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # dockerd 20.10 keeps a bind mount of the host's network namespace at exec/netns/default once a container has
  # used the host network, and leaves it there when it exits: that one is the daemon's own, and goes with it.
  if awk -v m="$dir/exec/netns/default" '$2 == m { found = 1 } END { exit !found }' /proc/mounts; then
    umount "$dir/exec/netns/default"
  fi
  # Anything else still mounted below $dir (a container's root file system, a volume) was left behind.
  local mounts
  mounts=$(awk -v dir="$dir" 'index($2, dir) == 1 { print $2 }' /proc/mounts)
  if [ -n "$mounts" ]; then
    echo "mounts left behind: $mounts" >&2
    echo "$mounts" | sort -r | xargs -r umount -l
    left=1
  fi
  rm -rf "$dir"
  return "$left"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
