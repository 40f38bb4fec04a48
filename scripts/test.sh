#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what is missing (Debian packages, the npm
# test packages), builds into build/ if needed, then runs every test with CTest.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/install.sh" >/dev/null
# The npm test packages (Hugging Face's tokenizers, playwright-core), from the lock file.
node_dir="$repo/tests/tools/node"
if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.package-lock.json" 2>/dev/null; then
  (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
ctest --test-dir "$repo/build" --output-on-failure -j"$(nproc)" "$@"
