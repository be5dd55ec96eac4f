#!/usr/bin/env bash
# System packages some tests need (run by `make test`): headless Chromium for
# the report rendering test. Installs only what is missing; needs root (CI is).
set -u
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian chromium for the report rendering test..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will fail"
  fi
fi
exit 0
