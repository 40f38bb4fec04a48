#!/bin/sh
# Evaluates an embedder against BM25 on every set of data/eval/, as the README's table reports:
# BM25 alone, the model alone (dense) and both fused (hybrid, RRF), as `skillmatch match` does by
# default (30 candidates, each retriever's top 100 fused), metrics at 10. Each set's TREC run files, qrels and
# metrics.json land in OUT/<set>/ and are recomputed by tests/tools/check_eval_run.py.
#
#   scripts/default_model/evaluate.sh MODEL OUT [SKILLMATCH]
#
# The German set runs on what a fresh install has (ESCO German and GRETA: OUT/workspace-de), the
# English sets on a workspace of the shipped English ESCO export alone (OUT/workspace-en), so
# that BM25's term statistics are those of one language.
set -eu
MODEL=$1
OUT=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SKILLMATCH=${3:-$ROOT/build/skillmatch}
PYTHON=${PYTHON:-/usr/bin/python3}
export SKILLMATCH_DATA=$ROOT/data
mkdir -p "$OUT"
# Made anew each time (a few seconds), so that BM25 is that of this binary.
rm -rf "$OUT/workspace-de" "$OUT/workspace-en"
"$SKILLMATCH" match -w "$OUT/workspace-de" --mode bm25 "Buchhaltung" > /dev/null
"$SKILLMATCH" import esco -w "$OUT/workspace-en" --language en \
  "$ROOT/data/esco-en-1.1.0/ESCO dataset - v1.1.0 - classification - en - csv.zip" > /dev/null

run() {  # NAME DATASET de|en OPTIONS...
  name=$1
  set=$2
  ws=$OUT/workspace-$3
  shift 3
  rm -rf "$OUT/$name"
  "$SKILLMATCH" eval -w "$ws" "$ROOT/data/eval/$set" -e "$MODEL" --dtype float32 --depth 30 \
    --accuracy-at 1,10 --precision-recall-at 10 --mrr-at 10 --ndcg-at 10 --map-at 30 \
    -c name=bm25,mode=bm25 -c name=dense,mode=dense -c name=hybrid,mode=hybrid \
    -o "$OUT/$name" "$@"
  "$PYTHON" "$ROOT/tests/tools/check_eval_run.py" "$OUT/$name"
}

run wdb-courses-de wdb-courses-de.jsonl de
# The query is one of the skill's English alternative labels: BM25 leaves that field out.
run esco-en-altlabels esco-en-altlabels.jsonl en --bm25-weights 3,0,1
run techwolf-jobs-en techwolf-jobs-en.csv en
