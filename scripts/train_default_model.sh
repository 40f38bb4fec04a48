#!/usr/bin/env bash
# Trains skillmatch's built-in embedder from the data shipped in data/ only, and evaluates it.
#
#   scripts/train_default_model.sh [OUT_DIR] [--install] [--smoke]
#
# OUT_DIR (default bench/out/default-model) receives the training pairs, the vocabulary, the
# untrained folder, the trained model (OUT_DIR/skillmatch-esco-small, with the skill vectors of
# the shipped taxonomies in skill-vectors.bin), the training log (train.log: the loss curve) and the
# evaluation of every set of data/eval/ (OUT_DIR/eval/<set>/metrics.json and run files).
# --install copies the model to data/models/skillmatch-esco-small (what `match` uses by default).
# --smoke runs every step on a small slice in about a minute (the test suite runs it).
# TRAIN_LENGTH (default 128) cuts the training texts; the shipped model was made with 128.
# TRAIN_FLAGS adds options to `skillmatch train embedder` (e.g. --no-duplicates), for experiments.
#
# Deterministic for its seed on one machine; about 30 minutes on 2 cores. Needs a built
# skillmatch ($SKILLMATCH, default build/skillmatch) and python3-sentencepiece (vocabulary only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out/default-model
INSTALL=0
SMOKE=0
for a in "$@"; do
  case $a in
    --install) INSTALL=1 ;;
    --smoke) SMOKE=1 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) OUT=$a ;;
  esac
done
SKILLMATCH=${SKILLMATCH:-$ROOT/build/skillmatch}
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's, which has python3-sentencepiece
# The taxonomies the vectors are made of are those of this checkout, whatever the binary.
export SKILLMATCH_DATA=$ROOT/data
NAME=skillmatch-esco-small
MODEL=$OUT/$NAME  # named as shipped: the exported vectors' header names the folder
SEED=42
# The size chosen by measurement (see the model card): a 0-layer XLM-R, i.e. a static
# embedding table of 16,000 pieces x 256 with its LayerNorm, mean-pooled.
VOCAB=16000 LAYERS=0 HIDDEN=256 EPOCHS=3 BATCH=512 LR=1e-2 TRAIN_LENGTH=${TRAIN_LENGTH:-128}
STEPS_OPT=""
if [ $SMOKE = 1 ]; then VOCAB=2000 EPOCHS=1 BATCH=64 STEPS_OPT="--max-steps 3"; fi

mkdir -p "$OUT"
echo "== training pairs"
"$PYTHON" "$ROOT/scripts/default_model/make_pairs.py" --data "$ROOT/data" --out "$OUT" \
  --seed $SEED
if [ $SMOKE = 1 ]; then
  head -n 4000 "$OUT/pairs.jsonl" > "$OUT/pairs.small" && mv "$OUT/pairs.small" "$OUT/pairs.jsonl"
fi

echo "== vocabulary and untrained model"
rm -rf "$OUT/base"
"$PYTHON" "$ROOT/scripts/default_model/make_base.py" "$OUT/corpus.txt" "$OUT/base" \
  --vocab $VOCAB --layers $LAYERS --hidden $HIDDEN --max-seq-length 512

echo "== training"
rm -rf "$MODEL" "$MODEL.run"  # a failed run must not leave an older model to install
"$SKILLMATCH" train embedder --base "$OUT/base" --train "$OUT/pairs.jsonl" --out "$MODEL" \
  --loss mnrl --batch-size $BATCH --lr $LR --epochs $EPOCHS --max-length $TRAIN_LENGTH --seed $SEED \
  --log-steps 50 $STEPS_OPT ${TRAIN_FLAGS:-} 2>&1 | tee "$OUT/train.log"
# Trained on texts cut at 128 ids (the trainer saves that as max_seq_length); it reads course
# texts of up to 512 ids (wdb-courses-de dense MRR@10 0.38 at 128, 0.53 at 512).
"$PYTHON" - "$MODEL/sentence_bert_config.json" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    config = json.load(f)
config["max_seq_length"] = 512
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
PY

echo "== skill vectors of the shipped taxonomies"
WS=$OUT/vectors-workspace  # what a fresh install has: ESCO German and GRETA
rm -rf "$WS"
"$SKILLMATCH" match -w "$WS" --mode bm25 "Buchhaltung" > /dev/null
"$SKILLMATCH" index -w "$WS" --embedder "$MODEL" --dtype float32 --export-vectors "$OUT/skill-vectors.bin"
mv "$OUT/skill-vectors.bin" "$MODEL/skill-vectors.bin"

if [ $SMOKE = 0 ]; then
  echo "== evaluation"
  "$ROOT/scripts/default_model/evaluate.sh" "$MODEL" "$OUT/eval" "$SKILLMATCH"
fi

if [ $INSTALL = 1 ]; then
  rm -rf "$ROOT/data/models/$NAME.new"
  mkdir -p "$ROOT/data/models"
  cp -r "$MODEL" "$ROOT/data/models/$NAME.new"
  # Keep the model card of the checkout.
  if [ -f "$ROOT/data/models/$NAME/README.md" ]; then
    cp "$ROOT/data/models/$NAME/README.md" "$ROOT/data/models/$NAME.new/"
  fi
  rm -rf "$ROOT/data/models/$NAME"
  mv "$ROOT/data/models/$NAME.new" "$ROOT/data/models/$NAME"
  echo "installed data/models/$NAME"
fi
sha256sum "$MODEL/model.safetensors"
