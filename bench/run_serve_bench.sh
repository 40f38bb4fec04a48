#!/usr/bin/env bash
# The service load benchmark of the README: the e5-base-shaped random models (made once, as
# run_engine_bench.sh does), a workspace with ESCO and GRETA indexed by the random embedder (made
# once, about 8 minutes), then rounds of `skillmatch_bench_serve` alternating dynamic batching and
# --no-batching, so that both see the same machine (neighbours come and go). Output to stdout and
# bench/out/serve-*.txt.
#   bench/run_serve_bench.sh [--rounds 2] [--clients 64] [--seconds 30]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SKILLMATCH_SHARED:-$repo/../shared}"
out="$repo/bench/out"
models="$out/models"
rounds=2 clients=64 seconds=30
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
if [[ ! -f "$models/embedder-base-random/model.safetensors" ]]; then
  echo "making the e5-base-shaped random models in $models (about a minute, 2.2 GB)..."
  /usr/bin/python3 "$shared/tools/make_fixtures.py" "$models" --random-base
fi
ws="$out/serve-workspace"
if [[ ! -f "$ws/.indexed" ]]; then
  echo "indexing ESCO and GRETA with the random embedder into $ws (once)..."
  "$repo/build/skillmatch" index -w "$ws" -e "$models/embedder-base-random"
  touch "$ws/.indexed"
fi
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
for ((r = 1; r <= rounds; r++)); do
  for mode in batching no-batching; do
    flag=()
    [[ "$mode" == no-batching ]] && flag=(--no-batching)
    echo "== round $r, $mode"
    "$repo/build/bench/skillmatch_bench_serve" --skillmatch "$repo/build/skillmatch" \
      --workspace "$ws" --embedder "$models/embedder-base-random" \
      --reranker "$models/reranker-base-random" --clients "$clients" --seconds "$seconds" \
      "${flag[@]}" | tee "$out/serve-$mode-$r.txt"
  done
done
