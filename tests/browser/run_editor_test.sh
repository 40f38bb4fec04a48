#!/usr/bin/env bash
# Real-browser test of the editor page against a real `skillmatch serve`.
#
#   tests/browser/run_editor_test.sh SKILLMATCH_BINARY WORKDIR
#
# Starts SKILLMATCH_BINARY serve on a free port of 127.0.0.1 with the tiny fixture models and a
# workspace in WORKDIR/ws (the first start imports ESCO and embeds its skills: up to 3 minutes),
# waits for GET /health to answer 200, runs tests/browser/editor_test.js (Chromium through
# playwright-core), copies its screenshots (editor-desktop.png, editor-phone.png) to WORKDIR and
# always stops the server. Exit codes: 0 pass, 1 fail, 77 skipped (no node, no playwright-core in
# tests/tools/node/node_modules or no Chromium; as GTEST_SKIP). Environment: CHROMIUM (default
# /usr/bin/chromium), SKILLMATCH_HEALTH_TIMEOUT (seconds, default 180), EDITOR_TEST_TIMEOUT
# (seconds for the browser part, default 60).
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 SKILLMATCH_BINARY WORKDIR" >&2
  exit 2
fi
BIN=$1
WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NODE_DIR=$REPO/tests/tools/node
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
HEALTH_TIMEOUT=${SKILLMATCH_HEALTH_TIMEOUT:-180}
BROWSER_TIMEOUT=${EDITOR_TEST_TIMEOUT:-60}

skip() { echo "run_editor_test: SKIP: $*"; exit 77; }
fail() { echo "run_editor_test: FAIL: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || skip "node is not installed (apt-get install nodejs npm)"
[ -f "$NODE_DIR/node_modules/playwright-core/package.json" ] ||
  skip "playwright-core is not installed (cd tests/tools/node && npm install --ignore-scripts)"
[ -x "$CHROMIUM" ] || skip "no Chromium at $CHROMIUM (apt-get install chromium)"
[ -x "$BIN" ] || fail "no skillmatch binary at $BIN"
# (an unknown subcommand followed by --help prints the main help, so look for serve's --port)
"$BIN" serve --help 2>&1 | grep -q -- '--port' || fail "$BIN has no 'serve' command"

mkdir -p "$WORK" || fail "cannot create $WORK"
WORK=$(cd "$WORK" && pwd)
OUT=$WORK/editor-test
rm -rf "$OUT"
mkdir -p "$OUT"
LOG=$WORK/server.log

# A free port: bind port 0, read the port the kernel chose, release it.
PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})") ||
  fail "no free port"
URL=http://127.0.0.1:$PORT

SERVER_PID=
# shellcheck disable=SC2317  # called from the traps
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  SERVER_PID=
}
trap stop_server EXIT
trap 'stop_server; exit 1' INT TERM

echo "run_editor_test: starting $BIN serve on $URL (workspace $WORK/ws, log $LOG)"
"$BIN" serve --workspace "$WORK/ws" --host 127.0.0.1 --port "$PORT" \
  --embedder "$REPO/tests/fixtures/embedder-mean" --reranker "$REPO/tests/fixtures/reranker" \
  >"$LOG" 2>&1 &
SERVER_PID=$!

# Wait for GET /health to answer 200 (503 while the models load and the skills are embedded).
health() {
  node -e "fetch(process.argv[1]+'/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))" "$URL"
}
START=$(date +%s)
until health; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID"; RC=$?; SERVER_PID=
    echo "--- last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2
    fail "the server exited (status $RC) before /health answered 200"
  fi
  if [ $(( $(date +%s) - START )) -ge "$HEALTH_TIMEOUT" ]; then
    echo "--- last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2
    fail "/health did not answer 200 within $HEALTH_TIMEOUT s"
  fi
  sleep 1
done
echo "run_editor_test: server ready after $(( $(date +%s) - START )) s"

CHROMIUM=$CHROMIUM node "$HERE/editor_test.js" --url "$URL" --out "$OUT" --timeout "$BROWSER_TIMEOUT"
RC=$?
for f in editor-desktop.png editor-phone.png; do
  [ -f "$OUT/$f" ] && cp "$OUT/$f" "$WORK/$f"
done
if [ $RC -ne 0 ]; then
  echo "--- last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2
  [ $RC -eq 77 ] && exit 77
  fail "the browser test failed (status $RC); artefacts in $OUT"
fi
echo "run_editor_test: PASS (screenshots in $WORK)"
exit 0
