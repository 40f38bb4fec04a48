// A dense row-major float matrix: the result type of embedding calls.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace skillmatch {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> data;  // rows * cols values, row i at data[i * cols]

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), data(r * c, 0.0f) {}

  float* row(std::size_t i) noexcept { return data.data() + i * cols; }
  const float* row(std::size_t i) const noexcept { return data.data() + i * cols; }
};

// The dot product of two float vectors of `n` values, summed in double in index order (the
// exact reference that explanation spans, mining margins and shipped-vector probes use; the
// dense index's scan has its own float kernel).
inline double dot_double(const float* a, const float* b, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}

// The cosine of two float vectors of `n` values, from dot_double (0 for a zero vector).
inline double cosine_double(const float* a, const float* b, std::size_t n) noexcept {
  return dot_double(a, b, n) /
         std::sqrt(std::max(dot_double(a, a, n) * dot_double(b, b, n), 1e-300));
}

}  // namespace skillmatch
