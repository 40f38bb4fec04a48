#!/usr/bin/env bash
# Speed of the out-of-the-box `match` with the built-in model (data/models/skillmatch-esco-small):
#   - the first CLI call on an empty workspace (import of the shipped taxonomies, loading the
#     model, taking its shipped skill vectors, matching), wall time;
#   - later CLI calls (process start, model load, match), p50 of 7, beside BM25-only CLI calls in
#     the same run as the baseline;
#   - matches inside one process (skillmatch_bench_match: dense, BM25, hybrid; a batch of 64).
# Course texts: the 19 German courses of ../shared/data/wdb_brandenburg_courses_de.
#   bench/run_default_model_bench.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SKILLMATCH_SHARED:-$repo/../shared}"
cli="$repo/build/skillmatch"
model="$repo/data/models/skillmatch-esco-small"
courses="$shared/data/wdb_brandenburg_courses_de/all_courses_control.csv"
out="$repo/bench/out/default-model-bench"
rm -rf "$out"
mkdir -p "$out"
text="Python für Einsteiger: Variablen, Schleifen, Funktionen und erste kleine Programme"

now() { date +%s.%N; }
p50() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
t0=$(now)
"$cli" match -w "$out/ws" "$text" > "$out/first.txt" 2> "$out/first.err"
t1=$(now)
echo "first match, empty workspace: $(awk "BEGIN {print $t1 - $t0}") s"
for mode in hybrid bm25; do
  for i in 1 2 3 4 5 6 7; do
    t0=$(now)
    "$cli" match -w "$out/ws" --mode $mode "$text" > /dev/null 2>&1
    t1=$(now)
    awk "BEGIN {print $t1 - $t0}"
  done | p50 | xargs printf "later CLI match --mode %-6s p50: %s s\n" $mode
done
/usr/bin/time -f "peak memory of a later hybrid CLI match: %M KiB" \
  "$cli" match -w "$out/ws" "$text" > /dev/null 2> "$out/time.err"
tail -1 "$out/time.err"
cd "$out"
"$repo/build/bench/skillmatch_bench_match" --embedder "$model" --data "$repo/data" \
  --courses "$courses" --dtype float32 --workspace "$out/bench-ws" --runs 40
