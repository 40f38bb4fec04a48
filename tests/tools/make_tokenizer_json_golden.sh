#!/bin/sh
# Regenerates tests/data/tokenizer_json/:
#   {legacy,current}/tokenizer.json   skillmatch's writer (tokenizer_json_from_sentencepiece) for
#                                     tests/fixtures/tokenizer/sentencepiece.bpe.model, in the
#                                     older and the current transformers converter's layout
#   {legacy,current}_expected.jsonl   the ids Hugging Face's Rust tokenizers (npm package
#                                     @anush008/tokenizers, tokenizers 0.22) gives for the inputs
#                                     of tests/tools/tokenizer_json_inputs.py with those files
# Needs a build (BUILD=build by default), node and npm (the packages are installed on first use).
# Run from anywhere: tests/tools/make_tokenizer_json_golden.sh
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
OUT=tests/data/tokenizer_json

SKILLMATCH_WRITE_TOKENIZER_JSON=1 "$BUILD/tests/skillmatch_tests" \
  --gtest_filter='TokenizerJsonFiles.WriterReproducesCommittedFiles' > /dev/null
[ -d tests/tools/node/node_modules ] || (cd tests/tools/node && npm ci --ignore-scripts)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 tests/tools/tokenizer_json_inputs.py > "$tmp/inputs.jsonl"
for layout in legacy current; do
  node tests/tools/node/hf_tokenize.js "$OUT/$layout/tokenizer.json" < "$tmp/inputs.jsonl" > "$tmp/$layout.ids"
  /usr/bin/python3 tests/tools/tokenizer_json_inputs.py --merge "$tmp/inputs.jsonl" "$tmp/$layout.ids" \
    > "$OUT/${layout}_expected.jsonl"
  echo "$OUT/${layout}_expected.jsonl: $(wc -l < "$OUT/${layout}_expected.jsonl") inputs"
done
