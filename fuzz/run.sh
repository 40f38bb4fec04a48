#!/usr/bin/env bash
# Fuzzes one target of a SKILLMATCH_FUZZ build, on one core.
#
#   fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]    (default 600 seconds)
#
# The committed corpus (fuzz/corpus/TARGET) and the regression inputs (fuzz/regressions/TARGET)
# are read; new inputs go to BUILD/fuzz-work/TARGET/new, findings to .../artifacts, the log to
# .../log. BUILD is $SKILLMATCH_FUZZ_BUILD or build-fuzz. fuzz/merge.sh TARGET folds the new
# inputs into the committed corpus.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SKILLMATCH_FUZZ_BUILD:-$repo/build-fuzz}"
target="${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}"
seconds="${2:-600}"
shift $(($# >= 2 ? 2 : 1))

exe="$build/fuzz/fuzz_$target"
[[ -x "$exe" ]] || { echo "no $exe: build with -DSKILLMATCH_FUZZ=ON (see fuzz/README.md)" >&2; exit 2; }
work="$build/fuzz-work/$target"
mkdir -p "$work/new" "$work/artifacts"

# The dictionaries of the target (libFuzzer takes one file).
case "$target" in
  tokenizer_json) dicts=(tokenizer_json json) ;;
  model_config | model_folder) dicts=(model json) ;;
  options_text) dicts=(options) ;;
  options_json) dicts=(options json) ;;
  safetensors | pytorch_bin) dicts=(safetensors json) ;;
  http_request) dicts=(http json) ;;
  jsonl | hub_answers | dataset_triples | dataset_beir | taxonomy_custom) dicts=(tables json) ;;
  csv | zip | dataset_labels | taxonomy_*) dicts=(tables) ;;
  *) dicts=() ;;
esac
dict_flags=()
if ((${#dicts[@]})); then
  for d in "${dicts[@]}"; do cat "$repo/fuzz/dict/$d.dict"; done >"$work/dict"
  dict_flags=(-dict="$work/dict")
fi
case "$target" in
  zip | taxonomy_esco_zip) max_len=16384 ;;
  *) max_len=8192 ;;
esac

corpora=("$work/new" "$repo/fuzz/corpus/$target")
[[ -d "$repo/fuzz/regressions/$target" ]] && corpora+=("$repo/fuzz/regressions/$target")

# One core: no -jobs/-workers (one process), libtorch and OpenMP on one thread. LeakSanitizer
# stays on with libtorch's start-up allocations suppressed.
export OMP_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$repo/fuzz/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
  -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "${dict_flags[@]}" "$@" "${corpora[@]}" 2>&1 | tee "$work/log"
