#!/usr/bin/env bash
# Make everything the tests need present on this machine (ENGINE.md): Debian packages for the
# Docker engine, docker-compose, iproute2 (the second "remote" engine's namespace), nginx (proxy
# benchmark peer), promtool (alert rules), chromium (report.html is read in a headless
# browser), openssh-server and openssl (ssh:// and TLS engines); then start dockerd in the
# background (no systemd here) and wait until it answers.
# Idempotent: installs only what is missing, starts only when `docker info` does not answer.
set -euo pipefail

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v nsenter >/dev/null 2>&1 || need_pkgs+=(util-linux)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx-light)
command -v promtool >/dev/null 2>&1 || need_pkgs+=(prometheus)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
# ssh:// and TLS engines (test/integration/runtime-engines.test.ts): sshd in the namespace, openssl for certificates.
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need_pkgs+=(openssh-client)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "[engine] installing ${need_pkgs[*]}"
  apt-get update -qq
  # policy-rc.d 101: packages must not start their services (prometheus, nginx) on install.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if docker info >/dev/null 2>&1; then
  echo "[engine] docker engine already answers"
  exit 0
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
