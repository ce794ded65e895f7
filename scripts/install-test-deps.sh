#!/usr/bin/env bash
# Installs what the test suite needs on Debian: real origins and clients (nginx + RTMP module,
# ffmpeg, srt-tools), redis-server, nats-server, wrk (benchmarks), and pnpm. Idempotent; skips what is present.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
pkgs=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || pkgs+=(ffmpeg)
command -v srt-live-transmit >/dev/null 2>&1 || pkgs+=(srt-tools)
command -v nginx >/dev/null 2>&1 || pkgs+=(nginx)
ls /usr/lib/nginx/modules/ngx_rtmp_module.so >/dev/null 2>&1 || pkgs+=(libnginx-mod-rtmp)
command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || pkgs+=(nats-server)
command -v ip >/dev/null 2>&1 || pkgs+=(iproute2)
# Headless browser for the console test (driven by playwright-core from npm).
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
# C load generator for bench/http-*.ts: does not take the servers' CPU the way a Node one does.
command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "installing: ${pkgs[*]}"
  # Another apt (unattended-upgrades, a parallel job) may hold the lock: wait for it, bounded.
  apt_wait=(-o DPkg::Lock::Timeout=600)
  $SUDO apt-get "${apt_wait[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${apt_wait[@]}" install -y -qq --no-install-recommends "${pkgs[@]}"
fi
if ! command -v pnpm >/dev/null 2>&1; then
  $SUDO npm install -g pnpm@10.34.8 >/dev/null 2>&1 || { corepack enable && corepack prepare pnpm@10.34.8 --activate; }
fi
pnpm --version >/dev/null
