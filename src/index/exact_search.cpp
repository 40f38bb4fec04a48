#include "skillmatch/index/exact_search.h"

#include <algorithm>

namespace skillmatch {
namespace {

// Dot product with eight independent partial sums, so that the compiler vectorises it without
// reassociating floating-point additions itself.
float dot(const float* a, const float* b, std::size_t n) {
  float acc[8] = {};
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[k + l] * b[k + l];
  }
  float sum = 0;
  for (; k < n; ++k) sum += a[k] * b[k];
  for (float x : acc) sum += x;
  return sum;
}

}  // namespace

std::vector<std::pair<float, std::size_t>> exact_top_k(const Matrix& vectors, const float* query,
                                                       std::size_t k,
                                                       const std::vector<char>* allowed) {
  std::vector<std::pair<float, std::size_t>> scored;
  scored.reserve(vectors.rows);
  for (std::size_t r = 0; r < vectors.rows; ++r) {
    if (allowed && !(*allowed)[r]) continue;
    scored.push_back({dot(vectors.row(r), query, vectors.cols), r});
  }
  const std::size_t n = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  scored.resize(n);
  return scored;
}

}  // namespace skillmatch
