#!/usr/bin/env bash
# Installs playwright-core (which drives Debian's chromium: apt-get install
# chromium) into $1 (default target/e2e-catalog), once, from npm. Run by
# tests/tests/catalog_server.rs before it drives the catalog page.
set -euo pipefail
dir="${1:-$(cd "$(dirname "$0")/../../.." && pwd)/target/e2e-catalog}"
mkdir -p "$dir"
cd "$dir"
if [ -f .ready ]; then exit 0; fi
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --ignore-scripts playwright-core@1.65.1 >/dev/null
touch .ready
