#!/usr/bin/env bash
# Folds what fuzz/run.sh found into the committed corpus, minimized by libFuzzer's -merge=1: the
# smallest set of inputs of fuzz/corpus/TARGET and BUILD/fuzz-work/TARGET/new that covers every
# feature any of them reaches (files named by their SHA-1). fuzz/regressions/ is left alone.
#
#   fuzz/merge.sh TARGET
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SKILLMATCH_FUZZ_BUILD:-$repo/build-fuzz}"
target="${1:?usage: fuzz/merge.sh TARGET}"
exe="$build/fuzz/fuzz_$target"
[[ -x "$exe" ]] || { echo "no $exe: build with -DSKILLMATCH_FUZZ=ON (see fuzz/README.md)" >&2; exit 2; }
work="$build/fuzz-work/$target"
mkdir -p "$work/new"
merged="$(mktemp -d "$build/fuzz-work/merge-$target.XXXXXX")"

export OMP_NUM_THREADS=1
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$repo/fuzz/lsan.supp:print_suppressions=0}"
"$exe" -merge=1 -max_len=1048576 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
  "$merged" "$repo/fuzz/corpus/$target" "$work/new" 2>&1 | grep -E "MERGE-OUTER|ERROR" || true
[[ -n "$(ls -A "$merged")" ]] || { echo "merge produced nothing; corpus left as it was" >&2; exit 1; }
rm -rf "$repo/fuzz/corpus/$target"
mv "$merged" "$repo/fuzz/corpus/$target"
chmod 755 "$repo/fuzz/corpus/$target"
echo "$target: $(ls "$repo/fuzz/corpus/$target" | wc -l) files," \
  "$(du -sb "$repo/fuzz/corpus/$target" | cut -f1) bytes"
