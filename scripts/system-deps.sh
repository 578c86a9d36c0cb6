#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing.
# As root on Debian it runs apt-get; otherwise it names what is missing and fails.
set -euo pipefail
# command-or-file-to-check:package pairs. chromium drives the browser tests (Playwright
# uses it, never a downloaded browser); WenQuanYi Zen Hei is the Chinese font embedded in
# credit report PDFs and the regional-analysis charts; DejaVu Sans and Symbola are the
# report's fallbacks for what it lacks (Latin accents, combining marks, symbols, emoji);
# poppler-utils turns report PDFs into images for review; wrk sends the API benchmark's
# load from a second process; pg_dump and pg_restore back up and restore a PostgreSQL store
# (`creditgov backup`; the client must be of the server's major version or newer); the
# PostgreSQL JDBC driver lets Spark's executors read a PostgreSQL store's subjects.
wanted=("java:default-jre-headless" "/usr/share/java/postgresql.jar:libpostgresql-jdbc-java" "chromium:chromium" "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc:fonts-wqy-zenhei"
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core"
        "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf:fonts-symbola" "wrk:wrk"
        "pg_dump:postgresql-client")
need=()
for pair in "${wanted[@]}"; do
  what="${pair%%:*}"
  if [ "${what:0:1}" = "/" ]; then
    [ -e "$what" ] || need+=("${pair#*:}")
  else
    command -v "$what" >/dev/null 2>&1 || need+=("${pair#*:}")
  fi
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing Debian packages (install them as root): ${need[*]}" >&2
  exit 1
fi
