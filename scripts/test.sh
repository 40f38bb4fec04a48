#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what is missing (Debian packages, the npm
# test packages), builds into build/ if needed, then runs every test with CTest.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/install.sh" >/dev/null
if [[ -f "$repo/tests/tools/node/package.json" && ! -d "$repo/tests/tools/node/node_modules" ]]; then
  (cd "$repo/tests/tools/node" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
ctest --test-dir "$repo/build" --output-on-failure -j"$(nproc)" "$@"
