#!/usr/bin/env bash
# Installs the Debian packages some suites need, only when they are missing. Needs root (CI and the
# development machines run as root); elsewhere it says what to install and carries on.
set -u
want=()
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v wrk >/dev/null 2>&1 || want+=(wrk)
command -v pgbench >/dev/null 2>&1 || want+=(postgresql-contrib)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: please install: ${want[*]} (browser tests and benchmarks need them)" >&2
  exit 0
fi
echo "system-deps: installing ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${want[@]}" >/dev/null
