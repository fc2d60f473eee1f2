#!/usr/bin/env bash
# Make sure Debian's Chromium and its driver are there for the browser tests
# (Playwright drives /usr/bin/chromium; its own browser download is not used).
# As root apt-get runs directly, otherwise through sudo without a prompt. In
# CI (CI set) a Chromium that cannot be installed fails the run; elsewhere
# the browser tests are skipped with a note.
set -euo pipefail

if [ -x /usr/bin/chromium ] && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    as_root=(none)
  fi
  if [ "${as_root[0]:-}" != none ]; then
    echo "Installing Debian's chromium and chromium-driver for the browser tests ..."
    if "${as_root[@]}" apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq \
        chromium chromium-driver >/dev/null; then
      exit 0
    fi
  fi
fi

if [ -n "${CI:-}" ]; then
  echo "FAIL: the browser tests need Debian's chromium and chromium-driver, which could not be installed." >&2
  exit 1
fi
echo "Note: chromium is missing (apt-get install chromium chromium-driver); the browser tests will be skipped."
