#!/usr/bin/env bash
# The accessibility tests inject axe-core (from the npm registry, pinned in
# tests/browser/package-lock.json) into pages; install it when it is missing.
set -euo pipefail
cd "$(dirname "$0")/browser"
if [ -f node_modules/axe-core/axe.min.js ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm is missing: install Debian's npm package (apt-get install npm)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
test -f node_modules/axe-core/axe.min.js
