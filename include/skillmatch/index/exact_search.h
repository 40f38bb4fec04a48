// Exact top-k by inner product over the rows of a matrix: the dense retriever's default path
// (cosine, since the vectors are normalised). Pure function, thread-safe.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "skillmatch/core/matrix.h"

namespace skillmatch {

// The (score, row) of the best `k` rows for `query` (vectors.cols floats), best first, ties by
// row; only rows with allowed[row] != 0 when `allowed` is given (size vectors.rows).
std::vector<std::pair<float, std::size_t>> exact_top_k(const Matrix& vectors, const float* query,
                                                       std::size_t k,
                                                       const std::vector<char>* allowed = nullptr);

}  // namespace skillmatch
