#!/usr/bin/env bash
# Installs every build and test dependency from Debian's archive, then builds skillmatch.
# Usage: scripts/install.sh [build-dir]   (default: build; extra CMake flags via CMAKE_ARGS)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$repo/build}"

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libdnnl-dev libopenblas0-pthread libfaiss-dev libsqlite3-dev
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libgtest-dev libbenchmark-dev zlib1g-dev
  # the PyTorch baseline of the benchmark, the test-data generators, the built-in model's
  # recipe (SentencePiece) and the peak-memory figures of the benchmarks (time)
  python3 python3-torch python3-sentencepiece python3-numpy time
  # tests only: the browser test of the editor's page
  chromium
)
# tests only: Node.js and npm for the tokenizer cross-check and the browser test, unless the
# machine has them already (e.g. from another source; Debian's npm would conflict with that)
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# shellcheck disable=SC2086
cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-}
cmake --build "$build_dir" -j"$(nproc)"
echo "skillmatch built: $build_dir/skillmatch"
