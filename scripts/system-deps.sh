#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing.
# As root on Debian it runs apt-get; otherwise it names what is missing and fails.
set -euo pipefail
# command-to-check:package pairs; later issues add java (Spark) and chromium (browser tests).
wanted=("java:default-jre-headless")
need=()
for pair in "${wanted[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing Debian packages (install them as root): ${need[*]}" >&2
  exit 1
fi
