#!/usr/bin/env bash
# Make a Docker engine answer on the default socket (ENGINE.md): install docker.io from Debian's
# packages when dockerd is missing, start it in the background (no systemd here), wait for it.
# Idempotent: does nothing when `docker info` already answers.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "[engine] docker engine already answers"
  exit 0
fi

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v nginx >/dev/null 2>&1 || need_pkgs+=(nginx-light)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "[engine] installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

echo "[engine] starting dockerd"
setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "[engine] docker engine answers"
    exit 0
  fi
  sleep 0.5
done
echo "[engine] dockerd did not answer within 30 s; last log lines:" >&2
tail -n 20 /var/log/dockerd.log >&2 || true
exit 1
