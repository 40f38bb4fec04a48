#!/usr/bin/env bash
# The training benchmark of docs/training.md: tokens/s of `train embedder` steps (mnrl and
# cached-mnrl, float32 and bfloat16, batch 32) next to PyTorch eager doing the same steps, and the
# peak memory of cached-mnrl at batch 128, on the e5-base-shaped random model that
# run_engine_bench.sh makes. Figures go to stdout and bench/out/train.json.
#   bench/run_train_bench.sh [--steps N] [--batch N] [--losses mnrl,cached-mnrl] ...
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SKILLMATCH_SHARED:-$repo/../shared}"
models="${SKILLMATCH_BENCH_MODELS:-$repo/bench/out/models}"
mkdir -p "$repo/bench/out"
if [[ ! -f "$models/embedder-base-random/model.safetensors" ]]; then
  echo "making the e5-base-shaped random models in $models (about a minute, 2.2 GB)..."
  /usr/bin/python3 "$shared/tools/make_fixtures.py" "$models" --random-base
fi
lscpu | grep -E "Model name|^CPU\(s\)" || true
"$repo/build/bench/skillmatch_bench_train" --embedder "$models/embedder-base-random" \
  --skills "$repo/data/esco-de-1.1.0/skills_de_v1.1.0_enriched.csv" \
  --baseline "$repo/bench/pytorch_train_baseline.py" --json "$repo/bench/out/train.json" "$@"
