#!/usr/bin/env bash
# The engine benchmark of the README: makes the e5-base-shaped random models once (with the
# fixture generator of ../shared/tools, needs python3-torch), then measures this machine's
# matrix-product limit and runs skillmatch, the PyTorch eager baseline and the ONNX Runtime
# baseline (onnxruntime-node from npm, installed into bench/onnx once) on the same ESCO passages
# in one run. Figures go to stdout and bench/out/engine.json.
#   bench/run_engine_bench.sh [--count N] [--repeat N] [--dtypes float32,bfloat16] ...
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SKILLMATCH_SHARED:-$repo/../shared}"
out="$repo/bench/out"
models="$out/models"
mkdir -p "$out"
if [[ ! -f "$models/embedder-base-random/model.safetensors" ]]; then
  echo "making the e5-base-shaped random models in $models (about a minute, 2.2 GB)..."
  /usr/bin/python3 "$shared/tools/make_fixtures.py" "$models" --random-base
fi
onnx=()
if command -v npm >/dev/null 2>&1; then
  if [[ ! -d "$repo/bench/onnx/node_modules/onnxruntime-node" ]]; then
    (cd "$repo/bench/onnx" && npm ci --no-audit --no-fund >/dev/null)
  fi
  onnx=(--onnx-baseline "$repo/bench/onnx_baseline.py")
else
  echo "no npm: the ONNX Runtime baseline is skipped" >&2
fi
cd "$out"
"$repo/build/bench/skillmatch_bench_engine" \
  --embedder "$models/embedder-base-random" --reranker "$models/reranker-base-random" \
  --skills "$shared/data/esco_de_v1.1.0/all_skills_de.csv" \
  --baseline "$repo/bench/pytorch_baseline.py" "${onnx[@]}" --cli "$repo/build/skillmatch" \
  --json "$out/engine.json" "$@"
