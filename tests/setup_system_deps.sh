#!/usr/bin/env bash
# System packages some tests need (run by `make test`): headless Chromium for the report
# rendering test (tests/quality/test_browser.py), which fails, not skips, without it.
# Installs only what is missing; installing needs root and apt-get (CI has both).
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the report rendering test..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser test will fail"
else
  echo "warning: chromium is missing and cannot be installed here (needs root and apt-get);" \
       "install it (e.g. 'sudo apt-get install chromium') or the browser test will fail"
fi
exit 0
